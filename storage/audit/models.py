"""AuditEvent: one row per read, change, export or bulk action. Append-only (a trigger refuses UPDATE/DELETE)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class AuditEvent(Base):
    """Who (actor id and role) did what (action) to which entity, when, from where (ip, request id, agent).

    `details` holds names, never values (e.g. the names of the changed fields).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))

    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id", "id"),
        Index("ix_audit_events_actor_id", "actor_id", "id"),
        # GET /audit by period: a BRIN index fits an append-only table in time order (tiny, cheap to build).
        Index("ix_audit_events_occurred_at", "occurred_at", postgresql_using="brin"),
    )
