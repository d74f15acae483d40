"""A minimal circuit breaker: after a failure, a best-effort call is skipped for a while.

For calls whose failure must cost nothing (the drain nudge, login throttling): with the
service known down, the next requests do not pay a connection attempt each. No half-open
state or failure counts: one failure opens it, the first call after the cool-down tries again.
"""

from __future__ import annotations

import time


class Breaker:
    """Open for `cool_down` seconds after a failure; closed otherwise."""

    def __init__(self, cool_down: float) -> None:
        self.cool_down = cool_down
        self._open_until = 0.0  # a float swapped whole: safe across threads without a lock

    def allows(self) -> bool:
        """True when a call may try the service (closed, or its cool-down is over)."""
        return time.monotonic() >= self._open_until

    def failed(self) -> None:
        """Record a failure: calls are skipped until the cool-down passes."""
        self._open_until = time.monotonic() + self.cool_down

    def succeeded(self) -> None:
        """Record a success: calls go through."""
        self._open_until = 0.0
