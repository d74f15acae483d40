"""Provider webhooks over HTTP: signatures (ok, forged → 401, missing → 401), replays handled once,
delivery statuses, and inbound replies whose effects reach PostgreSQL and, after the drain, the index."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from opensearchpy.exceptions import NotFoundError
from sqlalchemy import func, select

from indexing import names, sync
from indexing.client import get_client
from storage.db import unit_of_work
from storage.messages import service
from storage.messages.models import InboundMessage, Message, MessageEvent
from storage.patients.models import Patient
from storage.visits.models import ConfirmationAttempt, Visit
from tests.standins import twilio as twilio_fake
from tests.standins import whatsapp as whatsapp_fake
from tests.standins.fixtures import configure_messaging, messaging, twilio_standin, whatsapp_standin  # noqa: F401
from tests.storage.messages.helpers import at, make_patient, make_visit, tomorrow

BASE = "http://testserver"
TWILIO_STATUS = "/api/v1/webhooks/twilio/status"
TWILIO_INBOUND = "/api/v1/webhooks/twilio/inbound"
WHATSAPP = "/api/v1/webhooks/whatsapp"
PHONE = "(11) 98765-4321"


# Signatures computed here from the providers' documentation, independently of the adapters.
def twilio_signature(url: str, form: dict[str, str], token: str = twilio_fake.AUTH_TOKEN) -> str:
    payload = url + "".join(name + form[name] for name in sorted(form))
    return base64.b64encode(hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def whatsapp_signature(body: bytes, secret: str = whatsapp_fake.APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_twilio(client, path, form, signature: str | None = "valid", url: str | None = None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "valid":
        signature = twilio_signature(url or BASE + path, form)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, content=urlencode(form), headers=headers)


def post_whatsapp(client, payload, signature: str | None = "valid"):
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        signature = whatsapp_signature(body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return client.post(WHATSAPP, content=body, headers=headers)


def whatsapp_payload(statuses=(), messages=()):
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA-1", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp",
                      "metadata": {"display_phone_number": "5511900000000",
                                   "phone_number_id": whatsapp_fake.PHONE_NUMBER_ID},
                      "statuses": list(statuses), "messages": list(messages)}}]}]}


def inbound_sms(sid: str, text: str, sender: str = "+5511987654321") -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": twilio_fake.ACCOUNT_SID, "From": sender,
            "To": twilio_fake.FROM_NUMBER, "Body": text, "NumMedia": "0", "SmsStatus": "received"}


def _sent_message(channel: str, provider: str, provider_message_id: str) -> tuple[str, str, str]:
    with unit_of_work() as session:
        patient = make_patient(session, phones=[PHONE])
        visit = make_visit(session, patient, at(tomorrow(), 7, 20))
        message = service.request(session, template="reminder", channel=channel, visit_id=visit.id, actor_id=None)
        service.mark_sending(session, message.id, provider=provider)
        service.mark_sent(session, message.id, provider=provider, provider_message_id=provider_message_id)
        return message.id, patient.id, visit.id


def _status(message_id: str) -> tuple[str, str | None]:
    with unit_of_work() as session:
        message = session.get(Message, message_id)
        return message.status, message.last_error


def _count(model) -> int:
    with unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model))


def _visit_row(visit_id: str) -> tuple[str, str | None]:
    with unit_of_work() as session:
        visit = session.get(Visit, visit_id)
        return visit.confirmation_status, visit.confirmation_channel


def _document(index: str, entity_id: str) -> dict:
    """The entity's live document after draining the outbox."""
    sync.drain(max_batches=100)
    try:
        return get_client().get(index=names.alias(index), id=entity_id)["_source"]
    except NotFoundError:  # pragma: no cover - the assertion below says what is missing
        return {}


def _assert_invalid_signature(response):
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "invalid_signature", "message": "Assinatura do webhook inválida.",
                                         "details": None}}


# ------------------------------------------------------------------ Twilio status


