"""Bulk action tasks: run a job (`storage.jobs.service.run`) with the index and the message queue, resume lost jobs."""

from __future__ import annotations

import logging

from opensearchpy import OpenSearch

from indexing.client import get_client
from indexing.queries import bulk_targets
from storage.jobs import service as job_service
from workers.app import DEFAULT_QUEUE
from workers.tasks import task, throttled
from workers.tasks.messages import enqueue_send
from workers.tasks.resumable import resume_stalled, run_resumable
from workers.tasks.sync import nudge_drain

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
    """Run a bulk job to its end (`storage.jobs.service.run`): targets from the index, messages a batch
    requested sent to the workers after it committed, the drain nudged as batches land."""
    search = client or get_client()
    nudge = throttled(nudge_drain, every=NUDGE_EVERY_SECONDS)

    def batch_committed(message_ids: list[str]) -> None:
        for message_id in message_ids:
            enqueue_send(message_id)  # never raises: a message left queued is sent by the messaging sweep
        nudge()

    status = job_service.run(
        job_id, lambda query, limit: bulk_targets.patient_ids(search, query, limit=limit),
        batch_size=batch_size, on_batch_committed=batch_committed,
    )
    nudge_drain()  # the last batches' changes, whatever the throttle skipped
    return status


@task("workers.bulk.run", queue=DEFAULT_QUEUE, acks_late=True, bind=True, max_retries=BULK_MAX_RETRIES)
def run_bulk_job(self, job_id: str) -> str:
    """Run a bulk job (see `run_job`).

    acks_late is safe: each batch commits its item results with their effects and a re-run
    only takes items without a result, so a redelivered message after a worker died resumes
    where the last committed batch ended and a finished job is left alone. Unexpected errors
    (search or database down) are retried with a backoff, then the job is marked failed.
    """
    return run_resumable(
        self, "bulk_job", job_id, lambda: run_job(job_id),
        alive=lambda session: job_service.heartbeat(session, job_id),
        give_up=lambda session: job_service.fail(
            session, job_id, "internal_error",
            "Erro interno ao executar a ação em lote. Os itens já processados foram mantidos; "
            "crie a ação de novo para os que faltaram.",
        ),
    )


@task("workers.bulk.resume_stalled", queue=DEFAULT_QUEUE)
def resume_stalled_jobs(quiet_minutes: float = BULK_STALLED_AFTER_MINUTES, dead_after_seconds: float | None = None) -> int:
    """Queue again the jobs whose worker died (no heartbeat for `dead_after_seconds`, default from settings) or
    whose task was lost (no progress for `quiet_minutes`); return how many.

    Idempotent (beat runs it every few seconds): a job resumes after its last committed batch and a
    finished one is left alone; a re-queued job is `queued` again until its new task starts. Jobs that
    died BULK_MAX_RUNS times are marked failed instead.
    """
    return resume_stalled(
        "bulk_job", job_service.resume_stalled, run_bulk_job, quiet_minutes, dead_after_seconds, BULK_MAX_RUNS
    )
