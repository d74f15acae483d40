"""Each user's generation in Redis: a value replaced after every change of the user, so every API
process knows at once that the copy of the user it cached is stale (api/auth_cache.py).

Set after the change committed (never before: a request could reload the old row under the new
value). Best effort: with Redis down the change still stands; API processes that cannot reach
Redis load the user from PostgreSQL on every request, and any other holds its copy at most
`COLETA_AUTH_CACHE_SECONDS`.
"""

from __future__ import annotations

import logging
import uuid
from functools import lru_cache

import redis

from observability.breaker import Breaker
from workers.settings import get_settings

log = logging.getLogger(__name__)

# A generation outlives any cached copy by far; it only bounds how many keys Redis keeps.
KEY_DAYS = 7
_breaker = Breaker(5.0)


@lru_cache
def _client() -> redis.Redis:
    # Milliseconds on loopback; a hung Redis must cost a request at most this, then the breaker skips it.
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=0.1, socket_connect_timeout=0.1, decode_responses=True
    )


def key(user_id: str) -> str:
    """The Redis key holding a user's generation."""
    return f"{get_settings().redis_key_prefix}user-gen:{user_id}"


def read(user_id: str) -> tuple[bool, str | None]:
    """(True, generation) — None when the user never changed since Redis kept it — or (False, None) if Redis is unreachable."""
    if not _breaker.allows():
        return False, None
    try:
        value = _client().get(key(user_id))
    except redis.RedisError as error:
        _breaker.failed()
        log.warning("user generation unreadable; users are loaded from PostgreSQL", extra={"error": type(error).__name__})
        return False, None
    _breaker.succeeded()
    return True, value


def bump(user_id: str) -> bool:
    """Give the user a new generation (after a committed change); False when Redis could not be reached."""
    try:
        _client().set(key(user_id), uuid.uuid4().hex, ex=KEY_DAYS * 86400)
    except redis.RedisError as error:
        log.warning("user generation not bumped", extra={"user_id": user_id, "error": type(error).__name__})
        return False
    return True
