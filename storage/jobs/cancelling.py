"""Stopping a bulk job: asked by its creator or an admin, honoured by the worker before its next batch.

A queued job (no run holds it) is cancelled at once. A running one turns `cancelling`: the
worker finds that status when it locks the job for its next batch (service.process_batch) and
closes it as `cancelled`; items not done keep no result (`pending`). The request waits for the
batch in progress (it holds the row lock), never interrupts it, so no item is half done. If the
worker died, the stalled-job sweep (service.resume_stalled) closes the job once its heartbeat is silent.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.orm import Session

from storage.audit.service import Actor
from storage.errors import Conflict, Forbidden, NotFound
from storage.jobs import repo
from storage.jobs.models import FINAL_STATUSES, BulkJob
from storage.jobs.service import ENTITY, settle_cancel


def cancel(session: Session, job_id: str, actor: Actor) -> BulkJob:
    """Ask a job to stop (queued → cancelled; running → cancelling; cancelling stays). Forbidden
    `not_your_job` unless the actor created it or is an admin; Conflict `bulk_job_finished` once it ended."""
    job = repo.get_for_update(session, job_id)
    if job is None:
        raise NotFound(ENTITY, job_id)
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
