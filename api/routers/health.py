"""Liveness and readiness (no auth)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api import probes

router = APIRouter(tags=["health"])

ProbeState = Literal["ok", "down"]


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    """Each dependency's state; the answer is 503 when any is down."""

    postgres: ProbeState
    redis: ProbeState
    opensearch: ProbeState


# Async: it answers even while every thread of the pool is busy, with no thread-pool trip.
@router.get("/healthz", response_model=Liveness)
async def get_liveness() -> Liveness:
    """200 while the process lives."""
    return Liveness(status="ok")


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "A dependency is down (named in the body)"}})
def get_readiness() -> JSONResponse:
    """200 when PostgreSQL, Redis and OpenSearch answer; 503 naming what is down."""
    checks = probes.check_all()
    ready = all(state == "ok" for state in checks.values())
    return JSONResponse(status_code=200 if ready else 503, content=checks)
