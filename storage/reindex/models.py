"""ReindexJob: one rebuild of one index, its phase and progress, written by the worker as it goes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

INDICES = ("patients", "visits")
STATUSES = ("queued", "backfilling", "swapping", "done", "failed")
# A job in one of these holds its index: a second request for it is refused (409 reindex_running).
ACTIVE_STATUSES = ("queued", "backfilling", "swapping")
# The worker's phases while its process lives (its heartbeat moves updated_at).
RUNNING_STATUSES = ("backfilling", "swapping")


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ReindexJob(Timestamps, Base):
    """A rebuild of `index`: queued, then backfilling (`processed` of `total` rows written to `new_index`),
    swapping (counts compared, alias moved), then done or failed (`failure_code`, pt-BR `failure_message`).

    At most one active job per index (a partial unique index), so two admins clicking at once get one
    rebuild and one 409. `updated_at` moves with every progress write and with the worker's heartbeat.
    """

    __tablename__ = "reindex_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    index: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    processed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    total: Mapped[int | None] = mapped_column(Integer)
    new_index: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("index", INDICES), name="index"),
        Index("ix_reindex_jobs_created_at", "created_at"),
        Index("uq_reindex_jobs_active_index", "index", unique=True,
              postgresql_where=text(_in("status", ACTIVE_STATUSES))),
    )
