"""Reindex job commands: request one (one active job per index), claim it, record its phases and progress,
close it, and sweep the jobs whose worker died. Nothing here commits or talks to OpenSearch.

Every write of the worker names the run it belongs to (`attempt`, counted by `begin`): a run the
sweep gave up on (its heartbeat stopped, its job was re-queued) can no longer move the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage.errors import Conflict, Invalid, NotFound
from storage.reindex.models import ACTIVE_STATUSES, INDICES, RUNNING_STATUSES, ReindexJob, new_id

ENTITY = "reindex_job"
# A job re-queued this many times after its worker died is failed instead (a rebuild that kills its worker).
MAX_ATTEMPTS = 3


def request(session: Session, index: str, *, actor_id: str | None) -> ReindexJob:
    """Register a queued rebuild of `index` (the caller commits, then enqueues it).

    Conflict `reindex_running` (details: `job_id`) while a job of the same index is queued or
    running; decided by a partial unique index, so two requests at once get one job.
    """
    if index not in INDICES:
        raise Invalid("invalid_index", "Índice desconhecido.", field="index", allowed=list(INDICES))
    job_id = session.execute(
        insert(ReindexJob)
        .values(id=new_id(), index=index, status="queued", processed=0, attempts=0, actor_id=actor_id)
        .on_conflict_do_nothing(index_elements=["index"], index_where=ReindexJob.status.in_(ACTIVE_STATUSES))
        .returning(ReindexJob.id)
    ).scalar()
    if job_id is None:
        running = session.scalar(
            select(ReindexJob.id).where(ReindexJob.index == index, ReindexJob.status.in_(ACTIVE_STATUSES))
        )
        raise Conflict(
            "reindex_running", "Já há uma reconstrução deste índice na fila ou em andamento.", job_id=running,
        )
    job = session.get(ReindexJob, job_id)
    assert job is not None
    return job


@dataclass(frozen=True)
class Claim:
    """A run's hold on a job: which index to rebuild, and which attempt this run is."""

    job_id: str
    index: str
    attempt: int


def begin(session: Session, job_id: str) -> Claim | None:
    """Claim a queued job (queued → backfilling, attempts + 1, under a row lock); None when it is not queued
    (a duplicate or late task stands down). NotFound if unknown."""
    job = session.scalars(
        select(ReindexJob).where(ReindexJob.id == job_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if job is None:
        raise NotFound(ENTITY, job_id)
    if job.status != "queued":
        return None
    job.status = "backfilling"
    job.attempts += 1
    job.processed, job.total, job.new_index = 0, None, None
    job.started_at = job.started_at or func.now()
    session.flush()
    return Claim(job.id, job.index, job.attempts)


def _of_run(claim: Claim):
    return and_(
        ReindexJob.id == claim.job_id, ReindexJob.attempts == claim.attempt, ReindexJob.status.in_(RUNNING_STATUSES)
    )


def record_phase(session: Session, claim: Claim, status: str, new_index: str) -> None:
    """Record the run's phase (`backfilling` once the new index exists, then `swapping`) and its new index."""
    if status not in RUNNING_STATUSES:
        raise ValueError(status)
    session.execute(
        update(ReindexJob).where(_of_run(claim)).values(status=status, new_index=new_index, updated_at=func.now())
    )


def record_progress(session: Session, claim: Claim, processed: int, total: int) -> None:
    """Record how many rows the backfill wrote of how many (also a sign of life)."""
    session.execute(
        update(ReindexJob).where(_of_run(claim)).values(processed=processed, total=total, updated_at=func.now())
    )


def touch(session: Session, claim: Claim) -> None:
    """The run's heartbeat: it is alive (the sweep reads `updated_at`)."""
    session.execute(update(ReindexJob).where(_of_run(claim)).values(updated_at=func.now()))


def finish(session: Session, claim: Claim, *, new_index: str, documents: int) -> None:
    """Close a run whose alias swap succeeded: done, with the documents written."""
    session.execute(
        update(ReindexJob).where(_of_run(claim)).values(
            status="done", new_index=new_index, processed=documents, total=documents, finished_at=func.now(),
            updated_at=func.now(),
        )
    )


def fail(session: Session, claim: Claim, code: str, message: str) -> None:
    """Close a run that failed, with a stable code and a pt-BR message; the live index was left as it was."""
    session.execute(
        update(ReindexJob).where(_of_run(claim)).values(
            status="failed", failure_code=code, failure_message=message, finished_at=func.now(), updated_at=func.now(),
        )
    )


@dataclass(frozen=True)
class Stalled:
    """A job whose run stopped showing signs of life: its index and the new index it may have left behind."""

    job_id: str
    index: str
    new_index: str | None
    attempts: int


def dead_runs(session: Session, dead_after: timedelta) -> list[Stalled]:
    """Jobs backfilling or swapping with no heartbeat for `dead_after` (their worker died), locked for this
    transaction; a job whose row a live run holds is skipped, never waited for."""
    rows = session.execute(
        select(ReindexJob.id, ReindexJob.index, ReindexJob.new_index, ReindexJob.attempts)
        .where(ReindexJob.status.in_(RUNNING_STATUSES), ReindexJob.updated_at < func.now() - dead_after)
        .order_by(ReindexJob.created_at)
        .with_for_update(skip_locked=True)
    ).all()
    return [Stalled(*row) for row in rows]


def settle_dead_run(session: Session, stalled: Stalled, *, swapped: bool) -> str:
    """After the sweep looked at what a dead run left: `done` when its new index is live (it died after the
    swap), else queued again (attempts left) or failed `worker_lost`. Returns the new status."""
    values: dict = {"updated_at": func.now()}
    if swapped:
        values.update(status="done", finished_at=func.now())
        if stalled.new_index:
            values["new_index"] = stalled.new_index
    elif stalled.attempts < MAX_ATTEMPTS:
        values.update(status="queued", processed=0, total=None, new_index=None)
    else:
        values.update(
            status="failed", failure_code="worker_lost", finished_at=func.now(),
            failure_message="O processo da reconstrução parou várias vezes antes de terminar; o índice em uso não "
                            "foi alterado. Verifique os workers e peça a reconstrução de novo.",
        )
    session.execute(
        update(ReindexJob)
        .where(ReindexJob.id == stalled.job_id, ReindexJob.attempts == stalled.attempts,
               ReindexJob.status.in_(RUNNING_STATUSES))
        .values(**values)
    )
    return values["status"]


def lost_queued(session: Session, quiet: timedelta) -> list[str]:
    """Ids of jobs queued with no change for `quiet` (their task was lost: broker down, worker gone); touched so
    the next sweep waits for the task it is about to send. Sending a second task is harmless: `begin` claims
    a job once."""
    ids = list(session.scalars(
        select(ReindexJob.id)
        .where(ReindexJob.status == "queued", ReindexJob.updated_at < func.now() - quiet)
        .with_for_update(skip_locked=True)
    ))
    if ids:
        session.execute(update(ReindexJob).where(ReindexJob.id.in_(ids)).values(updated_at=func.now()))
    return ids
