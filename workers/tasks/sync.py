"""Search sync tasks: the outbox drain and its after-commit nudge, the day roll-over, index rebuilds."""

from __future__ import annotations

import logging
import os
from datetime import timedelta

from kombu.exceptions import LimitExceeded
from kombu.pools import ProducerPool

from indexing import lifecycle, sync
from storage import indexed, outbox
from storage.clock import local_today
from storage.db import unit_of_work
from storage.visits import index_repo as visit_index_repo
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app
from observability.breaker import Breaker
from workers.tasks import task

log = logging.getLogger(__name__)


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
        patient_ids = visit_index_repo.patient_ids_with_visits_between(
            session, today - timedelta(days=ROLLOVER_DAYS_BACK), today - timedelta(days=1)
        )
    for start in range(0, len(patient_ids), ROLLOVER_BATCH):
        with unit_of_work() as session:
            outbox.mark_bulk(session)
            indexed.mark_changed(session, stale_patients=patient_ids[start:start + ROLLOVER_BATCH])
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
