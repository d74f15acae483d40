"""Role rules of the visit routes (the schedule, booking, rescheduling, confirmation attempts).

Decided: readers (admin, operator, viewer) read the schedule and a visit; staff (admin,
operator) book, change and record confirmation attempts; a driver reads the schedule
only, reduced to their own car's day (the matrix's driver has no car: an empty day).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from storage.db import unit_of_work
from storage.visits import service as visit_service
from tests.storage.visits.helpers import DAY, at, make_car, make_patient

_days = itertools.count(1)
READERS, STAFF = ["admin", "operator", "viewer"], ["admin", "operator"]


def _slot() -> dict:
    """A patient and a car of their own, on a day of their own: nothing overlaps."""
    day = DAY + timedelta(days=next(_days))
    with unit_of_work() as session:
        return {"patient_id": make_patient(session).id, "car_id": make_car(session, label="CARRO MATRIZ").id,
                "start": at("07:20", day).isoformat(), "end": at("08:00", day).isoformat()}


def _new_visit() -> str:
    slot = _slot()
    with unit_of_work() as session:
        return visit_service.create(session, slot, actor_id=None)[0].id


SUCCESS = {
    ("GET", "/api/v1/visits"): (lambda: {"params": {"date": DAY.isoformat()}}, 200),
    ("POST", "/api/v1/visits"): (lambda: {"json": _slot()}, 201),
    ("GET", "/api/v1/visits/{visit_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/visits/{visit_id}"): (lambda: {"json": {"status": "cancelled", "reason": "teste"}}, 200),
    ("POST", "/api/v1/visits/{visit_id}/confirmation-attempts"): (
        lambda: {"json": {"channel": "phone", "outcome": "no_answer"}}, 201),
}

DECIDED = {
    "GET /api/v1/visits": ["admin", "driver", "operator", "viewer"],
    "POST /api/v1/visits": STAFF,
    "GET /api/v1/visits/{visit_id}": READERS,
    "PATCH /api/v1/visits/{visit_id}": STAFF,
    "POST /api/v1/visits/{visit_id}/confirmation-attempts": STAFF,
}

PATH_PARAMS = {"visit_id": _new_visit}
