"""A bulk job (an action over many visits or patients) and its per-item results."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

ACTIONS = ("confirm", "send_message", "reschedule", "move_car", "add_tags", "remove_tags", "export")
TARGETS = ("visit_ids", "patient_search", "patient_ids")
# cancelling: asked to stop; the worker stops before its next batch (or the sweep, if it died) → cancelled.
STATUSES = ("queued", "running", "cancelling", "done", "failed", "cancelled")
FINAL_STATUSES = ("done", "failed", "cancelled")
OUTCOMES = ("ok", "error", "skipped")
ITEM_KINDS = ("visit", "patient")


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class BulkJob(Timestamps, Base):
    """One bulk action: what to do (`action`, `params`), over what (`visit_ids` or a patient `search`),
    who asked, and how far it got.

    Targets are resolved by the worker into `bulk_job_items` (`resolved` then turns true and
    `total` is set); counters move only inside the batch transactions that write item results,
    so a re-run after a crash ends with the numbers of one clean run. An export keeps its file
    in `result_data` (deferred: reading a job never loads it).
    """

    __tablename__ = "bulk_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    action: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(16))  # visit_ids | patient_search | patient_ids
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    # The GET /api/v1/patients parameters (dates as ISO strings), when target = patient_search.
    search: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The requested visit ids (deduplicated, in request order), when target = visit_ids.
    visit_ids: Mapped[list[str] | None] = mapped_column(JSONB)
    # The requested patient ids (deduplicated, in request order), when target = patient_ids.
    patient_ids: Mapped[list[str] | None] = mapped_column(JSONB)

    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    total: Mapped[int | None] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    succeeded: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failure_code: Mapped[str | None] = mapped_column(String(60))
    failure_message: Mapped[str | None] = mapped_column(Text)

    # Who asked, kept for the audit rows the worker writes on their behalf.
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    actor_ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))

    result_format: Mapped[str | None] = mapped_column(String(8))  # csv | xlsx
    result_filename: Mapped[str | None] = mapped_column(String(120))
    result_size: Mapped[int | None] = mapped_column(BigInteger)
    result_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'cancelling', 'done', 'failed', 'cancelled')", name="status"
        ),
        CheckConstraint("target IN ('visit_ids', 'patient_search', 'patient_ids')", name="target"),
        Index("ix_bulk_jobs_created_at", "created_at"),
        Index(
            "ix_bulk_jobs_unfinished", "updated_at",
            postgresql_where=text("status IN ('queued', 'running', 'cancelling')"),
        ),
        # GET /bulk: an operator's own jobs, newest first.
        Index("ix_bulk_jobs_actor_id_created_at", "actor_id", "created_at"),
    )


class BulkJobItem(Base):
    """One target of a job (a visit or a patient) and, once processed, its outcome.

    `outcome` is NULL while pending; `ok`, `error` or `skipped` (nothing to do) after, with a
    stable `code` and a pt-BR `message` for errors and skips, and `details` (warnings, the
    other visit of a conflict, the queued message id). A re-run only takes pending items.
    """

    __tablename__ = "bulk_job_items"

    job_id: Mapped[str] = mapped_column(ForeignKey("bulk_jobs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64))
    item_kind: Mapped[str] = mapped_column(String(8))  # visit | patient
    patient_id: Mapped[str | None] = mapped_column(String(36))  # bookkeeping: no per-row FK check
    outcome: Mapped[str | None] = mapped_column(String(8))
    code: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'error', 'skipped')", name="outcome"),
        CheckConstraint("item_kind IN ('visit', 'patient')", name="item_kind"),
        Index("uq_bulk_job_items_job_id_item_id", "job_id", "item_id", unique=True),
        Index("ix_bulk_job_items_pending", "job_id", "position", postgresql_where=text("outcome IS NULL")),
    )
