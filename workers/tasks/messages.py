"""Messaging tasks: send one message, the daily reminder, and the sweep for lost sends."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from storage.clock import LOCAL_TZ
from storage.db import unit_of_work
from storage.messages import repo as message_repo
from storage.messages import service as message_service
from workers.app import DEFAULT_QUEUE
from workers.delivery import deliver
from messaging.settings import get_settings
from workers.tasks import task

log = logging.getLogger(__name__)

# A queued message untouched this long lost its task (broker down at enqueue, worker lost): queue it again.
QUEUED_QUIET = timedelta(minutes=5)
# A message `sending` this long was interrupted mid-call (worker killed): whether it left is unknown.
SENDING_QUIET = timedelta(minutes=10)


@task("workers.messages.send", queue=DEFAULT_QUEUE, acks_late=True, bind=True, max_retries=None)
def send_message(self, message_id: str) -> str:
    """Send one queued message (workers.delivery.deliver); returns what happened.

    acks_late is safe: a message is sent only by its queued → sending claim under a row
    lock, so a redelivered or duplicate task finds it claimed and does nothing. Passing
    failures come back with the backoff `deliver` chose (attempts are bounded there);
    over the provider's rate the send is queued again for when a token is due.
    """
    outcome = deliver(message_id)
    if outcome.status == "retry":
        raise self.retry(countdown=outcome.delay, max_retries=None)
    if outcome.status == "throttled":
        send_message.apply_async(args=[message_id], countdown=outcome.delay)
    return outcome.status


@task("workers.messages.send_reminders", queue=DEFAULT_QUEUE, acks_late=True)
def send_reminders(day: str | None = None) -> int:
    """Queue and send the confirmation request of tomorrow's (or `day`'s) unconfirmed visits; returns how many.

    acks_late is safe: each visit's reminder is once-only (`reminder:<visit id>` unique),
    so a re-run, a redelivery or an overlapping run queues nothing twice.
    """
    target = date.fromisoformat(day) if day else message_service.local_today() + timedelta(days=1)
    with unit_of_work() as session:
        run = message_service.request_reminders(session, target, default_channel=get_settings().reminder_channel)
    for message_id in run.message_ids:
        enqueue_send(message_id)
    log.info("daily reminder", extra={
        "day": target.isoformat(), "queued": len(run.message_ids), "opted_out": run.opted_out,
        "no_mobile_phone": run.no_mobile_phone, "already_reminded": run.already_reminded, "invalid": run.invalid,
    })
    return len(run.message_ids)


@task("workers.messages.sweep", queue=DEFAULT_QUEUE)
def sweep_messages() -> int:
    """Queue again messages whose task was lost; fail those interrupted mid-send (outcome unknown).

    Idempotent (beat runs it every minute): a message is sent only by a queued → sending claim.
    """
    with unit_of_work() as session:
        for message_id in message_repo.stale_sending(session, SENDING_QUIET):
            message_service.mark_failed(session, message_id, "send_interrupted")
        stale = message_repo.stale_queued(session, QUEUED_QUIET)
    for message_id in stale:
        enqueue_send(message_id)
    return len(stale)


def enqueue_send(message_id: str) -> None:
    """Queue the send of a message (best effort: the sweep queues it again if the broker was down)."""
    try:
        send_message.apply_async(args=[message_id], retry=True,
                                 retry_policy={"max_retries": 2, "interval_start": 0.2})
    except Exception as error:
        log.warning("could not queue a message send", extra={"message_id": message_id,
                                                              "error": type(error).__name__})
