"""Role rules of the bulk routes.

Decided: bulk actions change or export many patients at once, so only staff (admin,
operator) create them, follow them and download an export; viewers and drivers get 403.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.audit.service import Actor
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.imports import visit_writer
from storage.jobs import service as job_service
from storage.patients import service as patient_service
from storage.users.models import User
from tests.factories import visit_content

STAFF = ["admin", "operator"]


def _new_export() -> str:
    """A finished CSV export of one new visit (so its download answers 200), made by the matrix's operator (so
    a cancel reaches the job's own rule: 409, it is finished)."""
    from workers.tasks.jobs import run_job

    start = datetime.combine(job_service.local_today() + timedelta(days=1), time(6, 40), ZoneInfo("America/Sao_Paulo"))
    with unit_of_work() as session:
        car = car_service.get_or_create_by_source_key(session, "999|CARRO MATRIZ", {"label": "CARRO MATRIZ"}).id
        patient = patient_service.create(session, {"name": "Paciente do Lote"}).id
        (visit,) = visit_writer.insert_many(session, [visit_content(patient, car, start)], import_id=None)
        operator = session.scalar(select(User.id).where(User.role == "operator").order_by(User.created_at))
        job_id = job_service.create(session, "export", {"format": "csv"}, actor=Actor(operator, "operator"),
                                    visit_ids=[visit]).id
    run_job(job_id)
    return job_id


SUCCESS = {
    ("POST", "/api/v1/bulk"): (
        lambda: {"json": {"action": "add_tags", "visit_ids": ["00000000-0000-0000-0000-000000000000"],
                          "params": {"tags": ["matriz"]}}},
        202,
    ),
    ("GET", "/api/v1/bulk/{job_id}"): (lambda: {}, 200),
    ("GET", "/api/v1/bulk"): (lambda: {}, 200),
    ("POST", "/api/v1/bulk/preview"): (
        lambda: {"json": {"action": "add_tags", "visit_ids": ["00000000-0000-0000-0000-000000000000"]}}, 200),
    # Both may cancel the operator's job; it is finished already.
    ("POST", "/api/v1/bulk/{job_id}/cancel"): (lambda: {}, 409),
    ("GET", "/api/v1/bulk/{job_id}/download"): (lambda: {}, 200),
}
DECIDED = {
    "POST /api/v1/bulk": STAFF,
    "GET /api/v1/bulk": STAFF,
    "POST /api/v1/bulk/preview": STAFF,
    "POST /api/v1/bulk/{job_id}/cancel": STAFF,
    "GET /api/v1/bulk/{job_id}": STAFF,
    "GET /api/v1/bulk/{job_id}/download": STAFF,
}
PATH_PARAMS = {"job_id": _new_export}
