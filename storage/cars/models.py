"""A car: one car agenda of the lab, as DasaExp names it, plus its fleet data (plate, model, status, capacity)."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

STATUSES = ("active", "maintenance", "inactive")
MIN_CAPACITY, MAX_CAPACITY = 1, 50


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class Car(Timestamps, Base):
    """A car agenda. `source_key` is the import identity (room code + full agenda name), never the bare label.

    `AV CENTER 1 CARRO 1` and `AV CENTER 2 CARRO 1` are two cars with the same label.
    """

    __tablename__ = "cars"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    row_version: Mapped[int] = mapped_column(nullable=False)
    # `room_key()` of the parser: "379|AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84". NULL for cars made by hand.
    source_key: Mapped[str | None] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(40))  # "CARRO 1"
    base: Mapped[str | None] = mapped_column(String(120))  # "AV CENTER 1"
    room_code: Mapped[str | None] = mapped_column(String(20))
    room_name: Mapped[str | None] = mapped_column(String(200))
    unit_code: Mapped[str | None] = mapped_column(String(20))
    unit_name: Mapped[str | None] = mapped_column(String(120))
    operational_unit: Mapped[str | None] = mapped_column(String(20))  # "UND84"
    # Fleet data (issue 6 manages them; imports never touch them).
    plate: Mapped[str | None] = mapped_column(String(10))  # "ABC1234" or Mercosul "ABC1D23", no hyphen
    model: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    daily_capacity: Mapped[int] = mapped_column(default=7, server_default=text("7"))

    __mapper_args__ = {"version_id_col": row_version}

    __table_args__ = (
        Index("uq_cars_source_key", "source_key", unique=True, postgresql_where=text("source_key IS NOT NULL")),
        Index("uq_cars_plate", "plate", unique=True, postgresql_where=text("plate IS NOT NULL")),
        CheckConstraint("status IN ('active', 'maintenance', 'inactive')", name="status"),
        CheckConstraint(f"daily_capacity BETWEEN {MIN_CAPACITY} AND {MAX_CAPACITY}", name="daily_capacity"),
    )
