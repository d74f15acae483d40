"""A token bucket per provider in Redis, shared by every worker process (Celery's rate_limit is per worker)."""

from __future__ import annotations

import time
from functools import lru_cache

import redis

from messaging.settings import get_settings

# Refill by elapsed time on Redis's own clock (one clock for every worker), take a token if there is one,
# else say how long until one is due. Atomic: Lua scripts run alone.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


@lru_cache
def get_redis() -> redis.Redis:
    """The process-wide Redis client for the buckets."""
    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=2, socket_connect_timeout=2,
                                decode_responses=True)


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up, for one name (a provider)."""

    def __init__(self, client: redis.Redis, name: str, rate: float, burst: float | None = None,
                 prefix: str | None = None) -> None:
        self.client = client
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self.key = f"{prefix if prefix is not None else get_settings().redis_key_prefix}messaging:rate:{name}"
        self._take = client.register_script(_TAKE)

    def try_take(self) -> float:
        """Take a token: 0.0 when taken, else the seconds until one is due (nothing taken)."""
        return float(self._take(keys=[self.key], args=[self.rate, self.burst]))

    def take(self, max_wait: float) -> float:
        """Take a token, sleeping up to `max_wait` seconds for one; 0.0 when taken, else the wait still due."""
        deadline = time.monotonic() + max_wait
        while True:
            wait = self.try_take()
            if wait <= 0:
                return 0.0
            if time.monotonic() + wait > deadline:
                return wait
            time.sleep(wait)


def bucket_for(provider: str) -> TokenBucket:
    """The bucket of a provider, at its configured rate."""
    return TokenBucket(get_redis(), provider, get_settings().rate_per_second(provider))
