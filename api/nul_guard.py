"""Refuse a NUL character anywhere in a request: path, query string or body (422 `invalid_character`).

PostgreSQL text cannot hold U+0000 (psycopg refuses to send it, JSONB refuses `\\u0000`), so a
NUL that reached a query ended as a 500. No field of this API has a use for one, so it is
refused here, once, for every route: in the path, in any query parameter (percent-encoded),
in a JSON body (raw or as the `\\u0000` escape) and in a form body. Multipart bodies are left
alone: they carry files, whose bytes may be anything (their few text fields are checked where
they are stored).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HTTP_MESSAGES, error_body

CODE = "invalid_character"
MESSAGE = "A requisição contém um caractere nulo (\\0), que não é aceito."
# The JSON escape of U+0000 after an even run of backslashes (an odd run escapes the `u` itself: `\\u0000` is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
# A body larger than this is refused (413) rather than held whole to be scanned: JSON and form bodies of
# this API are a few kilobytes (a bulk job's 50,000 visit ids are about 2 MB); uploads are multipart.
MAX_SCANNED_BODY = 16 * 1024 * 1024


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data


def _query_fields(query: bytes) -> list[str]:
    """Names of the query parameters (or the name itself) that hold a NUL once decoded."""
    fields = []
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        decoded_name = unquote_to_bytes(name.replace(b"+", b" "))
        if _has_nul(decoded_name) or _has_nul(unquote_to_bytes(value.replace(b"+", b" "))):
            fields.append(decoded_name.replace(b"\x00", b"").decode("utf-8", "replace") or "?")
    return fields


def _body_has_nul(content_type: str, body: bytes) -> bool:
    if _has_nul(body):
        return True
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _has_nul(unquote_to_bytes(body.replace(b"+", b" ")))
    return _JSON_NUL.search(body) is not None


class NulGuardMiddleware:
    """Pure ASGI middleware: 422 `invalid_character` for a NUL in the path, the query string or a non-multipart body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            await _refuse(scope, receive, send, {"location": "path"})
            return
        query = scope.get("query_string", b"")
        fields = _query_fields(query) if b"%00" in query or b"\x00" in query else []
        if fields:
            await _refuse(scope, receive, send, {"location": "query", "fields": fields})
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or content_type.startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > MAX_SCANNED_BODY:
                code, message = HTTP_MESSAGES[413]
                response = JSONResponse(error_body(code, message), status_code=413)
                await response(scope, receive, send)
                return
        if _body_has_nul(content_type, bytes(body)):
            await _refuse(scope, receive, send, {"location": "body"})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, details: dict) -> None:
    response = JSONResponse(error_body(CODE, MESSAGE, details), status_code=422)
    await response(scope, receive, send)
