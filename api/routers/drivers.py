"""Drivers: readers read, staff write, admins delete; a driver reads their assignment.

Staff phones are personal data: viewers get them masked (`phone` null, `phone_masked`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import SessionDep, commit
from api.paging import Cursor, ListLimit
from api.schemas.cars import CarBrief
from api.schemas.teams import DriverAssignment, DriverCreate, DriverPage, DriverRead, DriverUpdate, PersonStatus, TeamRead
from api.schemas.types import IsoDate
from api.security import ADMIN, READERS, STAFF, CurrentUser, DriverCarOnDate, allow, local_today
from storage.cars import repo as car_repo
from storage.errors import NotFound
from storage.teams import repo as team_repo
from storage.teams import service as team_service

router = APIRouter(prefix="/api/v1/drivers", tags=["drivers"])

StatusFilter = Annotated[PersonStatus | None, Query(alias="status")]
DateParam = Annotated[IsoDate | None, Query(alias="date")]


def reveal_phones(user) -> bool:
    """Staff see staff phones; viewers get them masked."""
    return user.role in STAFF


@router.get("", response_model=DriverPage, **allow(*READERS))
def list_drivers(
    session: SessionDep, user: CurrentUser, person_status: StatusFilter = None, cursor: Cursor = None,
    limit: ListLimit = 100,
) -> DriverPage:
    """The drivers (optionally of one status), by name."""
    reveal = reveal_phones(user)
    page = team_repo.page_drivers(session, person_status, cursor=cursor, limit=limit)
    return DriverPage(items=[DriverRead.from_row(d, reveal) for d in page.items], next_cursor=page.next_cursor)


@router.post("", response_model=DriverRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_driver(body: DriverCreate, session: SessionDep) -> DriverRead:
    """Register a driver, optionally linked to the user account (role driver) they sign in with."""
    driver = team_service.create_driver(session, body.data())
    commit(session)
    return DriverRead.from_row(driver, reveal=True)


# Two segments, so `/{driver_id}` never takes it; kept first for reading.
@router.get("/me/assignment", response_model=DriverAssignment, **allow("driver"))
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


@router.get("/{driver_id}", response_model=DriverRead, **allow(*READERS))
def get_driver(driver_id: str, session: SessionDep, user: CurrentUser) -> DriverRead:
    """One driver."""
    driver = team_repo.get_driver(session, driver_id)
    if driver is None:
        raise NotFound("driver", driver_id)
    return DriverRead.from_row(driver, reveal_phones(user))


@router.patch("/{driver_id}", response_model=DriverRead, **allow(*STAFF))
def update_driver(driver_id: str, body: DriverUpdate, session: SessionDep) -> DriverRead:
    """Change name, phone, status or the linked user account."""
    driver = team_service.update_driver(session, driver_id, body.changes())
    commit(session)
    return DriverRead.from_row(driver, reveal=True)


@router.delete("/{driver_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*ADMIN))
def delete_driver(driver_id: str, session: SessionDep) -> Response:
    """Delete a driver who was never in a team (409 otherwise: deactivate instead)."""
    team_service.delete_driver(session, driver_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
