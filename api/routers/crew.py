"""The crew of a car, drivers and collectors: one set of routes for both kinds.

Readers read, staff write, admins delete. Staff phones are personal data: viewers get them masked
(`phone` null, `phone_masked`). Paths, operation ids and error codes name the kind
(`/api/v1/drivers/{driver_id}`, `getDriver`, `driver_has_teams`), as they did when each had its own module.
"""

# No `from __future__ import annotations`: the route signatures are made per kind (the path parameter's
# name), so FastAPI must see their annotations as objects, not as strings to resolve in this module.

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel

from api.deps import SessionDep, commit
from api.paging import Cursor, ListLimit
from api.schemas import teams as schemas
from api.schemas.types import IsoDate
from api.security import ADMIN, READERS, STAFF, CurrentUser, allow
from storage.errors import found
from storage.teams import repo as team_repo
from storage.teams import service as team_service
from storage.teams.models import CrewKind

StatusFilter = Annotated[schemas.PersonStatus | None, Query(alias="status")]
DateParam = Annotated[IsoDate | None, Query(alias="date")]


def reveal_phones(user) -> bool:
    """Staff see staff phones; viewers get them masked."""
    return user.role in STAFF


@dataclass(frozen=True)
class CrewRoutes:
    """What differs between the kinds: names, bodies and the texts of the API document."""

    kind: CrewKind
    plural: str
    read: type[schemas.CrewRead]
    page: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    create_text: str
    update_text: str


def crew_router(routes: CrewRoutes, then: Callable[[APIRouter], None] | None = None) -> APIRouter:
    """The list, create, get, update and delete routes of one kind; `then` adds routes between create and get."""
    kind, plural, read = routes.kind, routes.plural, routes.read
    router = APIRouter(prefix=f"/api/v1/{plural}", tags=[plural])
    MemberId = Annotated[str, Path(alias=f"{kind}_id")]

    @router.get("", name=f"list_{plural}", response_model=routes.page, description=(
        f"The {plural} (optionally of one status), by name."), **allow(*READERS))
    def list_members(
        session: SessionDep, user: CurrentUser, person_status: StatusFilter = None, cursor: Cursor = None,
        limit: ListLimit = 100,
    ):
        reveal = reveal_phones(user)
        page = team_repo.page_members(session, kind, person_status, cursor=cursor, limit=limit)
        return routes.page(items=[read.from_row(m, reveal) for m in page.items], next_cursor=page.next_cursor)

    @router.post("", name=f"create_{kind}", response_model=read, status_code=status.HTTP_201_CREATED,
                 description=routes.create_text, **allow(*STAFF))
    def create_member(body: routes.create, session: SessionDep):
        member = team_service.create_member(session, kind, body.data())
        commit(session)
        return read.from_row(member, reveal=True)

    if then is not None:
        then(router)

    @router.get("/{" + kind + "_id}", name=f"get_{kind}", response_model=read, description=f"One {kind}.",
                **allow(*READERS))
    def get_member(member_id: MemberId, session: SessionDep, user: CurrentUser):
        return read.from_row(found(team_repo.get_member(session, kind, member_id), kind, member_id), reveal_phones(user))

    @router.patch("/{" + kind + "_id}", name=f"update_{kind}", response_model=read, description=routes.update_text,
                  **allow(*STAFF))
    def update_member(member_id: MemberId, body: routes.update, session: SessionDep):
        member = team_service.update_member(session, kind, member_id, body.changes())
        commit(session)
        return read.from_row(member, reveal=True)

    @router.delete("/{" + kind + "_id}", name=f"delete_{kind}", status_code=status.HTTP_204_NO_CONTENT,
                   description=f"Delete a {kind} who was never in a team (409 otherwise: deactivate instead).",
                   **allow(*ADMIN))
    def delete_member(member_id: MemberId, session: SessionDep) -> Response:
        team_service.delete_member(session, kind, member_id)
        commit(session)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
