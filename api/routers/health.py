"""Liveness and readiness (no auth)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import probes

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """200 while the process lives."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz() -> JSONResponse:
    """200 when PostgreSQL, Redis and OpenSearch answer; 503 naming what is down."""
    checks = probes.check_all()
    ready = all(state == "ok" for state in checks.values())
    return JSONResponse(status_code=200 if ready else 503, content=checks)
