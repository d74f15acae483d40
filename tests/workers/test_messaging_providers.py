"""The real provider adapters against local stand-ins of Twilio and the WhatsApp Cloud API; webhook
signatures against the providers' documented algorithms; the settings' refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from pydantic import ValidationError

from tests.standins import twilio as twilio_fake
from tests.standins import whatsapp as whatsapp_fake
from tests.standins.fixtures import twilio_standin, whatsapp_standin  # noqa: F401
from messaging.providers import (
    DevProvider,
    InboundText,
    ProviderError,
    StatusEvent,
    TwilioSms,
    WhatsAppCloud,
    twilio_signature,
)
from messaging.settings import MessagingSettings


def _twilio(server, token=twilio_fake.AUTH_TOKEN, timeout=2.0):
    return TwilioSms(base_url=server.base_url, account_sid=twilio_fake.ACCOUNT_SID, auth_token=token,
                     from_number=twilio_fake.FROM_NUMBER,
                     status_callback_url="https://coleta.example/api/v1/webhooks/twilio/status", timeout=timeout)


def _whatsapp(server, token=whatsapp_fake.ACCESS_TOKEN, timeout=2.0):
    return WhatsAppCloud(base_url=server.base_url, api_version=whatsapp_fake.API_VERSION,
                         phone_number_id=whatsapp_fake.PHONE_NUMBER_ID, access_token=token,
                         app_secret=whatsapp_fake.APP_SECRET, verify_token=whatsapp_fake.VERIFY_TOKEN,
                         timeout=timeout)


# ------------------------------------------------------------------ Twilio


def test_twilio_posts_the_form_with_basic_auth_and_returns_the_sid(twilio_standin):
    sid = _twilio(twilio_standin).send("+5511987654321", "Olá, Maria! Responda SIM.")

    [request] = twilio_standin.requests
    assert (request.method, request.path, request.status) == (
        "POST", f"/2010-04-01/Accounts/{twilio_fake.ACCOUNT_SID}/Messages.json", 201)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert twilio_standin.form(request) == {
        "To": "+5511987654321", "From": twilio_fake.FROM_NUMBER, "Body": "Olá, Maria! Responda SIM.",
        "StatusCallback": "https://coleta.example/api/v1/webhooks/twilio/status",
    }
    assert sid.startswith("SM") and len(sid) == 34


def test_twilio_errors_say_whether_a_retry_may_help(twilio_standin):
    with pytest.raises(ProviderError) as auth:
        _twilio(twilio_standin, token="wrong").send("+5511987654321", "x")
    assert (auth.value.code, auth.value.transient, auth.value.status) == ("http_401:20003", False, 401)

    with pytest.raises(ProviderError) as bad_number:
        _twilio(twilio_standin).send("11987654321", "x")
    assert (bad_number.value.code, bad_number.value.transient) == ("http_400:21211", False)

    twilio_standin.fail_next(500)
    with pytest.raises(ProviderError) as down:
        _twilio(twilio_standin).send("+5511987654321", "x")
    assert (down.value.code, down.value.transient) == ("http_500:20500", True)

    twilio_standin.fail_next(429)
    with pytest.raises(ProviderError) as busy:
        _twilio(twilio_standin).send("+5511987654321", "x")
    assert (busy.value.code, busy.value.transient) == ("http_429:20500", True)

    twilio_standin.fail_next(500, delay=1.0)
    with pytest.raises(ProviderError) as slow:
        _twilio(twilio_standin, timeout=0.2).send("+5511987654321", "x")
    assert (slow.value.code, slow.value.transient) == ("timeout", True)


def test_twilio_signature_matches_twilios_published_vectors():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
              ("From", "+14158675309"), ("To", "+18005551212")]
    assert twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    assert twilio_signature("12345", url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_twilio_webhooks_are_verified_over_url_and_form(twilio_standin):
    adapter = _twilio(twilio_standin, token="12345")
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    body = urlencode({"Digits": "1234", "To": "+18005551212", "From": "+14158675309",
                      "Caller": "+14158675309", "CallSid": "CA1234567890ABCDE"}).encode()
    good = {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
    assert adapter.verify_webhook(url, good, body) is True
    assert adapter.verify_webhook(url, {"x-twilio-signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}, body) is True
    assert adapter.verify_webhook(url + "&x=1", good, body) is False
    assert adapter.verify_webhook(url, good, body.replace(b"1234", b"9999")) is False
    assert adapter.verify_webhook(url, {}, body) is False
    assert twilio_standin.requests == []


def test_twilio_webhooks_parse_status_callbacks_and_inbound_sms(twilio_standin):
    adapter = _twilio(twilio_standin)
    status = urlencode({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003",
                        "AccountSid": twilio_fake.ACCOUNT_SID, "To": "+5511987654321"}).encode()
    inbound = urlencode({"MessageSid": "SM2", "SmsStatus": "received", "From": "+5511987654321",
                         "To": twilio_fake.FROM_NUMBER, "Body": "Sim", "NumMedia": "0"}).encode()
    assert adapter.parse_webhook(status).statuses == [StatusEvent("SM1", "undelivered", "failed", "30003")]
    assert adapter.parse_webhook(status).inbound == []
    assert adapter.parse_webhook(inbound).inbound == [InboundText("SM2", "+5511987654321", "Sim")]
    assert adapter.parse_webhook(inbound).statuses == []
    assert adapter.parse_webhook(b"").statuses == []


# ------------------------------------------------------------------ WhatsApp Cloud API


def test_whatsapp_posts_a_text_message_with_the_bearer_token(whatsapp_standin):
    wamid = _whatsapp(whatsapp_standin).send("+5511987654321", "Olá, Maria!")

    [request] = whatsapp_standin.requests
    assert (request.method, request.path, request.status) == (
        "POST", f"/v21.0/{whatsapp_fake.PHONE_NUMBER_ID}/messages", 200)
    assert request.headers["authorization"] == f"Bearer {whatsapp_fake.ACCESS_TOKEN}"
    assert request.json() == {"messaging_product": "whatsapp", "recipient_type": "individual",
                              "to": "5511987654321", "type": "text",
                              "text": {"preview_url": False, "body": "Olá, Maria!"}}
    assert wamid.startswith("wamid.")


def test_whatsapp_errors_say_whether_a_retry_may_help(whatsapp_standin):
    with pytest.raises(ProviderError) as auth:
        _whatsapp(whatsapp_standin, token="wrong").send("+5511987654321", "x")
    assert (auth.value.code, auth.value.transient) == ("http_401:190", False)

    whatsapp_standin.fail_next(503)
    with pytest.raises(ProviderError) as down:
        _whatsapp(whatsapp_standin).send("+5511987654321", "x")
    assert (down.value.code, down.value.transient) == ("http_503:131000", True)

    whatsapp_standin.fail_next(500, delay=1.0)
    with pytest.raises(ProviderError) as slow:
        _whatsapp(whatsapp_standin, timeout=0.2).send("+5511987654321", "x")
    assert (slow.value.code, slow.value.transient) == ("timeout", True)


def test_whatsapp_webhooks_are_verified_over_the_raw_body_and_parsed(whatsapp_standin):
    adapter = _whatsapp(whatsapp_standin)
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511900000000", "phone_number_id": whatsapp_fake.PHONE_NUMBER_ID},
            "statuses": [
                {"id": "wamid.A", "status": "delivered", "timestamp": "1750500000", "recipient_id": "5511987654321"},
                {"id": "wamid.B", "status": "failed", "timestamp": "1750500001", "recipient_id": "5511987654321",
                 "errors": [{"code": 131026, "title": "Message undeliverable"}]},
            ],
            "contacts": [{"profile": {"name": "Maria"}, "wa_id": "5511987654321"}],
            "messages": [
                {"from": "5511987654321", "id": "wamid.IN1", "timestamp": "1750500002", "type": "text",
                 "text": {"body": "SIM"}},
                {"from": "551187654321", "id": "wamid.IN2", "timestamp": "1750500003", "type": "button",
                 "button": {"text": "Não", "payload": "no"}},
            ],
        }}]}]}
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(whatsapp_fake.APP_SECRET.encode(), body, hashlib.sha256).hexdigest()

    assert adapter.verify_webhook("ignored", {"X-Hub-Signature-256": signature}, body) is True
    assert adapter.verify_webhook("ignored", {"X-Hub-Signature-256": signature}, body + b" ") is False
    assert adapter.verify_webhook("ignored", {"X-Hub-Signature-256": "sha256=" + "0" * 64}, body) is False
    assert adapter.verify_webhook("ignored", {}, body) is False

    batch = adapter.parse_webhook(body)
    assert [(s.provider_message_id, s.provider_status, s.status, s.error_code, s.occurred_at.isoformat())
            for s in batch.statuses] == [
        ("wamid.A", "delivered", "delivered", None, "2025-06-21T10:00:00+00:00"),
        ("wamid.B", "failed", "failed", "131026", "2025-06-21T10:00:01+00:00")]
    assert [(m.provider_message_id, m.from_phone, m.body) for m in batch.inbound] == [
        ("wamid.IN1", "+5511987654321", "SIM"), ("wamid.IN2", "+551187654321", "Não")]
    assert adapter.parse_webhook(b"not json").statuses == []


def test_whatsapp_subscription_handshake():
    adapter = WhatsAppCloud(base_url="http://x", api_version="v21.0", phone_number_id="1", access_token="t",
                            app_secret="s", verify_token="segredo")
    assert adapter.verify_subscription("subscribe", "segredo", "1158201444") == "1158201444"
    assert adapter.verify_subscription("subscribe", "errado", "1158201444") is None
    assert adapter.verify_subscription("unsubscribe", "segredo", "1158201444") is None
    assert adapter.verify_subscription("subscribe", None, "1158201444") is None


# ------------------------------------------------------------------ development provider


def test_the_dev_provider_keeps_everything_local(tmp_path, twilio_standin, whatsapp_standin):
    outbox = tmp_path / "outbox" / "messages.jsonl"
    provider = DevProvider("sms", str(outbox))

    first, second = provider.send("+5511987654321", "Olá!"), provider.send("+5511987654321", "De novo")

    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert [(x["id"], x["channel"], x["to"], x["body"]) for x in lines] == [
        (first, "sms", "(11) *****-4321", "Olá!"), (second, "sms", "(11) *****-4321", "De novo")]
    assert first.startswith("dev-") and first != second
    assert DevProvider("whatsapp").send("+5511987654321", "x").startswith("dev-")
    assert provider.verify_webhook("u", {"x-twilio-signature": "x"}, b"") is False
    assert (twilio_standin.requests, whatsapp_standin.requests) == ([], [])


# ------------------------------------------------------------------ settings


def _settings(**values):
    return MessagingSettings(_env_file=None, **values)


def test_development_defaults_to_the_dev_providers():
    settings = _settings(environment="development")
    assert (settings.sms_provider, settings.whatsapp_provider) == ("dev", "dev")


def test_settings_refuse_a_real_provider_without_its_credentials():
    with pytest.raises(ValidationError) as twilio:
        _settings(sms_provider="twilio", twilio_account_sid="AC1")
    assert "COLETA_TWILIO_AUTH_TOKEN, COLETA_TWILIO_FROM_NUMBER" in str(twilio.value)
    assert "AC1" not in str(twilio.value)
    with pytest.raises(ValidationError) as cloud:
        _settings(whatsapp_provider="cloud", whatsapp_phone_number_id="1", whatsapp_access_token="secret-token")
    assert "COLETA_WHATSAPP_APP_SECRET, COLETA_WHATSAPP_VERIFY_TOKEN" in str(cloud.value)
    assert "secret-token" not in str(cloud.value)


def test_outside_development_the_defaults_are_refused():
    with pytest.raises(ValidationError) as default:
        _settings(environment="production")
    assert "COLETA_SMS_PROVIDER precisa ser escolhido" in str(default.value)
    explicit = _settings(environment="production", sms_provider="dev", whatsapp_provider="dev")
    assert explicit.sms_provider == "dev"
    with pytest.raises(ValidationError) as plain_http:
        _settings(environment="production", sms_provider="twilio", whatsapp_provider="dev",
                  twilio_base_url="http://api.twilio.com", twilio_account_sid="AC1", twilio_auth_token="t",
                  twilio_from_number="+5511900000000")
    assert "COLETA_TWILIO_BASE_URL deve usar https" in str(plain_http.value)
