"""Role rules of the fleet routes: cars, drivers, collectors, teams and the route sheet.

Decided: readers (admin, operator, viewer) read cars, drivers, collectors and teams; staff
(admin, operator) create and change them and undo a team (planning the day is operators'
work); only admins delete a car, a driver or a collector. The route sheet is for staff and
for the driver of that car on that day, so the `car_id` used here is put in today's team of
the matrix's driver account.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from api.security import local_today
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.teams import repo as team_repo
from storage.teams import service as team_service
from storage.users.models import User

_days = itertools.count(1)
READERS, STAFF, ADMIN = ["admin", "operator", "viewer"], ["admin", "operator"], ["admin"]


def _car(session) -> str:
    return car_service.create(session, {"label": "CARRO MATRIZ", "base": "BASE TESTE"}).id


def _driver_team_today() -> str:
    """A new car whose team today has every driver account of the matrix (moved from any earlier car)."""
    today = local_today()
    with unit_of_work() as session:
        car_id = _car(session)
        for user_id in session.scalars(select(User.id).where(User.role == "driver")):
            driver = team_repo.driver_of_user(session, user_id) or team_service.create_member(
                session, "driver", {"name": "Motorista da Matriz", "user_id": user_id})
            earlier = team_repo.team_of_member(session, "driver", driver.id, today)
            if earlier is not None:
                team_service.delete_team(session, earlier.id)
            collector = team_service.create_member(session, "collector", {"name": "Coletora da Matriz"})
            team_service.assign(session, {"car_id": car_id, "day": today, "driver_id": driver.id,
                                          "collector_id": collector.id})
    return car_id


def _new_driver() -> str:
    with unit_of_work() as session:
        return team_service.create_member(session, "driver", {"name": "Motorista Alvo", "phone": "21998765432"}).id


def _new_collector() -> str:
    with unit_of_work() as session:
        return team_service.create_member(session, "collector", {"name": "Coletora Alvo"}).id


def _team_parts() -> dict[str, str]:
    """A car, a driver and a collector free on a day of their own."""
    with unit_of_work() as session:
        return {
            "car_id": _car(session),
            "driver_id": team_service.create_member(session, "driver", {"name": "Motorista Equipe"}).id,
            "collector_id": team_service.create_member(session, "collector", {"name": "Coletora Equipe"}).id,
            "date": (date(2030, 1, 1) + timedelta(days=next(_days))).isoformat(),
        }


def _new_team() -> str:
    parts = _team_parts()
    day = parts.pop("date")
    with unit_of_work() as session:
        return team_service.assign(session, {**parts, "day": day}).id


def _assignment_request() -> dict:
    _driver_team_today()
    return {}


SUCCESS = {
    ("GET", "/api/v1/cars"): (lambda: {"params": {"status": "active"}}, 200),
    ("POST", "/api/v1/cars"): (lambda: {"json": {"label": "CARRO 9", "plate": f"ABC{uuid.uuid4().int % 10000:04d}"}},
                               201),
    ("GET", "/api/v1/cars/{car_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/cars/{car_id}"): (lambda: {"json": {"model": "Fiat Doblò"}}, 200),
    ("DELETE", "/api/v1/cars/{car_id}"): (lambda: {}, 204),
    ("GET", "/api/v1/cars/{car_id}/route-sheet"): (lambda: {}, 200),
    ("POST", "/api/v1/cars/{car_id}/route-sheet/link"): (lambda: {}, 201),
    ("GET", "/api/v1/drivers"): (lambda: {}, 200),
    ("POST", "/api/v1/drivers"): (lambda: {"json": {"name": "Novo Motorista", "phone": "(21) 99876-5432"}}, 201),
    ("GET", "/api/v1/drivers/me/assignment"): (_assignment_request, 200),
    ("GET", "/api/v1/drivers/{driver_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/drivers/{driver_id}"): (lambda: {"json": {"status": "inactive"}}, 200),
    ("DELETE", "/api/v1/drivers/{driver_id}"): (lambda: {}, 204),
    ("GET", "/api/v1/collectors"): (lambda: {}, 200),
    ("POST", "/api/v1/collectors"): (lambda: {"json": {"name": "Nova Coletora"}}, 201),
    ("GET", "/api/v1/collectors/{collector_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/collectors/{collector_id}"): (lambda: {"json": {"phone": "21 3456-7890"}}, 200),
    ("DELETE", "/api/v1/collectors/{collector_id}"): (lambda: {}, 204),
    ("GET", "/api/v1/teams"): (lambda: {"params": {"date": "2025-06-19"}}, 200),
    ("POST", "/api/v1/teams"): (lambda: {"json": _team_parts()}, 201),
    ("GET", "/api/v1/teams/{team_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/teams/{team_id}"): (lambda: {"json": {"notes": "sair às 6h"}}, 200),
    ("DELETE", "/api/v1/teams/{team_id}"): (lambda: {}, 204),
}

DECIDED = {
    "GET /api/v1/cars": READERS,
    "POST /api/v1/cars": STAFF,
    "GET /api/v1/cars/{car_id}": READERS,
    "PATCH /api/v1/cars/{car_id}": STAFF,
    "DELETE /api/v1/cars/{car_id}": ADMIN,
    "GET /api/v1/cars/{car_id}/route-sheet": ["admin", "driver", "operator"],
    "POST /api/v1/cars/{car_id}/route-sheet/link": ["admin", "driver", "operator"],
    "GET /api/v1/drivers": READERS,
    "POST /api/v1/drivers": STAFF,
    "GET /api/v1/drivers/me/assignment": ["driver"],
    "GET /api/v1/drivers/{driver_id}": READERS,
    "PATCH /api/v1/drivers/{driver_id}": STAFF,
    "DELETE /api/v1/drivers/{driver_id}": ADMIN,
    "GET /api/v1/collectors": READERS,
    "POST /api/v1/collectors": STAFF,
    "GET /api/v1/collectors/{collector_id}": READERS,
    "PATCH /api/v1/collectors/{collector_id}": STAFF,
    "DELETE /api/v1/collectors/{collector_id}": ADMIN,
    "GET /api/v1/teams": READERS,
    "POST /api/v1/teams": STAFF,
    "GET /api/v1/teams/{team_id}": READERS,
    "PATCH /api/v1/teams/{team_id}": STAFF,
    "DELETE /api/v1/teams/{team_id}": STAFF,
}

PATH_PARAMS = {
    "car_id": _driver_team_today,
    "driver_id": _new_driver,
    "collector_id": _new_collector,
    "team_id": _new_team,
}
