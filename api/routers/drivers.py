"""Drivers, collectors and teams: readers read, staff write, admins delete people; a driver reads their assignment.

Staff phones are personal data: viewers get them masked (`phone` null, `phone_masked`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import SessionDep, commit
from api.paging import Cursor, ListLimit
from api.schemas.types import IsoDate
from api.schemas.fleet import (
    CarBrief,
    CollectorCreate,
    CollectorPage,
    CollectorRead,
    CollectorUpdate,
    DriverAssignment,
    DriverCreate,
    DriverPage,
    DriverRead,
    DriverUpdate,
    PersonStatus,
    TeamCreate,
    TeamPage,
    TeamRead,
    TeamUpdate,
)
from api.security import ADMIN, READERS, STAFF, CurrentUser, DriverCarOnDate, allow, local_today
from storage.cars import repo as car_repo
from storage.errors import NotFound
from storage.teams import repo as team_repo
from storage.teams import service as team_service

drivers = APIRouter(prefix="/api/v1/drivers", tags=["drivers"])
collectors = APIRouter(prefix="/api/v1/collectors", tags=["collectors"])
teams = APIRouter(prefix="/api/v1/teams", tags=["teams"])

StatusFilter = Annotated[PersonStatus | None, Query(alias="status")]
DateParam = Annotated[IsoDate | None, Query(alias="date")]


def _reveal(user) -> bool:
    """Staff see staff phones; viewers get them masked."""
    return user.role in STAFF


# ---------------------------------------------------------------- drivers


@drivers.get("", response_model=DriverPage, **allow(*READERS))
def list_drivers(
    session: SessionDep, user: CurrentUser, person_status: StatusFilter = None, cursor: Cursor = None,
    limit: ListLimit = 100,
) -> DriverPage:
    """The drivers (optionally of one status), by name."""
    reveal = _reveal(user)
    page = team_repo.page_drivers(session, person_status, cursor=cursor, limit=limit)
    return DriverPage(items=[DriverRead.from_row(d, reveal) for d in page.items], next_cursor=page.next_cursor)


@drivers.post("", response_model=DriverRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_driver(body: DriverCreate, session: SessionDep) -> DriverRead:
    """Register a driver, optionally linked to the user account (role driver) they sign in with."""
    driver = team_service.create_driver(session, body.data())
    commit(session)
    return DriverRead.from_row(driver, reveal=True)


# Two segments, so `/{driver_id}` never takes it; kept first for reading.
@drivers.get("/me/assignment", response_model=DriverAssignment, **allow("driver"))
def get_my_assignment(car_id: DriverCarOnDate, session: SessionDep, day: DateParam = None) -> DriverAssignment:
    """The requesting driver's car on a day (default today), its team, and the address of its route sheet."""
    day = day or local_today()
    car = car_repo.get(session, car_id)
    if car is None:
        raise NotFound("car", car_id)
    team = team_repo.team_of_car(session, car.id, day)
    return DriverAssignment(
        date=day, car=CarBrief.from_row(car), team=TeamRead.from_row(team) if team else None,
        route_sheet_url=f"/api/v1/cars/{car.id}/route-sheet?date={day.isoformat()}",
    )


@drivers.get("/{driver_id}", response_model=DriverRead, **allow(*READERS))
def get_driver(driver_id: str, session: SessionDep, user: CurrentUser) -> DriverRead:
    """One driver."""
    driver = team_repo.get_driver(session, driver_id)
    if driver is None:
        raise team_service.not_found("driver", driver_id)
    return DriverRead.from_row(driver, _reveal(user))


@drivers.patch("/{driver_id}", response_model=DriverRead, **allow(*STAFF))
def update_driver(driver_id: str, body: DriverUpdate, session: SessionDep) -> DriverRead:
    """Change name, phone, status or the linked user account."""
    driver = team_service.update_driver(session, driver_id, body.changes())
    commit(session)
    return DriverRead.from_row(driver, reveal=True)