def test_a_twilio_status_callback_moves_the_message_once(api_client, messaging):
    message_id, _, _ = _sent_message("sms", "twilio", "SM" + "a" * 32)
    callback = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "AccountSid": twilio_fake.ACCOUNT_SID}

    assert post_twilio(api_client, TWILIO_STATUS, callback).status_code == 204
    assert post_twilio(api_client, TWILIO_STATUS, callback).status_code == 204  # a replay

    assert _status(message_id) == ("delivered", None)
    with unit_of_work() as session:
        events = session.execute(select(MessageEvent.provider, MessageEvent.event_key, MessageEvent.status,
                                        MessageEvent.message_id)).all()
    assert [tuple(e) for e in events] == [("twilio", f"{'SM' + 'a' * 32}:delivered", "delivered", message_id)]

    failed = {**callback, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    assert post_twilio(api_client, TWILIO_STATUS, failed).status_code == 204
    assert _status(message_id) == ("delivered", None)  # never backwards


def test_forged_or_missing_twilio_signatures_are_refused(api_client, messaging):
    message_id, _, _ = _sent_message("sms", "twilio", "SM" + "b" * 32)
    callback = {"MessageSid": "SM" + "b" * 32, "MessageStatus": "delivered"}

    _assert_invalid_signature(post_twilio(api_client, TWILIO_STATUS, callback, signature=None))
    _assert_invalid_signature(post_twilio(api_client, TWILIO_STATUS, callback,
                                          signature=twilio_signature(BASE + TWILIO_STATUS, callback, token="other")))
    tampered = twilio_signature(BASE + TWILIO_STATUS, {**callback, "MessageStatus": "sent"})
    _assert_invalid_signature(post_twilio(api_client, TWILIO_STATUS, callback, signature=tampered))
    _assert_invalid_signature(post_twilio(api_client, TWILIO_INBOUND, inbound_sms("SM1", "SIM"), signature="x"))

    assert _status(message_id) == ("sent", None)
    assert (_count(MessageEvent), _count(InboundMessage)) == (0, 0)


def test_twilio_signs_the_public_url_behind_a_proxy(api_client, configure_messaging):
    configure_messaging(COLETA_WEBHOOK_PUBLIC_BASE_URL="https://coleta.example.com.br")
    message_id, _, _ = _sent_message("sms", "twilio", "SM" + "c" * 32)
    callback = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered"}

    _assert_invalid_signature(post_twilio(api_client, TWILIO_STATUS, callback))  # signed for testserver
    public = "https://coleta.example.com.br" + TWILIO_STATUS
    assert post_twilio(api_client, TWILIO_STATUS, callback, url=public).status_code == 204
    assert _status(message_id) == ("delivered", None)


def test_without_twilio_credentials_every_twilio_webhook_is_refused(api_client):
    # The development defaults: no Twilio token, so no signature can be checked.
    _assert_invalid_signature(post_twilio(api_client, TWILIO_INBOUND, inbound_sms("SM1", "SIM")))


# ------------------------------------------------------------------ Twilio inbound


@pytest.mark.parametrize(("reply", "outcome"), [("SIM", "confirmed"), ("1", "confirmed"),
                                                 ("NÃO", "declined"), ("2", "declined")])
def test_an_sms_reply_confirms_or_declines_the_visit_in_postgres_and_in_the_index(
    api_client, messaging, reply, outcome
):
    with unit_of_work() as session:
        patient = make_patient(session, phones=[PHONE])
        visit_id = make_visit(session, patient, at(tomorrow(), 7, 20)).id
    assert _document("visits", visit_id)["confirmation_status"] == "pending"

    response = post_twilio(api_client, TWILIO_INBOUND, inbound_sms("SM-in-1", reply))
    replay = post_twilio(api_client, TWILIO_INBOUND, inbound_sms("SM-in-1", reply))

    assert (response.status_code, replay.status_code) == (200, 200)
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert _visit_row(visit_id) == (outcome, "sms")
    with unit_of_work() as session:
        attempts = session.execute(select(ConfirmationAttempt.channel, ConfirmationAttempt.outcome,
                                          ConfirmationAttempt.source)
                                   .where(ConfirmationAttempt.visit_id == visit_id)).all()
        inbound = session.execute(select(InboundMessage.action, InboundMessage.visit_id,
                                         InboundMessage.from_phone)).all()
    assert [tuple(a) for a in attempts] == [("sms", outcome, "inbound_message")]  # once, despite the replay
    assert [tuple(i) for i in inbound] == [(outcome, visit_id, "+5511987654321")]
    document = _document("visits", visit_id)
    assert (document["confirmation_status"], document["confirmation_channel"]) == (outcome, "sms")


def test_sair_opts_the_patient_out_everywhere(api_client, messaging, make_account):
    with unit_of_work() as session:
        patient = make_patient(session, phones=[PHONE])
        patient_id = patient.id
        visit_id = make_visit(session, patient, at(tomorrow(), 7, 20)).id
    assert _document("patients", patient_id)["opted_out"] is False

    assert post_twilio(api_client, TWILIO_INBOUND, inbound_sms("SM-out", "Sair")).status_code == 200

    with unit_of_work() as session:
        row = session.get(Patient, patient_id)
        assert (row.opted_out_at is not None, row.opted_out_channel) == (True, "sms")
    assert _document("patients", patient_id)["opted_out"] is True
    refused = api_client.post("/api/v1/messages", json={"visit_id": visit_id, "template": "reminder",
                                                        "channel": "whatsapp"},
                              headers=make_account("operator").headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "patient_opted_out")
    with unit_of_work() as session:
        assert service.request_reminders(session, tomorrow()).message_ids == []


# ------------------------------------------------------------------ WhatsApp


def test_the_whatsapp_subscription_handshake(api_client, messaging):
    ok = api_client.get(WHATSAPP, params={"hub.mode": "subscribe", "hub.verify_token": whatsapp_fake.VERIFY_TOKEN,
                                          "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = api_client.get(WHATSAPP, params={"hub.mode": "subscribe", "hub.verify_token": "x",
                                             "hub.challenge": "1158201444"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "invalid_verify_token")


def test_whatsapp_statuses_and_replies_are_applied_once(api_client, messaging):
    message_id, patient_id, visit_id = _sent_message("whatsapp", "whatsapp_cloud", "wamid.OUT1")
    payload = whatsapp_payload(
        statuses=[{"id": "wamid.OUT1", "status": "delivered", "timestamp": "1750500000",
                   "recipient_id": "5511987654321"},
                  {"id": "wamid.OUT1", "status": "read", "timestamp": "1750500060", "recipient_id": "5511987654321"}],
        messages=[{"from": "5511987654321", "id": "wamid.IN1", "timestamp": "1750500100", "type": "text",
                   "text": {"body": "1"}}],
    )

    assert post_whatsapp(api_client, payload).status_code == 200
    assert post_whatsapp(api_client, payload).status_code == 200  # a replay

    assert _status(message_id) == ("read", None)
    assert _visit_row(visit_id) == ("confirmed", "whatsapp")
    assert (_count(MessageEvent), _count(InboundMessage), _count(ConfirmationAttempt)) == (2, 1, 1)
    assert _document("visits", visit_id)["confirmation_status"] == "confirmed"


def test_forged_or_missing_whatsapp_signatures_are_refused(api_client, messaging):
    with unit_of_work() as session:
        patient = make_patient(session, phones=[PHONE])
        visit_id = make_visit(session, patient, at(tomorrow(), 7, 20)).id
    payload = whatsapp_payload(messages=[{"from": "5511987654321", "id": "wamid.IN2", "timestamp": "1750500100",
                                          "type": "text", "text": {"body": "SIM"}}])

    _assert_invalid_signature(post_whatsapp(api_client, payload, signature=None))
    _assert_invalid_signature(post_whatsapp(api_client, payload, signature="sha256=" + "0" * 64))
    forged = whatsapp_signature(json.dumps(payload).encode(), secret="not-the-app-secret")
    _assert_invalid_signature(post_whatsapp(api_client, payload, signature=forged))

    assert _visit_row(visit_id) == ("pending", None)
    assert _count(InboundMessage) == 0


def test_an_oversized_webhook_is_refused_before_anything_else(api_client, messaging):
    response = api_client.post(WHATSAPP, content=b"x" * 1_000_001, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
