"""Thin Celery tasks: ids and small scalars in, plain functions of storage/indexing called."""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import TypeVar

from kombu.exceptions import LimitExceeded
from kombu.pools import ProducerPool

from indexing import lifecycle, sync
from storage.clock import local_today
from storage.db import unit_of_work
from storage.errors import NotFound
from storage.imports import service as import_service
from storage.visits import commands as visit_commands
from storage.visits import repo as visit_repo
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app
from workers.breaker import Breaker
from workers.heartbeat import heartbeat
from workers.settings import get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Tries of an import task that keeps failing (database down, a bug) before the import is marked failed.
IMPORT_MAX_RETRIES = 3
# An import that died this many times (each run bumps its attempts) is given up on, not resumed forever.
IMPORT_MAX_RUNS = 5
# An import queued or processing with no committed batch for this long lost its task (a batch takes seconds).
IMPORT_STALLED_AFTER_MINUTES = 10.0


def task(name: str, queue: str, acks_late: bool = False, **options):
    """The house task decorator: an explicit dotted name, a queue (via task_routes), no stored results."""
    celery_app.conf.task_routes = {**(celery_app.conf.task_routes or {}), name: {"queue": queue}}
    return celery_app.task(name=name, acks_late=acks_late, ignore_result=True, **options)


@task("workers.sync.drain_outbox", queue=SYNC_QUEUE, acks_late=True)
def drain_outbox() -> int:
    """Drain the outbox into OpenSearch.

    acks_late is safe: outbox rows are deleted only after the version-guarded
    write succeeded, so a re-run after a crash replays harmless writes.
    """
    return sync.drain().applied_entities


class Nudger:
    """Publishes drain_outbox, best effort, on connections of its own that give up in milliseconds.

    Celery's shared producers retry a connection for `broker_connection_timeout` (2 s), which every
    write paid while Redis was down. These never retry, time out after ~0.1 s on a hung Redis, and
    after a failure skip the broker for `cool_down` seconds: a nudge is worth nothing the beat
    sweep (every second) does not do anyway.
    """

    SOCKET_TIMEOUT = 0.1

    def __init__(self, url: str, cool_down: float = 5.0, pool_size: int = 8) -> None:
        connection = celery_app.connection_for_write(
            url,
            connect_timeout=self.SOCKET_TIMEOUT,
            transport_options={
                "max_retries": 0,
                "socket_connect_timeout": self.SOCKET_TIMEOUT,
                "socket_timeout": self.SOCKET_TIMEOUT,
                "retry_on_timeout": False,
            },
        )
        self.producers = ProducerPool(connection.Pool(limit=pool_size), limit=pool_size)
        self.breaker = Breaker(cool_down)

    def __call__(self) -> str:
        """Send one nudge; return `sent`, `failed` or `skipped` (broker known down). Never raises."""
        if not self.breaker.allows():
            return "skipped"
        try:
            with self.producers.acquire(block=True, timeout=self.SOCKET_TIMEOUT) as producer:
                drain_outbox.apply_async(expires=10, retry=False, producer=producer)
        except LimitExceeded:
            return "skipped"  # every producer busy: nudges are already on their way, and Redis is not down
        except Exception as error:  # the broker being down must not fail committed work
            self.breaker.failed()
            log.warning("could not nudge the outbox drain", extra={"error": type(error).__name__})
            return "failed"
        self.breaker.succeeded()
        return "sent"


_nudgers: dict[int, Nudger] = {}


def nudge_drain() -> str:
    """Ask for an outbox drain now (best effort: the beat sweep runs anyway every second); never raises."""
    pid = os.getpid()  # connections are never shared with a forked child
    nudger = _nudgers.get(pid)
    if nudger is None:
        nudger = _nudgers[pid] = Nudger(celery_app.conf.broker_write_url or celery_app.conf.broker_url)
    return nudger()


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


def throttled(action: Callable[[], None], every: float) -> Callable[[], None]:
    """`action`, run at most once per `every` seconds (for nudges after each committed batch)."""
    last = [0.0]

    def run() -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            action()

    return run


# At midnight a visit of yesterday stops being a patient's "next visit" and becomes the last one.
# Two days back, so one missed night (beat down) is still caught up.
ROLLOVER_DAYS_BACK = 2
ROLLOVER_BATCH = 1000


