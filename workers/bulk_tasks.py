"""The bulk job task: resolve the targets, process them in committed batches, close the job."""

from __future__ import annotations

import logging
from datetime import timedelta

from opensearchpy import OpenSearch

from indexing.client import get_client
from indexing.queries import bulk_targets
from storage.db import unit_of_work
from storage.jobs import cancelling as job_cancelling
from storage.jobs import repo as job_repo
from storage.jobs import service as job_service
from workers.app import DEFAULT_QUEUE
from workers.heartbeat import heartbeat
from workers.settings import get_settings
from workers.tasks import nudge_drain, task, throttled

log = logging.getLogger(__name__)

# Tries of a job whose run keeps failing (search or database down, a bug) before it is marked failed.
BULK_MAX_RETRIES = 3
# A job that died this many times (each run bumps its attempts) is given up on, not resumed forever.
BULK_MAX_RUNS = 5
# An unfinished job with no committed batch for this long lost its task (a batch takes a second or two).
BULK_STALLED_AFTER_MINUTES = 10.0
# Batches land every second or so; the drain is asked for at most this often (beat sweeps anyway).
NUDGE_EVERY_SECONDS = 0.5


def run_job(job_id: str, batch_size: int | None = None, client: OpenSearch | None = None) -> str:
    """Run a bulk job to its end and return its final status. Idempotent and resumable.

    Targets are resolved once (a patient search through the index, then the visits by the
    documented rule) and stored as pending items in the same transaction that marks the
    job resolved. Items are then processed in committed batches; each item's effect and
    its result commit together and only pending items are taken, so a run killed anywhere
    and run again (acks_late redelivery, the stalled-job sweep, a second delivery) does
    no item twice and ends with the counters of one clean run. Messages a batch queued are
    sent to the workers after that batch committed; the drain is nudged as batches land.
    """
    from workers import enqueue  # here, not at the top: workers.enqueue imports this module

    size = batch_size or job_service.BATCH_SIZE
    with unit_of_work() as session:
        run = job_service.begin(session, job_id)
    if run.status in job_service.FINAL_STATUSES:
        return run.status
    if not run.resolved:
        patient_ids = None
        if run.target == "patient_search":
            patient_ids = bulk_targets.patient_ids(
                client or get_client(), run.target_search or {}, limit=job_service.MAX_TARGETS + 1
            )
        with unit_of_work() as session:
            job_service.store_targets(session, job_id, patient_ids, search=run.target_search)

    nudge = throttled(nudge_drain, every=NUDGE_EVERY_SECONDS)
    while True:
        with unit_of_work() as session:
            batch = job_service.process_batch(session, job_id, size)
        for message_id in batch.message_ids:
            try:
                enqueue.enqueue_message(message_id)
            except Exception as error:  # the message stays queued in PostgreSQL for the messaging sweep
                log.warning("could not queue a bulk message", extra={"job_id": job_id, "error": type(error).__name__})
        if batch.processed:
            nudge()
        if not batch.remaining:
            break
    with unit_of_work() as session:
        status = job_service.finish(session, job_id)
    nudge_drain()  # the last batches' changes, whatever the throttle skipped
    log.info("bulk job finished", extra={"job_id": job_id, "status": status})
    return status


@task("workers.bulk.run", queue=DEFAULT_QUEUE, acks_late=True, bind=True, max_retries=BULK_MAX_RETRIES)
def run_bulk_job(self, job_id: str) -> str:
    """Run a bulk job (see `run_job`).

    acks_late is safe: each batch commits its item results with their effects and a re-run
    only takes items without a result, so a redelivered message after a worker died resumes
    where the last committed batch ended and a finished job is left alone. Unexpected errors
    (search or database down) are retried with a backoff, then the job is marked failed.
    """
    try:
        with heartbeat(lambda: _job_alive(job_id), every=get_settings().task_heartbeat_seconds):
            return run_job(job_id)
    except job_service.JobNotFound:
        log.warning("bulk task for an unknown job", extra={"job_id": job_id})
        return "missing"
    except Exception as error:
        if self.request.retries >= BULK_MAX_RETRIES:
            log.exception("bulk job gave up", extra={"job_id": job_id})
            with unit_of_work() as session:
                job_service.fail(
                    session, job_id, "internal_error",
                    "Erro interno ao executar a ação em lote. Os itens já processados foram mantidos; "
                    "crie a ação de novo para os que faltaram.",
                )
            return "failed"
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error


def _job_alive(job_id: str) -> None:
    with unit_of_work() as session:
        job_repo.touch(session, job_id)


@task("workers.bulk.resume_stalled", queue=DEFAULT_QUEUE)
def resume_stalled_jobs(quiet_minutes: float = BULK_STALLED_AFTER_MINUTES, dead_after_seconds: float | None = None) -> int:
    """Queue again the jobs whose worker died (no heartbeat for `dead_after_seconds`, default from settings) or
    whose task was lost (no progress for `quiet_minutes`); return how many.

    Idempotent (beat runs it every few seconds): a job resumes after its last committed batch and a
    finished one is left alone; a re-queued job is `queued` again until its new task starts. Jobs that
    died BULK_MAX_RUNS times are marked failed instead.
    """
    quiet = timedelta(minutes=quiet_minutes)
    dead_after = timedelta(
        seconds=dead_after_seconds if dead_after_seconds is not None else get_settings().task_dead_after_seconds
    )
    with unit_of_work() as session:
        # A job asked to stop whose worker died has nobody to stop it: it is closed here.
        job_cancelling.settle_dead(session, dead_after)
        stalled = job_repo.stalled(session, quiet, max_attempts=BULK_MAX_RUNS, dead_after=dead_after)
        job_repo.requeue(session, stalled)
        for job_id in job_repo.give_up_stalled(session, quiet, max_attempts=BULK_MAX_RUNS, dead_after=dead_after):
            job_service.fail(
                session, job_id, "stalled",
                "A ação em lote parou várias vezes sem concluir. Os itens já processados foram mantidos.",
            )
    for job_id in stalled:
        log.warning("re-enqueueing a stalled bulk job", extra={"job_id": job_id})
        run_bulk_job.apply_async(args=[job_id])
    return len(stalled)
