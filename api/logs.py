"""The API's request context: a request id per request and one access line each.

`RequestContextMiddleware` gives each request an id (a sane incoming `X-Request-ID` or a new
one), echoes it back and writes one access line per request (route template, status, duration;
never the query string, which may hold a name or a CPF). The JSON, redacting log setup itself
lives in `observability.logs`, shared with the workers.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.logs import redact, request_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9._:-]{8,64}$")

access_log = logging.getLogger("coleta.access")


class RequestContextMiddleware:
    """Pure ASGI middleware: request id in, request id out, one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        # A client's id is kept only if it is plain (a letter at least, nothing that looks personal).
        sane = _SANE_REQUEST_ID.match(incoming) and redact(incoming) == incoming
        request_id = incoming if sane else uuid.uuid4().hex
        # Each request runs in its own task (its own context copy), so this never leaks to another.
        request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": getattr(route, "path", None) or redact(scope["path"]),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": scope["state"].get("user_id"),
                    "client_ip": scope["client"][0] if scope.get("client") else None,
                },
            )
