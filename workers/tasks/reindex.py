"""Reindex jobs: run one rebuild and write its phases and progress to its row; sweep the runs that died."""

from __future__ import annotations

import logging
from datetime import timedelta

from indexing import lifecycle
from storage.errors import NotFound
from storage.db import unit_of_work
from storage.reindex import service as reindex_service
from workers.app import DEFAULT_QUEUE
from workers.heartbeat import heartbeat
from workers.settings import get_settings
from workers.tasks import task, throttled

log = logging.getLogger(__name__)

# Progress is written at most this often (each write is a small committed UPDATE).
PROGRESS_EVERY_SECONDS = 1.0
# A job queued this long without being claimed lost its task: it is sent again.
QUEUED_QUIET_MINUTES = 10.0


def run_job(job_id: str) -> str:
    """Run a queued reindex job to its end and return its final status (`skipped` when it was not queued).

    The row says where the run is: `backfilling` (with `processed` of `total`), `swapping`, then
    `done` or `failed` with the rebuild's code and pt-BR message; the live index is never touched
    before the swap. Safe to run twice: only a queued job is claimed.
    """
    with unit_of_work() as session:
        claim = reindex_service.begin(session, job_id)
    if claim is None:
        return "skipped"

    def write(action) -> None:
        with unit_of_work() as session:
            action(session)

    last = {"done": 0, "total": 0}

    def progress_now() -> None:
        write(lambda s: reindex_service.record_progress(s, claim, last["done"], last["total"]))

    progress_throttled = throttled(progress_now, every=PROGRESS_EVERY_SECONDS)

    def progress(done: int, total: int) -> None:
        last.update(done=done, total=total)
        progress_throttled()

    def on_phase(phase: str, new_index: str) -> None:
        if phase == "swapping" and last["total"]:
            progress_now()  # the backfill's last count, whatever the throttle skipped
        write(lambda s: reindex_service.record_phase(s, claim, phase, new_index))

    try:
        with heartbeat(lambda: write(lambda s: reindex_service.touch(s, claim)),
                       every=get_settings().task_heartbeat_seconds):
            report = lifecycle.rebuild(claim.index, progress=progress, on_phase=on_phase)
    except lifecycle.RebuildError as error:
        code, message = error.code, str(error)
        log.warning("reindex failed", extra={"job_id": job_id, "index": claim.index, "code": code})
        write(lambda s: reindex_service.fail(s, claim, code, message))
        return "failed"
    except Exception as error:
        log.exception("reindex failed", extra={"job_id": job_id, "index": claim.index, "error": type(error).__name__})
        write(lambda s: reindex_service.fail(
            s, claim, "internal_error",
            "Erro interno durante a reconstrução; o índice em uso não foi alterado. Tente de novo.",
        ))
        return "failed"
    write(lambda s: reindex_service.finish(s, claim, new_index=report.new_index, documents=report.documents))
    log.info("reindex done", extra={"job_id": job_id, "index": claim.index, "documents": report.documents})
    return "done"


@task("workers.admin.reindex_job", queue=DEFAULT_QUEUE)
def run_reindex_job(job_id: str) -> str:
    """Run a reindex job (see `run_job`).

    Not acks_late: a rebuild is not resumable midway. A run whose worker dies stops its heartbeat;
    the sweep drops what it left behind and queues the job again (or fails it after
    reindex_service.MAX_ATTEMPTS runs).
    """
    try:
        return run_job(job_id)
    except NotFound:
        log.warning("reindex task for an unknown job", extra={"job_id": job_id})
        return "missing"


@task("workers.admin.resume_stalled_reindex", queue=DEFAULT_QUEUE)
def resume_stalled_reindex(quiet_minutes: float = QUEUED_QUIET_MINUTES, dead_after_seconds: float | None = None) -> int:
    """Settle the reindex jobs whose worker died (no heartbeat for `dead_after_seconds`, default from settings):
    done if their swap happened, else their leftover index is dropped and they are queued again (or failed
    `worker_lost`); send again the queued jobs whose task was lost. Returns how many jobs were (re)queued.

    Idempotent (beat runs it every few seconds): a job is claimed by one run only, and a settled job is no
    longer running.
    """
    dead_after = timedelta(
        seconds=dead_after_seconds if dead_after_seconds is not None else get_settings().task_dead_after_seconds
    )
    requeued: list[str] = []
    with unit_of_work() as session:
        for stalled in reindex_service.dead_runs(session, dead_after):
            swapped = bool(stalled.new_index) and lifecycle.drop_leftover(stalled.index, stalled.new_index)
            status = reindex_service.settle_dead_run(session, stalled, swapped=swapped)
            log.warning("settled a dead reindex run", extra={"job_id": stalled.job_id, "status": status})
            if status == "queued":
                requeued.append(stalled.job_id)
        requeued += reindex_service.lost_queued(session, timedelta(minutes=quiet_minutes))
    for job_id in requeued:
        enqueue_job(job_id)
    return len(requeued)


def enqueue_job(job_id: str) -> None:
    """Queue a reindex job's run (raises if the broker is down; the sweep sends it again later)."""
    run_reindex_job.apply_async(args=[job_id], retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2})
