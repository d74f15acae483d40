"""Login throttling in Redis: failures counted per account and per client address in a fixed window.

Past the limit a login answers 429 (with Retry-After) without checking the password; a success
clears the account's counter (not the address's, which many staff may share behind one NAT).
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from typing import Annotated

import redis
from fastapi import Depends

from api.errors import ApiError
from api.settings import ApiSettings, get_settings
from workers.settings import get_settings as get_worker_settings

log = logging.getLogger(__name__)


@lru_cache
def get_redis() -> redis.Redis:
    """Return the process-wide Redis client (the broker's server; keys under the API's prefix)."""
    return redis.Redis.from_url(
        get_worker_settings().redis_url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
    )


RedisDep = Annotated[redis.Redis, Depends(get_redis)]


class LoginThrottle:
    """Count failed logins per account and per address; refuse with 429 past the limits."""

    def __init__(self, client: redis.Redis, settings: ApiSettings | None = None) -> None:
        self.client = client
        self.settings = settings or get_settings()

    def _account_key(self, email: str) -> str:
        # Hashed: Redis keys should not hold e-mail addresses.
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"{self.settings.redis_key_prefix}login:fail:account:{digest}"

    def _ip_key(self, ip: str) -> str:
        return f"{self.settings.redis_key_prefix}login:fail:ip:{ip}"

    def check(self, email: str, ip: str) -> None:
        """Raise 429 too_many_attempts when the account or the address is over its limit."""
        account, address = self._account_key(email), self._ip_key(ip)
        pipe = self.client.pipeline(transaction=False)
        pipe.get(account).ttl(account).get(address).ttl(address)
        account_failures, account_ttl, ip_failures, ip_ttl = pipe.execute()
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
        pipe = self.client.pipeline(transaction=True)
        for key in (self._account_key(email), self._ip_key(ip)):
            pipe.incr(key).expire(key, window, nx=True)
        pipe.execute()

    def succeeded(self, email: str) -> None:
        """Clear the account's failures after a good password."""
        self.client.delete(self._account_key(email))
