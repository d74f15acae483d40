"""Marks the moments when staff's requests overlap, so background work waits for them (workers/staff_load.py).

An idle-to-normal day has a request or two in flight; from `busy_from` at once they are queueing
for the same cores an import uses. The mark is renewed at most four times per `mark_seconds` by each
API process (one Redis write, on the event loop: milliseconds at worst, skipped while Redis is down).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from workers.enqueue import staff_load


class StaffLoadMiddleware:
    """Pure ASGI middleware: counts the HTTP requests in flight; from `busy_from` on, marks staff busy."""

    def __init__(self, app: ASGIApp, busy_from: int, mark_seconds: float) -> None:
        self.app = app
        self.busy_from = busy_from
        self.mark_seconds = mark_seconds
        self.in_flight = 0  # only touched on the event loop
        self._next_mark = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.busy_from <= 0:
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            if self.in_flight >= self.busy_from:
                self._mark()
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def _mark(self) -> None:
        now = time.monotonic()
        if now < self._next_mark:
            return
        self._next_mark = now + self.mark_seconds / 4
        staff_load.mark_busy(self.mark_seconds)
