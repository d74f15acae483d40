"""Login throttling in Redis: failures counted per account and per client address in a fixed window.

Past the limit a login answers 429 (with Retry-After) without checking the password; a success
clears the account's counter (not the address's, which many staff may share behind one NAT).

With Redis down, logins must still work: the throttle fails open to the same limits counted in
this process alone (each API process counts on its own until Redis is back), and after a Redis
failure it does not try Redis again for a few seconds, so logins do not each pay a timeout.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from functools import lru_cache
from typing import Annotated

import redis
from fastapi import Depends

from api.errors import ApiError
from api.settings import ApiSettings, get_settings
from observability.breaker import Breaker

log = logging.getLogger(__name__)


@lru_cache
def get_redis() -> redis.Redis:
    """Return the process-wide Redis client (the broker's server; keys under the API's prefix)."""
    return redis.Redis.from_url(
        get_settings().redis_url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
    )


RedisDep = Annotated[redis.Redis, Depends(get_redis)]

# Seconds the throttle leaves Redis alone after it failed (its counters are then this process's).
REDIS_COOL_DOWN_SECONDS = 5.0
_REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)


class LocalCounters:
    """Fixed-window failure counters in this process: what the throttle counts while Redis is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (failures, window end, monotonic)

    def get(self, key: str) -> tuple[int, int]:
        """(failures, seconds left in the window) of a key; (0, -2) when it has none, like Redis's TTL."""
        with self._lock:
            count, ends = self._counts.get(key, (0, 0.0))
            left = ends - time.monotonic()
            return (count, max(1, round(left))) if left > 0 else (0, -2)

    def incr(self, key: str, window: int) -> None:
        """Count one failure; the window starts at the first."""
        with self._lock:
            now = time.monotonic()
            if len(self._counts) > 100_000:  # bounded: forget expired windows
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            count, ends = self._counts.get(key, (0, 0.0))
            self._counts[key] = (count + 1, ends) if ends > now else (1, now + window)

    def delete(self, key: str) -> None:
        """Forget a key's failures."""
        with self._lock:
            self._counts.pop(key, None)


_local_counters = LocalCounters()
_redis_breaker = Breaker(REDIS_COOL_DOWN_SECONDS)


class LoginThrottle:
    """Count failed logins per account and per address; refuse with 429 past the limits.

    Counted in Redis (shared by every API process); while Redis is down, in this process.
    """

    def __init__(
        self,
        client: redis.Redis,
        settings: ApiSettings | None = None,
        local: LocalCounters | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.client = client
        self.settings = settings or get_settings()
        self.local = local or _local_counters
        self.breaker = breaker or _redis_breaker

    def _redis(self, command):
        """Run `command(client)` on Redis, or return None when Redis is down (now or a moment ago)."""
        if not self.breaker.allows():
            return None
        try:
            value = command(self.client)
        except _REDIS_ERRORS as error:
            self.breaker.failed()
            log.warning("redis down; login throttling counts in this process", extra={"error": type(error).__name__})
            return None
        self.breaker.succeeded()
        return value

    def _account_key(self, email: str) -> str:
        # Hashed: Redis keys should not hold e-mail addresses.
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"{self.settings.redis_key_prefix}login:fail:account:{digest}"

    def _ip_key(self, ip: str) -> str:
        return f"{self.settings.redis_key_prefix}login:fail:ip:{ip}"

    def check(self, email: str, ip: str) -> None:
        """Raise 429 too_many_attempts when the account or the address is over its limit."""
        account, address = self._account_key(email), self._ip_key(ip)
        found = self._redis(lambda client: client.pipeline(transaction=False)
                            .get(account).ttl(account).get(address).ttl(address).execute())
        if found is None:
            found = (*self.local.get(account), *self.local.get(address))
        account_failures, account_ttl, ip_failures, ip_ttl = found
        waits = []
        if int(account_failures or 0) >= self.settings.login_max_failures_per_account:
            waits.append(account_ttl)
        if int(ip_failures or 0) >= self.settings.login_max_failures_per_ip:
            waits.append(ip_ttl)
        if waits:
            retry_after = max(1, max(int(w) for w in waits))
            log.warning("login throttled", extra={"client_ip": ip, "retry_after": retry_after})
            raise ApiError(
                429,
                "too_many_attempts",
                "Muitas tentativas de login. Aguarde alguns minutos e tente novamente.",
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )

    def failed(self, email: str, ip: str) -> None:
        """Count one failure for the account and the address (the window starts at the first)."""
        window = self.settings.login_window_seconds
        keys = (self._account_key(email), self._ip_key(ip))

        def count(client: redis.Redis) -> bool:
            pipe = client.pipeline(transaction=True)
            for key in keys:
                pipe.incr(key).expire(key, window, nx=True)
            pipe.execute()
            return True

        if self._redis(count) is None:
            for key in keys:
                self.local.incr(key, window)

    def succeeded(self, email: str) -> None:
        """Clear the account's failures after a good password."""
        key = self._account_key(email)
        self.local.delete(key)  # failures counted here while Redis was down, if any
        self._redis(lambda client: client.delete(key))
