"""The user account: who may sign in, with which role."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, String, text
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
