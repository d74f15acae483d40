"""Thin Celery tasks, one module per domain: ids and small scalars in, plain functions of storage/indexing called.

`sync` (the outbox drain and its nudge, the day roll-over, index rebuilds), `imports`, `bulk`
(bulk actions), `messages`, and `resumable` (the one shape of an import's or a bulk job's
task and of their resume sweep). The API reaches them only through `workers.enqueue`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from workers.app import celery_app

def task(name: str, queue: str, acks_late: bool = False, **options):
    """The house task decorator: an explicit dotted name, a queue (via task_routes), no stored results."""
    celery_app.conf.task_routes = {**(celery_app.conf.task_routes or {}), name: {"queue": queue}}
    return celery_app.task(name=name, acks_late=acks_late, ignore_result=True, **options)


def throttled(action: Callable[[], None], every: float) -> Callable[[], None]:
    """`action`, run at most once per `every` seconds (for nudges after each committed batch)."""
    last = [0.0]

    def run() -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            action()

    return run
