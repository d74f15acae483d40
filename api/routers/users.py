"""Users: admins manage accounts; anyone signed in reads their own."""

from __future__ import annotations

from fastapi import APIRouter, status

from api import auth_cache
from api.deps import SessionDep, commit
from api.paging import Cursor, ListLimit
from api.schemas.users import UserCreate, UserPage, UserRead, UserUpdate
from api.security import ADMIN, ANYONE, AuditActor, CurrentUser, allow
from storage.errors import found
from storage.users import repo as user_repo
from storage.users import service as user_service

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=UserPage, **allow(*ADMIN))
def list_users(session: SessionDep, cursor: Cursor = None, limit: ListLimit = 100) -> UserPage:
    """The accounts, by e-mail."""
    page = user_repo.page(session, cursor=cursor, limit=limit)
    return UserPage(items=[UserRead.from_row(user) for user in page.items], next_cursor=page.next_cursor)


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED, **allow(*ADMIN))
def create_user(body: UserCreate, session: SessionDep, actor: AuditActor) -> UserRead:
    """Create an account."""
    user = user_service.create(session, body.data(), actor=actor)
    commit(session)
    return UserRead.from_row(user)


# Async: no I/O of its own (the user comes from `CurrentUser`), so neither it nor its response's validation
# takes a trip through the thread pool (two thread wake-ups per request; issue 14's measure of overhead).
@router.get("/me", response_model=UserRead, **allow(*ANYONE))
async def get_current_user(user: CurrentUser) -> UserRead:
    """The signed-in account."""
    return UserRead.from_row(user)


@router.get("/{user_id}", response_model=UserRead, **allow(*ADMIN))
def get_user(user_id: str, session: SessionDep) -> UserRead:
    """One account."""
    return UserRead.from_row(found(user_repo.get(session, user_id), "user", user_id))


@router.patch("/{user_id}", response_model=UserRead, **allow(*ADMIN))
def update_user(user_id: str, body: UserUpdate, session: SessionDep, actor: AuditActor) -> UserRead:
    """Change name, role, car, password or active; access changes end the account's current tokens."""
    user = user_service.update(session, user_id, body.changes(), actor=actor)
    commit(session)
    auth_cache.changed(user.id)
    return UserRead.from_row(user)
