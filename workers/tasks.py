"""Thin Celery tasks: ids and small scalars in, plain functions of storage/indexing called."""

from __future__ import annotations

from indexing import sync
from workers.app import SYNC_QUEUE, celery_app


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