@drivers.delete("/{driver_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*ADMIN))
def delete_driver(driver_id: str, session: SessionDep) -> Response:
    """Delete a driver who was never in a team (409 otherwise: deactivate instead)."""
    team_service.delete_driver(session, driver_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- collectors


@collectors.get("", response_model=CollectorPage, **allow(*READERS))
def list_collectors(
    session: SessionDep, user: CurrentUser, person_status: StatusFilter = None, cursor: Cursor = None,
    limit: ListLimit = 100,
) -> CollectorPage:
    """The collectors (optionally of one status), by name."""
    reveal = _reveal(user)
    page = team_repo.page_collectors(session, person_status, cursor=cursor, limit=limit)
    return CollectorPage(items=[CollectorRead.from_row(c, reveal) for c in page.items], next_cursor=page.next_cursor)


@collectors.post("", response_model=CollectorRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_collector(body: CollectorCreate, session: SessionDep) -> CollectorRead:
    """Register a collector with their professional registration (council, number, UF)."""
    collector = team_service.create_collector(session, body.data())
    commit(session)
    return CollectorRead.from_row(collector, reveal=True)


@collectors.get("/{collector_id}", response_model=CollectorRead, **allow(*READERS))
def get_collector(collector_id: str, session: SessionDep, user: CurrentUser) -> CollectorRead:
    """One collector."""
    collector = team_repo.get_collector(session, collector_id)
    if collector is None:
        raise team_service.not_found("collector", collector_id)
    return CollectorRead.from_row(collector, _reveal(user))


@collectors.patch("/{collector_id}", response_model=CollectorRead, **allow(*STAFF))
def update_collector(collector_id: str, body: CollectorUpdate, session: SessionDep) -> CollectorRead:
    """Change name, phone, status or registration."""
    collector = team_service.update_collector(session, collector_id, body.changes())
    commit(session)
    return CollectorRead.from_row(collector, reveal=True)


@collectors.delete("/{collector_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*ADMIN))
def delete_collector(collector_id: str, session: SessionDep) -> Response:
    """Delete a collector who was never in a team (409 otherwise: deactivate instead)."""
    team_service.delete_collector(session, collector_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- teams


@teams.get("", response_model=TeamPage, **allow(*READERS))
def list_teams(
    session: SessionDep, day: DateParam = None, car_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: Cursor = None, limit: ListLimit = 100,
) -> TeamPage:
    """The teams of a day (default today), optionally of one car."""
    day = day or local_today()
    page = team_repo.page_teams(session, day, car_id, cursor=cursor, limit=limit)
    return TeamPage(date=day, items=[TeamRead.from_row(t) for t in page.items], next_cursor=page.next_cursor)


@teams.post("", response_model=TeamRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_team(body: TeamCreate, session: SessionDep) -> TeamRead:
    """Put a driver and a collector in a car for a day (409 when the car, the driver or the collector is taken)."""
    team = team_service.assign(session, body.data())
    commit(session)
    return TeamRead.from_row(team)


@teams.get("/{team_id}", response_model=TeamRead, **allow(*READERS))
def get_team(team_id: str, session: SessionDep) -> TeamRead:
    """One team."""
    team = team_repo.get_team(session, team_id)
    if team is None:
        raise team_service.not_found("team", team_id)
    return TeamRead.from_row(team)


@teams.patch("/{team_id}", response_model=TeamRead, **allow(*STAFF))
def update_team(team_id: str, body: TeamUpdate, session: SessionDep) -> TeamRead:
    """Change the driver, the collector or the notes of a team."""
    team = team_service.update_team(session, team_id, body.changes())
    commit(session)
    return TeamRead.from_row(team)


@teams.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*STAFF))
def delete_team(team_id: str, session: SessionDep) -> Response:
    """Undo a team (planning the day is staff work, so operators may too)."""
    team_service.delete_team(session, team_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


router = APIRouter()
router.include_router(drivers)
router.include_router(collectors)
router.include_router(teams)
