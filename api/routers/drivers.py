"""Drivers (the crew routes of api.routers.crew), and a driver's own assignment."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import SessionDep
from api.routers.crew import CrewRoutes, DateParam, crew_router
from api.schemas.cars import CarBrief
from api.schemas.teams import DriverAssignment, DriverCreate, DriverPage, DriverRead, DriverUpdate, TeamRead
from api.security import DriverCarOnDate, allow, local_today
from storage.cars import repo as car_repo
from storage.errors import found
from storage.teams import repo as team_repo


def _assignment(router: APIRouter) -> None:
    # Two segments, so `/{driver_id}` never takes it; kept before it for reading.
    @router.get("/me/assignment", response_model=DriverAssignment, **allow("driver"))
    def get_my_assignment(car_id: DriverCarOnDate, session: SessionDep, day: DateParam = None) -> DriverAssignment:
        """The requesting driver's car on a day (default today), its team, and the address of its route sheet."""
        day = day or local_today()
        car = found(car_repo.get(session, car_id), "car", car_id)
        team = team_repo.team_of_car(session, car.id, day)
        return DriverAssignment(
            date=day, car=CarBrief.from_row(car), team=TeamRead.from_row(team) if team else None,
            route_sheet_url=f"/api/v1/cars/{car.id}/route-sheet?date={day.isoformat()}",
        )


router = crew_router(
    CrewRoutes(
        kind="driver", plural="drivers", read=DriverRead, page=DriverPage, create=DriverCreate, update=DriverUpdate,
        create_text="Register a driver, optionally linked to the user account (role driver) they sign in with.",
        update_text="Change name, phone, status or the linked user account.",
    ),
    then=_assignment,
)
