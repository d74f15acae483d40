"""Audit queries (read-only: the trail is never edited). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import paging
from storage.audit.models import AuditEvent


def list_for_entity(
    session: Session, entity_type: str, entity_id: str, limit: int = 50, before_id: int | None = None
) -> list[AuditEvent]:
    """Return an entity's events, newest first, up to `limit`, older than `before_id` when given."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    return list(session.scalars(stmt))


def page_for_entity(
    session: Session, entity_type: str, entity_id: str, *, cursor: str | None, limit: int
) -> paging.Page[AuditEvent]:
    """A page of an entity's events, newest first (keyset on the id)."""
    stmt = select(AuditEvent).where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
    return paging.keyset(session, stmt, [AuditEvent.id], cursor=cursor, limit=limit, descending=True)


def list_by_actor(session: Session, actor_id: str, limit: int = 50) -> list[AuditEvent]:
    """Return an actor's events, newest first, up to `limit`."""
    stmt = select(AuditEvent).where(AuditEvent.actor_id == actor_id).order_by(AuditEvent.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def search(
    session: Session,
    *,
    actor_id: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    cursor: str | None,
    limit: int,
) -> paging.Page[AuditEvent]:
    """A page of the whole trail, newest first, filtered by who, what, on which entity and when
    (`since` ≤ occurred_at < `before`)."""
    stmt = select(AuditEvent)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if entity_type is not None:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if before is not None:
        stmt = stmt.where(AuditEvent.occurred_at < before)
    return paging.keyset(session, stmt, [AuditEvent.id], cursor=cursor, limit=limit, descending=True)
