"""Deliver one queued message: rate limit, claim, send through the channel's provider, record the outcome.

A plain function (the Celery task only turns its outcome into a retry or a requeue), so
it is tested directly against the providers' stand-ins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from storage.db import unit_of_work
from storage.messages import repo as message_repo
from storage.messages import service as message_service
from messaging import providers, ratelimit
from messaging.settings import MessagingSettings, get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a delivery did: sent | failed | skipped | throttled (no token: come back in `delay`) |
    retry (a passing failure: try again in `delay`)."""

    status: str
    delay: float = 0.0
    error: str | None = None


def deliver(message_id: str, settings: MessagingSettings | None = None) -> Outcome:
    """Send a queued message once; idempotent (only a queued → sending claim under a row lock sends).

    Order: claim (re-checks the opt-out); take a token of the provider's bucket (waiting up
    to `rate_limit_max_wait_seconds`, else the claim is undone and the outcome is
    `throttled`); send; record sent, or put back for a retry (timeouts, 5xx, throttling,
    with an exponential backoff while attempts remain), or failed.
    """
    settings = settings or get_settings()
    with unit_of_work() as session:
        message = message_repo.get(session, message_id)
        if message is None or message.status != "queued":
            return Outcome("skipped")
        channel = message.channel
    provider = providers.provider_for(channel, settings)

    with unit_of_work() as session:
        claim = message_service.mark_sending(session, message_id, provider=provider.name)
    if claim is None:
        return Outcome("skipped")

    # Only the claimant takes a token, so duplicate tasks never eat into the provider's rate.
    wait = ratelimit.bucket_for(provider.name).take(settings.rate_limit_max_wait_seconds)
    if wait > 0:
        with unit_of_work() as session:
            message_service.unclaim(session, message_id)
        return Outcome("throttled", delay=wait)

    try:
        provider_message_id = provider.send(claim.to_phone, claim.body)
    except providers.ProviderError as error:
        return _failed(settings, claim, error.code, error.transient)
    except Exception as error:  # a bug or an unexpected answer: an attempt like any other, never a silent loss
        log.exception("unexpected error sending a message", extra={"message_id": message_id})
        return _failed(settings, claim, f"internal:{type(error).__name__}", True)

    with unit_of_work() as session:
        message_service.mark_sent(session, message_id, provider=provider.name, provider_message_id=provider_message_id)
    log.info("message sent", extra={"message_id": message_id, "provider": provider.name})
    return Outcome("sent")


def _failed(settings: MessagingSettings, claim: message_service.Claim, code: str, transient: bool) -> Outcome:
    if transient and claim.attempts < settings.message_max_attempts:
        with unit_of_work() as session:
            message_service.release_for_retry(session, claim.message_id, code)
        log.warning("message send failed, will retry",
                    extra={"message_id": claim.message_id, "error": code, "attempt": claim.attempts})
        delay = retry_delay(claim.attempts, settings.message_retry_base_seconds, settings.message_retry_max_seconds)
        return Outcome("retry", delay=delay, error=code)
    with unit_of_work() as session:
        message_service.mark_failed(session, claim.message_id, code)
    log.warning("message send failed", extra={"message_id": claim.message_id, "error": code,
                                              "attempt": claim.attempts})
    return Outcome("failed", error=code)


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff: base, 2×base, 4×base… after the 1st, 2nd, 3rd… attempt, capped."""
    return min(cap, base * 2 ** max(attempts - 1, 0))
