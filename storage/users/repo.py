"""User queries. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage import paging
from storage.users.models import UsedRefreshToken, User


def get(session: Session, user_id: str) -> User | None:
    """Return the user with this id, or None."""
    return session.get(User, user_id)


def get_for_update(session: Session, user_id: str) -> User | None:
    """Return the user locked for this transaction, or None."""
    return session.scalars(select(User).where(User.id == user_id).with_for_update()).first()


def get_by_email(session: Session, email: str) -> User | None:
    """Return the user with this (already lower-cased) e-mail, or None."""
    return session.scalars(select(User).where(User.email == email)).first()


def list_all(session: Session) -> list[User]:
    """Return every user, ordered by e-mail."""
    return list(session.scalars(select(User).order_by(User.email)))


def page(session: Session, *, cursor: str | None, limit: int) -> paging.Page[User]:
    """A page of users, by e-mail."""
    return paging.keyset(session, select(User), [User.email], cursor=cursor, limit=limit)


def count_active_admins(session: Session) -> int:
    """Return how many active admins exist."""
    stmt = select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
    return session.execute(stmt).scalar_one()


def mark_refresh_token_used(session: Session, jti: str, user_id: str, expires_at: datetime) -> bool:
    """Record the refresh token as used; False when it already was (a concurrent use waits for the first)."""
    inserted = session.execute(
        insert(UsedRefreshToken)
        .values(jti=jti, user_id=user_id, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[UsedRefreshToken.jti])
        .returning(UsedRefreshToken.jti)
    ).first()
    return inserted is not None


def forget_expired_refresh_tokens(session: Session, user_id: str, now: datetime) -> None:
    """Drop the user's used-token records that have expired: an expired token is refused anyway."""
    session.execute(
        delete(UsedRefreshToken).where(UsedRefreshToken.user_id == user_id, UsedRefreshToken.expires_at < now)
    )


def names(session: Session, user_ids: Iterable[str | None]) -> dict[str, str]:
    """Map user ids to their names (for `actor_name` beside an actor id); unknown ids left out; one query."""
    ids = sorted({user_id for user_id in user_ids if user_id})
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
