"""The staff web app: the built files of `web/dist` at `/`, with the SPA's deep links.

Hashed files under `assets/` never change under their name, so browsers keep them a year;
`index.html` must be revalidated, so a new build reaches everyone on their next load. The other
unhashed files (the icon) are kept a day: Chromium asks for the icon again on every change of
the URL, so with `no-cache` each search typed cost one more request. Any other GET outside the
API is a client-side route: it gets `index.html`. Without a build the API works as before and
`/` says how to make one.
"""

from __future__ import annotations

from pathlib import Path

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from api.errors import error_body

# First path segments the SPA never answers: an unknown path there is the API's plain 404.
RESERVED = frozenset({"api", "docs", "redoc", "openapi.json", "healthz", "readyz", "static"})
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
A_DAY = "public, max-age=86400"
NOT_BUILT = (
    "O aplicativo web não foi compilado: rode `make run` (ou `npm ci && npm run build` na pasta web/). "
    "A API continua disponível em /api/v1 e a documentação em /docs."
)


class _OutsideTheApi(APIRoute):
    """The catch-all never matches a reserved path, so an unknown API path stays unmatched
    (a plain 404, logged with its own path rather than the catch-all's template)."""

    def matches(self, scope: Scope) -> tuple[Match, dict[str, Any]]:
        if scope.get("type") == "http" and scope["path"].lstrip("/").split("/", 1)[0] in RESERVED:
            return Match.NONE, {}
        return super().matches(scope)


def install(app: FastAPI, dist: Path) -> None:
    """Serve `dist` at `/` (added last: every API route matches before it)."""
    root = dist.resolve()
    router = APIRouter(route_class=_OutsideTheApi)

    @router.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def web_app(path: str, request: Request) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return JSONResponse(status_code=404, content=error_body("web_app_not_built", NOT_BUILT))
        if path:
            target = (root / path).resolve()
            if target.is_file() and target.is_relative_to(root):
                cache = IMMUTABLE if target.parent == root / "assets" else REVALIDATE if target == index else A_DAY
                return FileResponse(target, headers={"Cache-Control": cache})
            if target.parent == root / "assets" or "." in path.rsplit("/", 1)[-1]:
                # A missing asset (an old build's chunk) or file: a 404, not the page, or the browser
                # would try to run HTML as a script.
                raise StarletteHTTPException(status_code=404)
        return FileResponse(index, headers={"Cache-Control": REVALIDATE})

    app.include_router(router)
