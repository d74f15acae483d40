"""Staff's requests piling up in the API, shared through Redis: background work waits for them to pass.

On a machine where the API, PostgreSQL and OpenSearch share the cores, an import halved search
throughput and doubled its p95 (issue 14); a lower CPU priority alone did not help, because the
import's SQL runs in PostgreSQL and its documents are indexed by OpenSearch, neither of them niced.
So the API marks the moments when requests overlap (`api/staff_load.py`), and an import pauses
between its committed batches while that mark stands (`wait_while_busy`). It still moves on after
`max_seconds` each time: under a load that never ends, an import is slower, never stuck.

Best effort: with Redis down nothing is marked, nothing waits, and work runs as before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import lru_cache

import redis

from observability.breaker import Breaker
from workers.settings import get_settings

log = logging.getLogger(__name__)

_breaker = Breaker(5.0)


@lru_cache
def _client() -> redis.Redis:
    # Milliseconds on loopback; a hung Redis must cost a request at most this, then the breaker skips it.
    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=0.1, socket_connect_timeout=0.1)


def key() -> str:
    """The Redis key that stands while staff's requests overlap."""
    return f"{get_settings().redis_key_prefix}staff-busy"


def mark_busy(for_seconds: float) -> bool:
    """Say that staff's requests overlap now, for `for_seconds`; False when Redis could not be reached."""
    milliseconds = max(1, round(for_seconds * 1000))
    return _best_effort(lambda client: bool(client.set(key(), "1", px=milliseconds)), "staff load not marked")


def is_busy() -> bool:
    """True while the mark stands; False when it lapsed or Redis cannot be reached."""
    return _best_effort(lambda client: bool(client.exists(key())), "staff load unreadable; background work goes on")


def _best_effort(command: Callable[[redis.Redis], bool], warning: str) -> bool:
    """`command`'s answer, or False (logged once per cool-down) while Redis cannot be reached."""
    if not _breaker.allows():
        return False
    try:
        answer = command(_client())
    except redis.RedisError as error:
        _breaker.failed()
        log.warning(warning, extra={"error": type(error).__name__})
        return False
    _breaker.succeeded()
    return answer


def wait_while_busy(max_seconds: float, poll_seconds: float = 0.1,
                    sleep: Callable[[float], None] = time.sleep) -> float:
    """Wait while staff are busy, at most `max_seconds`; return the seconds waited (0.0 when not busy)."""
    waited = 0.0
    while waited < max_seconds and is_busy():
        step = min(poll_seconds, max_seconds - waited)
        sleep(step)
        waited += step
    return waited
