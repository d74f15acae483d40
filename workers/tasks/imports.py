"""Import tasks: apply an uploaded agenda in committed batches, resume the imports whose task was lost."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from storage.imports import service as import_service
from workers import staff_load
from workers.app import DEFAULT_QUEUE
from workers.settings import get_settings
from workers.tasks import task, throttled
from workers.tasks.resumable import resume_stalled, run_resumable
from workers.tasks.sync import nudge_drain

log = logging.getLogger(__name__)
T = TypeVar("T")

# Tries of an import task that keeps failing (database down, a bug) before the import is marked failed.
IMPORT_MAX_RETRIES = 3
# An import that died this many times (each run bumps its attempts) is given up on, not resumed forever.
IMPORT_MAX_RUNS = 5
# An import queued or processing with no committed batch for this long lost its task (a batch takes seconds).
IMPORT_STALLED_AFTER_MINUTES = 10.0


@task("workers.imports.apply", queue=DEFAULT_QUEUE, acks_late=True, bind=True, max_retries=IMPORT_MAX_RETRIES)
def apply_import(self, import_id: str) -> str:
    """Apply an uploaded agenda file in committed batches, nudging the drain as batches land.

    acks_late is safe: each batch commits with its checkpoint, so a task re-run after
    the worker died (or a redelivered message) resumes after the last committed batch
    and ends exactly as one clean run; a finished import is left alone. Unexpected
    errors are retried with a backoff, then the import is marked failed.
    """

    def run() -> str:
        settings = get_settings()
        waits: list[float] = []

        def wait_for_staff() -> None:
            # Staff's requests first (workers/staff_load.py): before each batch, while they overlap.
            waited = staff_load.wait_while_busy(settings.import_yield_max_seconds)
            if waited:
                waits.append(waited)

        status = yielding(
            lambda: import_service.apply_import(
                import_id, on_batch_committed=throttled(nudge_drain, every=0.5), before_batch=wait_for_staff,
            ),
            settings.import_nice,
        )
        nudge_drain()  # the last batch's changes, whatever the throttle skipped
        if waits:
            log.info("import waited for staff", extra={
                "import_id": import_id, "batches_waited": len(waits), "seconds_waited": round(sum(waits), 1),
            })
        return status

    return run_resumable(
        self, "import", import_id, run,
        alive=lambda session: import_service.heartbeat(session, import_id),
        give_up=lambda session: import_service.mark_failed(
            session, import_id, "internal_error",
            "Erro interno ao aplicar a planilha. As linhas já aplicadas foram mantidas; envie o arquivo "
            "novamente para concluir.",
        ),
    )


def yielding(work: Callable[[], T], nice: int) -> T:
    """Run `work` on a thread of its own whose CPU priority is lowered by `nice`, and return its result.

    Searches must not wait behind an import (issue 14): on a busy machine the scheduler gives the
    API and the drain the CPU first. Linux sets a thread's nice value alone (setpriority on its
    thread id), and raising it needs no privilege, unlike lowering it back: hence a thread that
    ends with the work, never the worker process itself. Processes the work starts (the file
    parser's child) inherit the value.
    """
    if nice <= 0:
        return work()

    def niced() -> T:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except OSError as error:  # not Linux, or refused: the import runs at normal priority
            log.warning("could not lower the import's priority", extra={"error": type(error).__name__})
        return work()

    context = contextvars.copy_context()  # the task's log context (task id) goes along
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import") as pool:
        return pool.submit(context.run, niced).result()


@task("workers.imports.resume_stalled", queue=DEFAULT_QUEUE)
def resume_stalled_imports(quiet_minutes: float = IMPORT_STALLED_AFTER_MINUTES, dead_after_seconds: float | None = None) -> int:
    """Queue again the imports whose worker died (no heartbeat for `dead_after_seconds`, default from settings)
    or whose task was lost (no progress for `quiet_minutes`); return how many.

    Idempotent (beat runs it every few seconds): apply_import resumes after the last committed
    batch, leaves a finished import alone, and a duplicate run of a live one stands down.
    """
    return resume_stalled(
        "import", import_service.resume_stalled, apply_import, quiet_minutes, dead_after_seconds, IMPORT_MAX_RUNS
    )
