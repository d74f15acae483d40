"""Role rules of the message routes.

Decided: staff (admin, operator) send messages to patients (and preview them), follow the daily reminder
and work the confirmation queue; readers (admin, operator,
viewer) read a patient's message log (viewers see phones masked). Drivers neither. The
provider webhooks are public (signature-verified) and listed in test_roles.PUBLIC.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage import outbox
from storage.db import unit_of_work
from storage.messages.service import local_today
from storage.patients import service as patient_service
from storage.visits.models import Visit


def _visit_with_mobile() -> str:
    """A committed patient with a mobile phone and a visit tomorrow (a message to it is accepted)."""
    start = datetime.combine(local_today() + timedelta(days=1), time(7, 20), ZoneInfo("America/Sao_Paulo"))
    with unit_of_work() as session:
        patient = patient_service.create(session, {"name": "Paciente da Mensagem", "phones": ["(11) 98765-4321"]})
        visit = Visit(patient_id=patient.id, start_at=start, end_at=start + timedelta(minutes=40),
                      visit_date=start.date(), status="scheduled", confirmation_status="pending")
        session.add(visit)
        session.flush()
        outbox.record(session, "visit", visit.id)
        return visit.id


def _patient_with_mobile() -> str:
    with unit_of_work() as session:
        return patient_service.create(session, {"name": "Paciente do Histórico", "phones": ["(11) 98765-4321"]}).id


SUCCESS = {
    ("POST", "/api/v1/messages"): (
        lambda: {"json": {"visit_id": _visit_with_mobile(), "template": "confirmation_request", "channel": "sms"}},
        202,
    ),
    ("GET", "/api/v1/messages"): (lambda: {"params": {"patient_id": _patient_with_mobile()}}, 200),
    ("POST", "/api/v1/messages/preview"): (
        lambda: {"json": {"visit_id": _visit_with_mobile(), "template": "reminder", "channel": "whatsapp"}}, 200),
    ("GET", "/api/v1/messages/reminder"): (lambda: {}, 200),
    ("GET", "/api/v1/messages/reminder/recipients"): (lambda: {}, 200),
    ("GET", "/api/v1/confirmations/queue"): (lambda: {}, 200),
}
DECIDED = {
    "POST /api/v1/messages/preview": ["admin", "operator"],
    "GET /api/v1/messages/reminder": ["admin", "operator"],
    "GET /api/v1/messages/reminder/recipients": ["admin", "operator"],
    # The confirmation queue shows every open visit's phones: staff work.
    "GET /api/v1/confirmations/queue": ["admin", "operator"],
    "POST /api/v1/messages": ["admin", "operator"],
    "GET /api/v1/messages": ["admin", "operator", "viewer"],
}
PATH_PARAMS: dict = {}
