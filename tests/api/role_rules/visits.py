"""Role rules of the visit routes (the schedule, booking, rescheduling, confirmation attempts).

Decided: readers (admin, operator, viewer) read the schedule and a visit; staff (admin,
operator) book, change and record confirmation attempts; a driver reads the schedule
only, reduced to their own car's day (the matrix's driver has no car: an empty day).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from storage.clock import local_today
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
    """A visit today in the car whose team today has the matrix's driver (so the driver may mark it)."""
    from tests.api.role_rules.fleet import _driver_team_today

    car_id = _driver_team_today()
    today = local_today()
    with unit_of_work() as session:
        slot = {"patient_id": make_patient(session).id, "car_id": car_id,
                "start": at("07:20", today).isoformat(), "end": at("08:00", today).isoformat()}
        return visit_service.create(session, slot, actor_id=None)[0].id


SUCCESS = {
    ("GET", "/api/v1/visits"): (lambda: {"params": {"date": DAY.isoformat()}}, 200),
    ("POST", "/api/v1/visits"): (lambda: {"json": _slot()}, 201),
    ("GET", "/api/v1/visits/{visit_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/visits/{visit_id}"): (lambda: {"json": {"status": "collected", "reason": "teste"}}, 200),
    ("POST", "/api/v1/visits/{visit_id}/confirmation-attempts"): (
        lambda: {"json": {"channel": "phone", "outcome": "no_answer"}}, 201),
}

DECIDED = {
    "GET /api/v1/visits": ["admin", "driver", "operator", "viewer"],
    "POST /api/v1/visits": STAFF,
    "GET /api/v1/visits/{visit_id}": READERS,
    # A driver: only collected/no-show on their own car's visits that day (403 otherwise, by the route).
    "PATCH /api/v1/visits/{visit_id}": ["admin", "driver", "operator"],
    "POST /api/v1/visits/{visit_id}/confirmation-attempts": STAFF,
}

PATH_PARAMS = {"visit_id": _new_visit}
