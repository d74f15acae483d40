"""Long work that resumes after a crash: imports and bulk jobs, one life for both.

Each is a row with a status (`queued` → running → a final status), `attempts` (one per run)
and `updated_at`, which moves with every committed batch and, while the task's process
lives, with its heartbeat (`touch`, called by workers.heartbeat every few seconds). The work
itself runs in committed batches that only take what is not done yet, so a run killed
anywhere and started again ends as one clean run.

`sweep` (the resume sweep, on beat) finds the rows whose task was lost (queued or running
with no sign of life for `quiet`) or whose worker died (running with no heartbeat for
`dead_after`): those with attempts left turn back to `queued`, fresh, for a new task (a run
that was only slow finds the status changed at its next batch and stands down); those that
used them up are handed back for their domain to mark failed in its own words. A row a batch
holds locked is alive: skipped, never waited for. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from storage.sql import any_of


@dataclass(frozen=True)
class Work:
    """A kind of resumable work: its table (id, status, attempts, updated_at) and the name of its running status."""

    model: Any
    running: str
    # The column that orders a sweep (oldest first).
    created: str
    # A status of a run asked to stop that still runs (its heartbeat keeps it alive); None if there is none.
    stopping: str | None = None

    @property
    def alive_statuses(self) -> tuple[str, ...]:
        """The statuses a heartbeat keeps alive: running, and stopping while the run winds down."""
        return (self.running, self.stopping) if self.stopping else (self.running,)


@dataclass
class Swept:
    """What a sweep did: the ids turned back to queued (to enqueue after the commit), and the ids that used up
    their attempts, with how many runs they had (to mark failed)."""

    resumed: list[str]
    exhausted: dict[str, int]


def touch(session: Session, work: Work, row_id: str) -> None:
    """Mark a running row alive (its heartbeat; the sweep reads `updated_at`)."""
    table = work.model.__table__
    session.execute(
        update(table)
        .where(table.c.id == row_id, table.c.status.in_(work.alive_statuses))
        .values(updated_at=func.now())
    )


def sweep(session: Session, work: Work, *, quiet: timedelta, max_attempts: int, dead_after: timedelta | None) -> Swept:
    """Requeue the lost rows with attempts left; return them and the exhausted ones (see the module docstring)."""
    table = work.model.__table__
    lost = and_(table.c.status.in_(("queued", work.running)), table.c.updated_at < func.now() - quiet)
    if dead_after is not None:
        lost = or_(lost, and_(table.c.status == work.running, table.c.updated_at < func.now() - dead_after))
    rows = session.execute(
        select(table.c.id, table.c.attempts).where(lost).order_by(table.c[work.created]).with_for_update(skip_locked=True)
    ).all()
    resumed = [row_id for row_id, attempts in rows if attempts < max_attempts]
    if resumed:
        session.execute(update(table).where(any_of(table.c.id, resumed)).values(status="queued", updated_at=func.now()))
    return Swept(resumed, {row_id: attempts for row_id, attempts in rows if attempts >= max_attempts})
