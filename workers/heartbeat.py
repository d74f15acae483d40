"""A task's heartbeat: a background thread that marks its row alive every few seconds.

Imports and bulk jobs run for minutes; if their worker is killed (kill -9, OOM, a lost
machine), the row stays `processing`/`running` and nothing tells it from a slow batch.
The heartbeat does: while the task's process lives, the row's `updated_at` moves every
`every` seconds, and the resume sweep (beat, every ~10 s) re-queues the rows whose
heartbeat stopped (storage/resumable.py: one life for both).

Why not the broker's visibility timeout: it applies to every task on the broker, so a
30 s timeout would redeliver every live import, bulk job and rebuild that runs longer
than that; and Redis only restores the messages when some worker polls for it. The
heartbeat measures the one thing that matters, the task's process being alive.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def heartbeat(beat: Callable[[], None], every: float, name: str = "heartbeat") -> Iterator[None]:
    """Call `beat()` every `every` seconds on a daemon thread while the block runs (failures logged, not raised)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            try:
                beat()
            except Exception as error:  # noqa: BLE001 - a missed beat is only a beat; the task goes on
                log.warning("heartbeat failed", extra={"error": type(error).__name__})

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
