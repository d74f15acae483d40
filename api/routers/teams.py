"""Teams (a car, a driver and a collector on a day): readers read, staff plan the day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import SessionDep, commit
from api.paging import Cursor, ListLimit
from api.routers.crew import DateParam
from api.schemas.teams import TeamCreate, TeamPage, TeamRead, TeamUpdate
from api.security import READERS, STAFF, allow, local_today
from storage.errors import found
from storage.teams import repo as team_repo
from storage.teams import service as team_service

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


@router.get("", response_model=TeamPage, **allow(*READERS))
def list_teams(
    session: SessionDep, day: DateParam = None, car_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: Cursor = None, limit: ListLimit = 100,
) -> TeamPage:
    """The teams of a day (default today), optionally of one car."""
    day = day or local_today()
    page = team_repo.page_teams(session, day, car_id, cursor=cursor, limit=limit)
    return TeamPage(date=day, items=[TeamRead.from_row(t) for t in page.items], next_cursor=page.next_cursor)


@router.post("", response_model=TeamRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_team(body: TeamCreate, session: SessionDep) -> TeamRead:
    """Put a driver and a collector in a car for a day (409 when the car, the driver or the collector is taken)."""
    team = team_service.assign(session, body.data())
    commit(session)
    return TeamRead.from_row(team)


@router.get("/{team_id}", response_model=TeamRead, **allow(*READERS))
def get_team(team_id: str, session: SessionDep) -> TeamRead:
    """One team."""
    return TeamRead.from_row(found(team_repo.get_team(session, team_id), "team", team_id))


@router.patch("/{team_id}", response_model=TeamRead, **allow(*STAFF))
def update_team(team_id: str, body: TeamUpdate, session: SessionDep) -> TeamRead:
    """Change the driver, the collector or the notes of a team."""
    team = team_service.update_team(session, team_id, body.changes())
    commit(session)
    return TeamRead.from_row(team)


@router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*STAFF))
def delete_team(team_id: str, session: SessionDep) -> Response:
    """Undo a team (planning the day is staff work, so operators may too)."""
    team_service.delete_team(session, team_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
