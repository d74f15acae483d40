"""Resumable work (imports, bulk jobs; `storage.resumable`) as tasks: one shape to run them, one sweep to resume them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from storage.db import unit_of_work
from storage.errors import NotFound
from workers.heartbeat import heartbeat
from workers.settings import get_settings

log = logging.getLogger(__name__)

def run_resumable(
    task_: Any, kind: str, row_id: str, run: Callable[[], str], *,
    alive: Callable[[Session], None], give_up: Callable[[Session], None],
) -> str:
    """The one shape of a resumable task (an import, a bulk job; `storage.resumable`): `run` under a heartbeat
    (`alive` every few seconds); an unknown row is `missing`; an unexpected error is retried with a backoff
    (2, 4, 8 s…) up to the task's `max_retries`, then `give_up` marks the row failed."""
    try:
        with heartbeat(lambda: _in_unit_of_work(alive), every=get_settings().task_heartbeat_seconds):
            return run()
    except NotFound:
        log.warning("task for an unknown row", extra={"kind": kind, "id": row_id})
        return "missing"
    except Exception as error:
        if task_.request.retries >= task_.max_retries:
            log.exception("task gave up", extra={"kind": kind, "id": row_id})
            with unit_of_work() as session:
                give_up(session)
            return "failed"
        raise task_.retry(exc=error, countdown=2 ** (task_.request.retries + 1)) from error


def resume_stalled(
    kind: str, sweep: Callable[..., list[str]], task_: Any, quiet_minutes: float, dead_after_seconds: float | None,
    max_runs: int,
) -> int:
    """The one resume sweep: `sweep` (a domain's `resume_stalled`) requeues the lost rows in one transaction,
    then each gets a new task; return how many."""
    dead_after = dead_after_seconds if dead_after_seconds is not None else get_settings().task_dead_after_seconds
    with unit_of_work() as session:
        stalled = sweep(
            session, quiet=timedelta(minutes=quiet_minutes), max_attempts=max_runs, dead_after=timedelta(seconds=dead_after)
        )
    for row_id in stalled:
        log.warning("re-enqueueing stalled work", extra={"kind": kind, "id": row_id})
        task_.apply_async(args=[row_id])
    return len(stalled)


def _in_unit_of_work(action: Callable[[Session], None]) -> None:
    with unit_of_work() as session:
        action(session)
