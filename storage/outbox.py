"""The transactional outbox: a row per change of an indexed entity, written in the same transaction.

The drain (indexing.sync) reads these rows, rebuilds documents from the current
rows and deletes the outbox rows it applied. Nothing here talks to OpenSearch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Row, String, Text, delete, func, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.base import Base
from storage.sql import any_of

# Set on the session when a change was recorded, so the boundary knows to nudge the drain.
OUTBOX_DIRTY = "outbox_dirty"
# Set on the session of a transaction that writes in bulk (see `mark_bulk`).
OUTBOX_BULK = "outbox_bulk"


class OutboxEntry(Base):
    """One pending change of one indexed entity."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    # Only used when the entity is gone: the version the index delete must carry,
    # so that a stale write racing behind the delete cannot bring the document back.
    deleted_version: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The last failure was OpenSearch's (unreachable, overloaded, 5xx), not this document's: once
    # OpenSearch answers again the row is retried at once instead of waiting out its backoff.
    transient: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Recorded by a bulk writer (an import's batch, a bulk job, the day's roll-over): drained after
    # people's changes, so an edit made during an import is searchable at once, not after the backlog.
    bulk: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    __table_args__ = (
        Index("ix_outbox_available_at_id", "available_at", "id"),
        Index("ix_outbox_bulk_id", "bulk", "id"),
    )


def mark_bulk(session: Session) -> None:
    """Mark this transaction's changes as bulk: their outbox rows yield to people's in the drain."""
    session.info[OUTBOX_BULK] = True


def is_bulk(session: Session) -> bool:
    """True when this transaction was marked as a bulk writer's."""
    return bool(session.info.get(OUTBOX_BULK))


def record(session: Session, entity_type: str, entity_id: str, deleted_version: int | None = None) -> None:
    """Record that an entity changed; flushed with the caller's transaction, never committed here."""
    session.add(OutboxEntry(entity_type=entity_type, entity_id=str(entity_id), deleted_version=deleted_version,
                            bulk=is_bulk(session)))
    session.info[OUTBOX_DIRTY] = True


def claim_due(session: Session, limit: int, bulk: bool) -> list[Row]:
    """Lock up to `limit` due rows of people's changes (or of bulk writers'), oldest first, skipping
    rows another drainer holds.

    Plain rows (id, entity_type, entity_id, deleted_version, attempts), not ORM objects:
    the drain only reads them, and thousands per batch would fill the identity map.
    """
    table = OutboxEntry.__table__
    stmt = (
        select(table.c.id, table.c.entity_type, table.c.entity_id, table.c.deleted_version, table.c.attempts)
        .where(table.c.bulk.is_(bulk), table.c.available_at <= func.now())
        .order_by(table.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.execute(stmt))


def remove(session: Session, entry_ids: list[int]) -> None:
    """Delete applied rows."""
    if entry_ids:
        # Core statements on the table: no ORM session synchronisation to run over the identity map.
        table = OutboxEntry.__table__
        session.execute(delete(table).where(any_of(table.c.id, entry_ids)))


def back_off(session: Session, entry_ids: list[int], error: str, attempts: int, transient: bool = False) -> None:
    """Postpone failed rows with an exponential delay (1 s doubling, capped at 5 minutes).

    `transient` marks a failure of OpenSearch itself (see `release_transient`), not of the document.
    """
    if not entry_ids:
        return
    delay = timedelta(seconds=min(2 ** max(attempts - 1, 0), 300))
    table = OutboxEntry.__table__
    session.execute(
        update(table)
        .where(any_of(table.c.id, entry_ids))
        .values(
            attempts=table.c.attempts + 1,
            available_at=func.now() + delay,
            last_error=error[:2000],
            transient=transient,
        )
    )


def has_transient(session: Session) -> bool:
    """True when rows wait out a backoff that an OpenSearch failure (not their document) caused."""
    table = OutboxEntry.__table__
    stmt = select(table.c.id).where(table.c.available_at > func.now(), table.c.transient).limit(1)
    return session.execute(stmt).first() is not None


def release_transient(session: Session) -> int:
    """Make rows backed off by an OpenSearch failure due now (it answers again); return how many.

    Rows another drainer holds are skipped, never waited for; rows whose own document was
    refused keep their backoff.
    """
    table = OutboxEntry.__table__
    held = (
        select(table.c.id)
        .where(table.c.available_at > func.now(), table.c.transient)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = session.execute(update(table).where(table.c.id.in_(held)).values(available_at=func.now()))
    return result.rowcount


def backlog(session: Session) -> tuple[int, float | None]:
    """Return the number of pending rows and the age in seconds of the oldest one."""
    count, oldest = session.execute(
        select(func.count(OutboxEntry.id), func.min(OutboxEntry.created_at))
    ).one()
    if oldest is None:
        return count, None
    age = session.execute(select(func.extract("epoch", func.now() - oldest))).scalar_one()
    return count, float(age)
