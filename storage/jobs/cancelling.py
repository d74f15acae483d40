"""Stopping a bulk job: asked by its creator or an admin, honoured by the worker before its next batch.

A queued job (no run holds it) is cancelled at once. A running one turns `cancelling`: the
worker finds that status when it locks the job for its next batch (service.process_batch) and
closes it as `cancelled`; items not done keep no result (`pending`). The request waits for the
batch in progress (it holds the row lock), never interrupts it, so no item is half done. If the
worker died, the stalled-job sweep closes the job (`settle_dead`) once its heartbeat is silent.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.audit.service import Actor
from storage.errors import Conflict, Forbidden
from storage.jobs import repo
from storage.jobs.models import FINAL_STATUSES, BulkJob
from storage.jobs.service import JobNotFound, settle_cancel


def cancel(session: Session, job_id: str, actor: Actor) -> BulkJob:
    """Ask a job to stop (queued → cancelled; running → cancelling; cancelling stays). Forbidden
    `not_your_job` unless the actor created it or is an admin; Conflict `bulk_job_finished` once it ended."""
    job = repo.get_for_update(session, job_id)
    if job is None:
        raise JobNotFound(job_id)
    if actor.role != "admin" and job.actor_id != actor.user_id:
        raise Forbidden("not_your_job", "Só quem criou a ação em lote (ou um administrador) pode cancelá-la.")
    if job.status in FINAL_STATUSES:
        raise Conflict("bulk_job_finished", "A ação em lote já terminou: não há o que cancelar.", status=job.status)
    if job.status == "queued":
        settle_cancel(job)
    elif job.status == "running":
        job.status = "cancelling"
        job.updated_at = func.now()
    session.flush()
    return job


def settle_dead(session: Session, dead_after: timedelta) -> list[str]:
    """Close the jobs asked to stop whose heartbeat is silent for `dead_after` (their worker died); return their
    ids. A job a live batch holds locked is skipped, never waited for."""
    jobs = list(session.scalars(
        select(BulkJob)
        .where(BulkJob.status == "cancelling", BulkJob.updated_at < func.now() - dead_after)
        .with_for_update(skip_locked=True)
    ))
    for job in jobs:
        settle_cancel(job)
    session.flush()
    return [job.id for job in jobs]
