"""What the API may ask of the workers, always after its transaction committed."""

from __future__ import annotations

from workers.tasks.jobs import run_bulk_job
from workers.tasks.imports import apply_import
from workers.tasks.messages import enqueue_send
# nudge_drain (best effort, after a commit) lives beside the drain task; the API asks for it here.
from workers.tasks.sync import nudge_drain, reindex  # noqa: F401
# A user's generation in Redis (best effort, like the nudge): bumped after a committed change of the user,
# read on every request by the API's cache of the signed-in user (api/auth_cache.py).
from workers import user_generation  # noqa: F401
# Staff's requests overlapping (best effort too): marked by the API, waited for by imports (workers/staff_load.py).
from workers import staff_load  # noqa: F401


def enqueue_import(import_id: str) -> None:
    """Queue an import for the workers; call after the upload's transaction committed.

    Raises if the broker is down: the import stays `queued` and `python -m workers
    resume-imports` (or a new upload) picks it up later.
    """
    apply_import.apply_async(args=[import_id], retry=True, retry_policy={"max_retries": 3, "interval_start": 0.2})


def enqueue_reindex(job_id: str) -> None:
    """Queue a reindex job (a zero-downtime rebuild of one index); call after the job's transaction committed.

    Raises if the broker is down: the job stays `queued` and the reindex sweep sends it later.
    """
    from workers.tasks.reindex import enqueue_job

    enqueue_job(job_id)


def enqueue_bulk(job_id: str) -> None:
    """Queue a bulk job for the workers; call after the job's transaction committed.

    Raises if the broker is down: the job stays `queued` and the stalled-job sweep
    (workers.bulk.resume_stalled, every minute) picks it up later.
    """
    run_bulk_job.apply_async(args=[job_id], retry=True, retry_policy={"max_retries": 3, "interval_start": 0.2})


def enqueue_message(message_id: str) -> None:
    """Queue the send of a requested message; call after its transaction committed.

    Best effort: with the broker down the message stays `queued` and the message sweep
    (workers.messages.sweep, every minute) queues it again.
    """
    enqueue_send(message_id)
