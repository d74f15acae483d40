"""What the API may ask of the workers, always after its transaction committed."""

from __future__ import annotations

import logging

from workers.tasks import drain_outbox

log = logging.getLogger(__name__)


def nudge_drain() -> None:
    """Ask for an outbox drain now (best effort: the beat sweep runs anyway every second)."""
    try:
        drain_outbox.apply_async(expires=10, retry=False)
    except Exception as error:  # the broker being down must not fail a committed request
        log.warning("could not nudge the outbox drain", extra={"error": type(error).__name__})
