"""Conditional GETs for the screens that poll (the schedule board, the dashboard, an import's report).

The tag is a weak ETag of the body exactly as serialised, not of PostgreSQL rows: the schedule
and the dashboard come from the index, which lags PostgreSQL by up to a second, so a tag made
from rows could pin a stale body under a new tag. Same body, same tag, whoever asks (a viewer's
masked schedule is another body, so another tag). `Cache-Control: private, no-cache` lets the
browser keep the body but makes it ask every time; a matching `If-None-Match` gets an empty 304.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

CACHE_CONTROL = "private, no-cache"
# For `responses=` of a route that answers through `respond`.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Não modificado: o corpo é o mesmo da `ETag` enviada em `If-None-Match` (corpo vazio)."}
}


def tag_of(body: bytes) -> str:
    """The weak ETag of a body: `W/"<first 32 hex digits of its SHA-256>"`."""
    return f'W/"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an `If-None-Match` header names `tag` (weak comparison, RFC 9110 13.1.2) or is `*`."""
    if not if_none_match:
        return False
    wanted = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def respond(request: Request, model: BaseModel) -> Response:
    """The model as JSON with its ETag and `Cache-Control`, or an empty 304 when the client holds that body."""
    response = JSONResponse(model.model_dump(mode="json", by_alias=True))
    headers = {"ETag": tag_of(bytes(response.body)), "Cache-Control": CACHE_CONTROL}
    if matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
