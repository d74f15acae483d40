"""Drivers (motoristas), collectors (coletoras) and teams (car + driver + collector for one day)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, Timestamps
from storage.cars.models import Car

STATUSES = ("active", "inactive")
# The two kinds of crew member of a team, as their ids and errors name them.
CrewKind = Literal["driver", "collector"]
# Professional councils of the people who draw samples: nursing, biomedicine, pharmacy, biology.
COUNCILS = ("COREN", "CRBM", "CRF", "CRBIO")


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class Driver(Timestamps, Base):
    """A driver; `user_id` links the account (role `driver`) that signs in as this person."""

    __tablename__ = "drivers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(11))  # national digits (DDD + number)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
        Index("uq_drivers_user_id", "user_id", unique=True, postgresql_where=text("user_id IS NOT NULL")),
    )


class Collector(Timestamps, Base):
    """A collector (draws the samples), with the professional registration: council, number and UF."""

    __tablename__ = "collectors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    council: Mapped[str | None] = mapped_column(String(10))  # "COREN"
    registration_number: Mapped[str | None] = mapped_column(String(20))  # "123456"
    registration_state: Mapped[str | None] = mapped_column(String(2))  # "RJ"

    __table_args__ = (
        CheckConstraint("status IN ('active', 'inactive')", name="status"),
        CheckConstraint(
            "(council IS NULL) = (registration_number IS NULL) AND (council IS NULL) = (registration_state IS NULL)",
            name="registration_complete",
        ),
        Index(
            "uq_collectors_registration", "council", "registration_state", "registration_number", unique=True,
            postgresql_where=text("council IS NOT NULL"),
        ),
    )


class Team(Timestamps, Base):
    """The team of one car for one day: a driver and a collector. One per car and day; a person in one per day."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    car_id: Mapped[str] = mapped_column(ForeignKey("cars.id", ondelete="CASCADE"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    driver_id: Mapped[str] = mapped_column(ForeignKey("drivers.id"), nullable=False)
    collector_id: Mapped[str] = mapped_column(ForeignKey("collectors.id"), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)

    # Read side only (names for lists and the route sheet), loaded with the team in one query.
    car: Mapped[Car] = relationship(lazy="joined", innerjoin=True, viewonly=True)
    driver: Mapped[Driver] = relationship(lazy="joined", innerjoin=True, viewonly=True)
    collector: Mapped[Collector] = relationship(lazy="joined", innerjoin=True, viewonly=True)

    __table_args__ = (
        UniqueConstraint("car_id", "day", name="uq_teams_car_id_day"),
        UniqueConstraint("driver_id", "day", name="uq_teams_driver_id_day"),
        UniqueConstraint("collector_id", "day", name="uq_teams_collector_id_day"),
        Index("ix_teams_day", "day"),
    )
