"""Collectors: readers read, staff write, admins delete (viewers get their phones masked)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import SessionDep, commit
from api.paging import Cursor, ListLimit
from api.routers.drivers import StatusFilter, reveal_phones
from api.schemas.teams import CollectorCreate, CollectorPage, CollectorRead, CollectorUpdate
from api.security import ADMIN, READERS, STAFF, CurrentUser, allow
from storage.errors import NotFound
from storage.teams import repo as team_repo
from storage.teams import service as team_service

router = APIRouter(prefix="/api/v1/collectors", tags=["collectors"])


@router.get("", response_model=CollectorPage, **allow(*READERS))
def list_collectors(
    session: SessionDep, user: CurrentUser, person_status: StatusFilter = None, cursor: Cursor = None,
    limit: ListLimit = 100,
) -> CollectorPage:
    """The collectors (optionally of one status), by name."""
    reveal = reveal_phones(user)
    page = team_repo.page_collectors(session, person_status, cursor=cursor, limit=limit)
    return CollectorPage(items=[CollectorRead.from_row(c, reveal) for c in page.items], next_cursor=page.next_cursor)


@router.post("", response_model=CollectorRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_collector(body: CollectorCreate, session: SessionDep) -> CollectorRead:
    """Register a collector with their professional registration (council, number, UF)."""
    collector = team_service.create_collector(session, body.data())
    commit(session)
    return CollectorRead.from_row(collector, reveal=True)


@router.get("/{collector_id}", response_model=CollectorRead, **allow(*READERS))
def get_collector(collector_id: str, session: SessionDep, user: CurrentUser) -> CollectorRead:
    """One collector."""
    collector = team_repo.get_collector(session, collector_id)
    if collector is None:
        raise NotFound("collector", collector_id)
    return CollectorRead.from_row(collector, reveal_phones(user))


@router.patch("/{collector_id}", response_model=CollectorRead, **allow(*STAFF))
def update_collector(collector_id: str, body: CollectorUpdate, session: SessionDep) -> CollectorRead:
    """Change name, phone, status or registration."""
    collector = team_service.update_collector(session, collector_id, body.changes())
    commit(session)
    return CollectorRead.from_row(collector, reveal=True)


@router.delete("/{collector_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*ADMIN))
def delete_collector(collector_id: str, session: SessionDep) -> Response:
    """Delete a collector who was never in a team (409 otherwise: deactivate instead)."""
    team_service.delete_collector(session, collector_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