@task("workers.sync.roll_over_day", queue=DEFAULT_QUEUE)
def roll_over_day() -> int:
    """Re-index the patients whose next/last visit changed meaning when the day turned; returns how many.

    Their documents derive next_visit (from today) and last_visit (before today) from the
    day they were built; nothing in PostgreSQL changed, so they are bumped and sent through
    the outbox like any change. Idempotent: a second run only rewrites the same documents.
    """
    today = local_today()
    with unit_of_work() as session:
        patient_ids = visit_repo.patient_ids_with_visits_between(
            session, today - timedelta(days=ROLLOVER_DAYS_BACK), today - timedelta(days=1)
        )
    for start in range(0, len(patient_ids), ROLLOVER_BATCH):
        with unit_of_work() as session:
            visit_commands.record_changes(session, [], patient_ids[start:start + ROLLOVER_BATCH])
    if patient_ids:
        nudge_drain()
    return len(patient_ids)


@task("workers.admin.reindex", queue=DEFAULT_QUEUE)
def reindex(index: str) -> int:
    """Rebuild one index from PostgreSQL behind its alias (no downtime); returns the documents written.

    Not acks_late: a rebuild killed midway is not re-run by itself; its leftover
    index is dropped by the next rebuild once stale.
    """
    try:
        return lifecycle.rebuild(index).documents
    except lifecycle.RebuildError as error:
        log.warning("reindex refused", extra={"index": index, "error": str(error)})
        return 0


@task("workers.imports.apply", queue=DEFAULT_QUEUE, acks_late=True, bind=True, max_retries=IMPORT_MAX_RETRIES)
def apply_import(self, import_id: str) -> str:
    """Apply an uploaded agenda file in committed batches, nudging the drain as batches land.

    acks_late is safe: each batch commits with its checkpoint, so a task re-run after
    the worker died (or a redelivered message) resumes after the last committed batch
    and ends exactly as one clean run; a finished import is left alone. Unexpected
    errors are retried with a backoff, then the import is marked failed.
    """
    try:
        with heartbeat(lambda: _import_alive(import_id), every=get_settings().task_heartbeat_seconds):
            status = yielding(
                lambda: import_service.apply_import(import_id, on_batch_committed=throttled(nudge_drain, every=0.5)),
                get_settings().import_nice,
            )
        nudge_drain()  # the last batch's changes, whatever the throttle skipped
        return status
    except NotFound:
        log.warning("import task for an unknown import", extra={"import_id": import_id})
        return "missing"
    except Exception as error:
        if self.request.retries >= IMPORT_MAX_RETRIES:
            log.exception("import gave up", extra={"import_id": import_id})
            with unit_of_work() as session:
                import_service.mark_failed(
                    session, import_id, "internal_error",
                    "Erro interno ao aplicar a planilha. As linhas já aplicadas foram mantidas; envie o arquivo "
                    "novamente para concluir.",
                )
            return "failed"
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error


def _import_alive(import_id: str) -> None:
    with unit_of_work() as session:
        import_service.heartbeat(session, import_id)


@task("workers.imports.resume_stalled", queue=DEFAULT_QUEUE)
def resume_stalled_imports(quiet_minutes: float = IMPORT_STALLED_AFTER_MINUTES, dead_after_seconds: float | None = None) -> int:
    """Queue again the imports whose worker died (no heartbeat for `dead_after_seconds`, default from settings)
    or whose task was lost (no progress for `quiet_minutes`); return how many.

    Idempotent (beat runs it every few seconds): apply_import resumes after the last committed
    batch, leaves a finished import alone, and a duplicate run of a live one stands down.
    """
    dead_after = dead_after_seconds if dead_after_seconds is not None else get_settings().task_dead_after_seconds
    with unit_of_work() as session:
        stalled = import_service.resumable_imports(
            session, timedelta(minutes=quiet_minutes), max_attempts=IMPORT_MAX_RUNS,
            dead_after=timedelta(seconds=dead_after),
        )
    for import_id in stalled:
        log.warning("re-enqueueing a stalled import", extra={"import_id": import_id})
        apply_import.apply_async(args=[import_id])
    return len(stalled)
