"""Admission control: no more requests in flight than the database pool has connections.

Each request uses at most one connection (one session), and FastAPI moves a request between
threads while it holds it (sync dependencies, the route, response validation). With more
requests in flight than connections, requests that already hold a connection can wait for a
thread while every thread is taken by requests waiting for a connection: the pool starves and
requests fail after the pool timeout. Admitted requests always find a connection, and the
thread pool is kept at least as large, so they always find a thread; the others wait here, on
the event loop, holding neither.
"""

from __future__ import annotations

import asyncio

from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send


class AdmissionMiddleware:
    """Pure ASGI middleware: at most `limit` HTTP requests inside the app at once."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            # Created on the running loop; the thread pool must never be the smaller of the two.
            self._slots = asyncio.Semaphore(self.limit)
            limiter = to_thread.current_default_thread_limiter()
            limiter.total_tokens = max(limiter.total_tokens, self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
