"""Sending: `deliver` against the stand-ins (claim, retries, failures, opt-out, rate limit), then the
Celery tasks in a real worker process (a retried send, the daily reminder)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from storage.db import unit_of_work
from storage.messages import service
from storage.messages.models import Message
from storage.patients.models import Patient
from tests.fixtures import wait_until
from tests.standins.fixtures import (  # noqa: F401
    configure_messaging,
    messaging,
    twilio_standin,
    whatsapp_standin,
)
from tests.storage.messages.helpers import at, make_patient, make_visit, messages_of, tomorrow
from messaging import ratelimit
from workers.delivery import Outcome, deliver, retry_delay
from messaging.settings import get_settings
from workers.tasks.messages import send_message, send_reminders, sweep_messages

pytestmark = pytest.mark.usefixtures("committed")


def _request(channel="sms", template="reminder", phones=("(11) 98765-4321",)) -> str:
    with unit_of_work() as session:
        patient = make_patient(session, name="Maria Souza", phones=list(phones))
        visit = make_visit(session, patient, at(tomorrow(), 7, 20))
        return service.request(session, template=template, channel=channel, visit_id=visit.id, actor_id=None).id


def _message(message_id: str) -> Message:
    with unit_of_work() as session:
        return session.get(Message, message_id)


def test_an_sms_goes_out_through_twilio_once(messaging):
    twilio, whatsapp = messaging
    message_id = _request("sms")

    assert deliver(message_id) == Outcome("sent")
    assert deliver(message_id) == Outcome("skipped")  # a duplicate task sends nothing

    [form] = twilio.sent()
    message = _message(message_id)
    assert (form["To"], form["Body"]) == ("+5511987654321", message.body)
    assert (message.status, message.provider, message.attempts, message.last_error) == ("sent", "twilio", 1, None)
    assert message.provider_message_id == twilio.accepted()[0].answer_json()["sid"]
    assert whatsapp.requests == []


def test_a_whatsapp_message_goes_out_through_the_cloud_api(messaging):
    twilio, whatsapp = messaging
    message_id = _request("whatsapp")

    assert deliver(message_id) == Outcome("sent")

    [payload] = whatsapp.sent()
    message = _message(message_id)
    assert (payload["to"], payload["text"]["body"]) == ("5511987654321", message.body)
    assert (message.status, message.provider) == ("sent", "whatsapp_cloud")
    assert message.provider_message_id.startswith("wamid.")
    assert twilio.requests == []


def test_passing_failures_are_retried_with_backoff_then_given_up(messaging):
    twilio, _ = messaging
    message_id = _request("sms")
    twilio.fail_next(500, times=2)

    assert deliver(message_id) == Outcome("retry", delay=0.2, error="http_500:20500")
    message = _message(message_id)
    assert (message.status, message.attempts, message.last_error) == ("queued", 1, "http_500:20500")
    assert deliver(message_id) == Outcome("retry", delay=0.4, error="http_500:20500")
    assert deliver(message_id) == Outcome("sent")
    assert (_message(message_id).status, _message(message_id).attempts) == ("sent", 3)

    exhausted = _request("sms", phones=("(11) 91234-5678",))
    twilio.fail_next(503, times=3)
    outcomes = [deliver(exhausted).status for _ in range(3)]
    assert outcomes == ["retry", "retry", "failed"]  # COLETA_MESSAGE_MAX_ATTEMPTS=3
    message = _message(exhausted)
    assert (message.status, message.attempts, message.last_error) == ("failed", 3, "http_503:20500")
    assert len(twilio.sent()) == 1


def test_a_permanent_failure_is_not_retried(configure_messaging, twilio_standin):
    configure_messaging(COLETA_TWILIO_AUTH_TOKEN="revoked-token")
    message_id = _request("sms")

    assert deliver(message_id) == Outcome("failed", error="http_401:20003")
    message = _message(message_id)
    assert (message.status, message.attempts, message.last_error) == ("failed", 1, "http_401:20003")


def test_the_backoff_doubles_up_to_its_cap():
    assert [retry_delay(n, 10, 300) for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]


def test_a_message_to_a_patient_who_opted_out_since_is_cancelled_not_sent(messaging):
    twilio, _ = messaging
    message_id = _request("sms")
    with unit_of_work() as session:  # behind the service's back: only the claim can notice
        patient_id = session.get(Message, message_id).patient_id
        session.execute(update(Patient).where(Patient.id == patient_id).values(opted_out_at=at(tomorrow(), 0)))

    assert deliver(message_id) == Outcome("skipped")
    message = _message(message_id)
    assert (message.status, message.last_error, message.attempts) == ("cancelled", "patient_opted_out", 0)
    assert twilio.requests == []


# ------------------------------------------------------------------ rate limit


def test_the_token_bucket_is_shared_and_limits():
    client = ratelimit.get_redis()
    prefix = f"{get_settings().redis_key_prefix}bucket-test-{time.monotonic_ns()}:"
    worker_a = ratelimit.TokenBucket(client, "twilio", rate=2, prefix=prefix)
    worker_b = ratelimit.TokenBucket(client, "twilio", rate=2, prefix=prefix)
    other_provider = ratelimit.TokenBucket(client, "whatsapp_cloud", rate=2, prefix=prefix)

    waits = [worker_a.try_take(), worker_a.try_take(), worker_b.try_take(), worker_b.try_take()]
    assert waits[:2] == [0.0, 0.0]
    assert 0.4 < waits[2] <= 0.5 and 0.4 < waits[3] <= 0.5  # the burst is spent for every worker
    assert other_provider.try_take() == 0.0  # buckets are per provider

    started = time.monotonic()
    assert worker_b.take(max_wait=1.0) == 0.0  # waits for the next token (half a second at 2/s)
    assert 0.4 < time.monotonic() - started < 0.9
    assert worker_a.take(max_wait=0.1) > 0.1  # will not wait that long: says how long instead


def test_sends_keep_to_the_providers_rate(configure_messaging, twilio_standin):
    configure_messaging(COLETA_TWILIO_RATE_PER_SECOND="4")
    message_ids = [_request("sms", phones=(f"(11) 9{8000 + i:04d}-{i:04d}",)) for i in range(10)]

    started = time.monotonic()
    outcomes = [deliver(message_id).status for message_id in message_ids]

    assert outcomes == ["sent"] * 10
    times = [r.at - started for r in twilio_standin.accepted()]
    assert len(times) == 10
    # A burst of 4, then 4 a second: never more than 4 + 4t requests by time t, so the 10th not before 1.5 s.
    assert sum(t < 0.2 for t in times) <= 4
    assert sum(t < 1.0 for t in times) <= 8
    assert 1.5 <= times[-1] < 5


def test_over_the_rate_a_send_is_put_back_unclaimed(configure_messaging, twilio_standin):
    configure_messaging(COLETA_TWILIO_RATE_PER_SECOND="0.5", COLETA_RATE_LIMIT_MAX_WAIT_SECONDS="0")
    first, second = _request("sms"), _request("sms", phones=("(11) 91234-5678",))

    assert deliver(first).status == "sent"
    outcome = deliver(second)

    assert outcome.status == "throttled" and 1.5 < outcome.delay <= 2.0
    message = _message(second)
    assert (message.status, message.attempts) == ("queued", 0)
    assert len(twilio_standin.requests) == 1


# ------------------------------------------------------------------ sweep


def test_the_sweep_fails_interrupted_sends_and_requeues_lost_ones(messaging):
    lost, interrupted = _request("sms"), _request("sms", phones=("(11) 91234-5678",))
    with unit_of_work() as session:
        session.execute(update(Message).where(Message.id == interrupted).values(status="sending", attempts=1))
        session.execute(update(Message).values(updated_at=Message.updated_at - timedelta(minutes=15)))

    assert sweep_messages() == 1

    assert (_message(interrupted).status, _message(interrupted).last_error) == ("failed", "send_interrupted")
    assert _message(lost).status == "queued"  # its send is queued again (no worker in this test)


# ------------------------------------------------------------------ a real worker


@pytest.fixture
def messaging_worker(configure_messaging, twilio_standin, whatsapp_standin, request):
    """A real Celery worker whose environment points the adapters at the stand-ins."""
    configure_messaging()
    request.getfixturevalue("celery_worker")
    return twilio_standin, whatsapp_standin


def test_the_send_task_in_a_worker_retries_a_500_and_sends_once(messaging_worker):
    twilio, _ = messaging_worker
    message_id = _request("sms")
    twilio.fail_next(500)

    send_message.apply_async(args=[message_id])

    assert wait_until(lambda: _message(message_id).status == "sent", timeout=20)
    message = _message(message_id)
    assert (message.attempts, message.last_error) == (2, None)
    assert [r.status for r in twilio.requests] == [500, 201]
    assert twilio.sent()[0]["Body"] == message.body


def test_the_daily_reminder_in_a_worker_writes_once_per_visit(messaging_worker):
    twilio, whatsapp = messaging_worker
    day = tomorrow()
    with unit_of_work() as session:
        ana = make_patient(session, name="Ana Souza", phones=["(11) 98765-4321"])
        bruno = make_patient(session, name="Bruno Lima", phones=["(11) 97777-1111"], preferred_channel="sms")
        opted = make_patient(session, phones=["(11) 96666-2222"])
        ana_visit = make_visit(session, ana, at(day, 7, 20))
        bruno_visit = make_visit(session, bruno, at(day, 8))
        make_visit(session, opted, at(day, 8, 40))
        service.opt_out(session, opted.id, channel="sms")

    send_reminders.apply_async(args=[day.isoformat()])

    assert wait_until(lambda: len(whatsapp.accepted()) == 1 and len(twilio.accepted()) == 1, timeout=20)
    with unit_of_work() as session:
        assert wait_until(lambda: all(m.status == "sent" for m in messages_of(session)), timeout=20)
        messages = messages_of(session)
    assert sorted((m.patient_id, m.channel, m.reason, m.dedupe_key) for m in messages) == sorted(
        [(ana.id, "whatsapp", "reminder", f"reminder:{ana_visit.id}"),
         (bruno.id, "sms", "reminder", f"reminder:{bruno_visit.id}")])
    assert whatsapp.sent()[0]["to"] == "5511987654321"
    assert twilio.sent()[0]["To"] == "+5511977771111"

    # A second run, and a duplicate send task: nothing more leaves.
    assert send_reminders(day.isoformat()) == 0
    assert deliver(messages[0].id) == Outcome("skipped")
    assert (len(whatsapp.requests), len(twilio.requests)) == (1, 1)
