"""Dependency probes for /readyz, each bounded by a short timeout."""

from __future__ import annotations

import redis
from sqlalchemy import text

from api.settings import get_settings as get_api_settings
from indexing.client import get_client
from storage.db import get_engine


def postgres() -> str:
    """'ok' when PostgreSQL answers a query."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        return "down"


def broker() -> str:
    """'ok' when Redis answers PING."""
    try:
        client = redis.Redis.from_url(get_api_settings().redis_url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        return "ok"
    except Exception:
        return "down"


def opensearch() -> str:
    """'ok' when the cluster answers with yellow or green health."""
    try:
        health = get_client().cluster.health(params={"timeout": "1s", "request_timeout": 2})
        return "ok" if health.get("status") in ("green", "yellow") else "down"
    except Exception:
        return "down"


def check_all() -> dict[str, str]:
    """Probe every dependency."""
    return {"postgres": postgres(), "redis": broker(), "opensearch": opensearch()}
