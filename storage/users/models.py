"""The user account: who may sign in, with which role."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

ROLES = ("admin", "operator", "viewer", "driver")


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class User(Timestamps, Base):
    """A staff account; the e-mail (lower case) is the login."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    password_hash: Mapped[str] = mapped_column(String(255))
    # A driver's car for the day; a plain id (no FK) until storage/cars lands.
    car_id: Mapped[str | None] = mapped_column(String(36))
    # Bumped when the password, role or active flag changes: tokens carry it, so older ones die.
    token_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("role IN ('admin', 'operator', 'viewer', 'driver')", name="role"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )


class UsedRefreshToken(Base):
    """A refresh token already exchanged (by its jti), kept until it would have expired anyway.

    In PostgreSQL rather than Redis so that refreshing, like logging in, works while Redis is down,
    and a replay is still caught: the primary key makes two concurrent uses of one token meet.
    """

    __tablename__ = "used_refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_used_refresh_tokens_user_expires", "user_id", "expires_at"),)
