"""Cars: readers list and read them, staff create and change them, admins delete; the printable route sheet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, commit
from api.paging import Cursor, ListLimit
from api.routers import route_sheets
from api.schemas.types import IsoDate
from api.schemas.cars import CarCreate, CarPage, CarRead, CarStatus, CarUpdate
from api.security import ADMIN, READERS, STAFF, AuditActor, CurrentUser, allow, local_today
from storage.cars import repo as car_repo
from storage.cars import service as car_service
from storage.errors import found

router = APIRouter(prefix="/api/v1/cars", tags=["cars"])



@router.get("", response_model=CarPage, **allow(*READERS))
def list_cars(
    session: SessionDep,
    car_status: Annotated[CarStatus | None, Query(alias="status")] = None,
    unit: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Cursor = None,
    limit: ListLimit = 100,
) -> CarPage:
    """The cars (optionally of one status and one unit code or operational unit), by unit, base and label."""
    page = car_repo.page_cars(session, car_status, unit, cursor=cursor, limit=limit)
    return CarPage(items=[CarRead.from_row(car) for car in page.items], next_cursor=page.next_cursor)


@router.post("", response_model=CarRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_car(body: CarCreate, session: SessionDep) -> CarRead:
    """Register a car by hand (cars of the agenda export are created by the import)."""
    car = car_service.create(session, body.data())
    commit(session)
    return CarRead.from_row(car)


@router.get("/{car_id}", response_model=CarRead, **allow(*READERS))
def get_car(car_id: str, session: SessionDep) -> CarRead:
    """One car."""
    return CarRead.from_row(found(car_repo.get(session, car_id), "car", car_id))


@router.patch("/{car_id}", response_model=CarRead, **allow(*STAFF))
def update_car(car_id: str, body: CarUpdate, session: SessionDep) -> CarRead:
    """Change label, base, plate, model, status or daily capacity; a new label reaches the search documents."""
    car = car_service.update(session, car_id, body.changes())
    commit(session)
    return CarRead.from_row(car)


@router.delete("/{car_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*ADMIN))
def delete_car(car_id: str, session: SessionDep) -> Response:
    """Delete a car made by hand without visits; imported cars and cars with visits are deactivated instead (409)."""
    car_service.delete(session, car_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{car_id}/route-sheet", response_class=HTMLResponse, **allow("admin", "operator", "driver"))
def get_route_sheet(
    car_id: str,
    session: SessionDep,
    user: CurrentUser,
    actor: AuditActor,
    day: Annotated[IsoDate | None, Query(alias="date")] = None,
) -> HTMLResponse:
    """The printable route sheet (HTML, A4) of a car for a day (default today): team, then visits in time order.

    Staff see any car; a driver only the car of their team that day (403 otherwise). Every
    patient listed gets a `patient.read` audit row (via route_sheet).
    """
    day = day or local_today()
    route_sheets.check_driver_car(session, user, car_id, day)
    page = route_sheets.render_page(session, actor, car_id, day, via="route_sheet")
    commit(session)
    return HTMLResponse(page, headers=route_sheets.HEADERS)
