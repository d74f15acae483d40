"""Provider adapters: send a text, verify and parse webhooks. Plain HTTP (httpx) with timeouts.

- `TwilioSms`: Twilio's REST API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded,
  HTTP basic auth); webhooks signed with `X-Twilio-Signature` = base64(HMAC-SHA1(auth token,
  URL + the form parameters sorted by name, each name followed by its value)).
- `WhatsAppCloud`: the WhatsApp Business Cloud API (`POST /{version}/{phone number id}/messages`,
  JSON, bearer token); webhooks signed with `X-Hub-Signature-256` = "sha256=" + hex
  HMAC-SHA256(app secret, raw body), plus the GET verification handshake.
- `DevProvider`: nothing leaves the machine; the message row is the record (optionally also a
  local JSON-lines file).

Errors are `ProviderError` with a code (never a phone or a text) and whether a retry may help.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qsl

import httpx

from storage.identifiers import digits_only, mask_phone
from messaging.settings import MessagingSettings, get_settings

log = logging.getLogger(__name__)

# WhatsApp Cloud API error codes worth a retry (throttling, temporary unavailability).
_WHATSAPP_TRANSIENT = {4, 80007, 130429, 131000, 131016, 131048, 131056, 133004}
# Twilio's "too many requests" style codes answered with a 4xx.
_TWILIO_TRANSIENT = {20429, 30001}


class ProviderError(Exception):
    """A send the provider did not accept. `code` is safe to store and log; `transient` = retry may help."""

    def __init__(self, code: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.transient = transient
        self.status = status


@dataclass(frozen=True)
class StatusEvent:
    """A delivery status callback: the provider's message id and status, mapped to ours."""

    provider_message_id: str
    provider_status: str
    status: str | None
    error_code: str | None = None
    occurred_at: datetime | None = None
    event_key: str | None = None


@dataclass(frozen=True)
class InboundText:
    """A text a patient sent us."""

    provider_message_id: str
    from_phone: str
    body: str
    received_at: datetime | None = None


@dataclass
class WebhookBatch:
    """What one webhook request carried."""

    statuses: list[StatusEvent] = field(default_factory=list)
    inbound: list[InboundText] = field(default_factory=list)


class Provider(Protocol):
    """What the sending task and the webhooks need of a provider."""

    name: str
    channel: str

    def send(self, to: str, body: str) -> str:
        """Send `body` to `to` (E.164); return the provider's message id or raise ProviderError."""

    def verify_webhook(self, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether a webhook request really comes from the provider (signature over the request)."""

    def parse_webhook(self, body: bytes) -> WebhookBatch:
        """The status events and inbound texts of a verified webhook request."""


@lru_cache
def _http_client(timeout: float) -> httpx.Client:
    """One pooled client per process (keep-alive to the provider); every call has a timeout."""
    return httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False)


def _post(method: str, url: str, timeout: float, **kwargs) -> httpx.Response:
    try:
        return _http_client(timeout).request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise ProviderError("timeout", transient=True) from None
    except httpx.TransportError:
        raise ProviderError("connection_error", transient=True) from None


def _http_error(response: httpx.Response, provider_code: str | None, transient_codes: set[int]) -> ProviderError:
    status = response.status_code
    transient = status >= 500 or status == 429 or (
        provider_code is not None and provider_code.isdigit() and int(provider_code) in transient_codes
    )
    code = f"http_{status}" + (f":{provider_code}" if provider_code else "")
    return ProviderError(code, transient=transient, status=status)


# ------------------------------------------------------------------ Twilio


TWILIO_STATUSES = {
    "accepted": "sent", "scheduled": "sent", "queued": "sent", "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "read", "undelivered": "failed", "failed": "failed",
}


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """Twilio's request signature: base64(HMAC-SHA1(token, url + every name+value sorted by name)).

    Like Twilio's own validators: a repeated (name, value) pair counts once, values of one name sorted.
    """
    payload = url + "".join(f"{name}{value}" for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioSms:
    """SMS through Twilio's Messages API."""

    name = "twilio"
    channel = "sms"

    def __init__(self, *, base_url: str, account_sid: str, auth_token: str, from_number: str | None,
                 status_callback_url: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.status_callback_url = status_callback_url
        self.timeout = timeout

    def send(self, to: str, body: str) -> str:
        """POST the message; return Twilio's message sid."""
        form = {"To": to, "From": self.from_number or "", "Body": body}
        if self.status_callback_url:
            form["StatusCallback"] = self.status_callback_url
        response = _post(
            "POST", f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json", self.timeout,
            data=form, auth=(self.account_sid, self._auth_token),
        )
        payload = _json(response)
        if response.status_code >= 300:
            code = payload.get("code")
            raise _http_error(response, str(code) if code is not None else None, _TWILIO_TRANSIENT)
        sid = payload.get("sid")
        if not sid:
            raise ProviderError("invalid_response", transient=True, status=response.status_code)
        return str(sid)

    def verify_webhook(self, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Check X-Twilio-Signature over the URL Twilio called and the form parameters (constant time)."""
        signature = _header(headers, "x-twilio-signature")
        if not signature or not self._auth_token:
            return False
        expected = twilio_signature(self._auth_token, url, _form(body))
        return hmac.compare_digest(expected.encode(), signature.encode())

    def parse_webhook(self, body: bytes) -> WebhookBatch:
        """A status callback (MessageSid + MessageStatus) or an inbound SMS (MessageSid + From + Body)."""
        params = dict(_form(body))
        batch = WebhookBatch()
        sid = params.get("MessageSid") or params.get("SmsSid")
        if not sid:
            return batch
        status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
        if status == "received" or ("Body" in params and "From" in params and not params.get("MessageStatus")):
            batch.inbound.append(InboundText(provider_message_id=sid, from_phone=params.get("From", ""),
                                             body=params.get("Body", "")))
        elif status:
            batch.statuses.append(StatusEvent(
                provider_message_id=sid, provider_status=status, status=TWILIO_STATUSES.get(status),
                error_code=params.get("ErrorCode") or None,
            ))
        return batch


# ------------------------------------------------------------------ WhatsApp Cloud API


WHATSAPP_STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}


def whatsapp_signature(app_secret: str, body: bytes) -> str:
    """Meta's X-Hub-Signature-256 value for a raw request body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class WhatsAppCloud:
    """Text messages through the WhatsApp Business Cloud API."""

    name = "whatsapp_cloud"
    channel = "whatsapp"

    def __init__(self, *, base_url: str, api_version: str, phone_number_id: str, access_token: str,
                 app_secret: str, verify_token: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.phone_number_id = phone_number_id
        self._access_token = access_token
        self._app_secret = app_secret
        self._verify_token = verify_token
        self.timeout = timeout

    def send(self, to: str, body: str) -> str:
        """POST a text message; return the `wamid…` id."""
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": digits_only(to),
            "type": "text",
            "text": {"preview_url": False, "body": body},
        }
        response = _post(
            "POST", f"{self.base_url}/{self.api_version}/{self.phone_number_id}/messages", self.timeout,
            json=payload, headers={"Authorization": f"Bearer {self._access_token}"},
        )
        answer = _json(response)
        if response.status_code >= 300:
            code = (answer.get("error") or {}).get("code")
            raise _http_error(response, str(code) if code is not None else None, _WHATSAPP_TRANSIENT)
        messages = answer.get("messages") or []
        if not messages or not messages[0].get("id"):
            raise ProviderError("invalid_response", transient=True, status=response.status_code)
        return str(messages[0]["id"])

    def verify_webhook(self, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        """Check X-Hub-Signature-256 over the raw body (constant time)."""
        signature = _header(headers, "x-hub-signature-256")
        if not signature or not self._app_secret:
            return False
        return hmac.compare_digest(whatsapp_signature(self._app_secret, body).encode(), signature.encode())

    def verify_subscription(self, mode: str | None, token: str | None, challenge: str | None) -> str | None:
        """The GET handshake: the challenge to echo when mode is subscribe and the token matches, else None."""
        if mode != "subscribe" or not token or challenge is None or not self._verify_token:
            return None
        if not hmac.compare_digest(token.encode(), self._verify_token.encode()):
            return None
        return challenge

    def parse_webhook(self, body: bytes) -> WebhookBatch:
        """Statuses and text (or button) messages of every change of every entry."""
        batch = WebhookBatch()
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return batch
        for entry in payload.get("entry") or []:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                for status in value.get("statuses") or []:
                    provider_status = str(status.get("status") or "").lower()
                    if not status.get("id") or not provider_status:
                        continue
                    errors = status.get("errors") or [{}]
                    code = errors[0].get("code")
                    batch.statuses.append(StatusEvent(
                        provider_message_id=str(status["id"]), provider_status=provider_status,
                        status=WHATSAPP_STATUSES.get(provider_status),
                        error_code=str(code) if code is not None else None,
                        occurred_at=_epoch(status.get("timestamp")),
                    ))
                for message in value.get("messages") or []:
                    if not message.get("id") or not message.get("from"):
                        continue
                    batch.inbound.append(InboundText(
                        # Cloud API numbers carry their country code without the "+".
                        provider_message_id=str(message["id"]), from_phone="+" + digits_only(str(message["from"])),
                        body=_whatsapp_text(message), received_at=_epoch(message.get("timestamp")),
                    ))
        return batch


def _whatsapp_text(message: Mapping) -> str:
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "button":
        return str((message.get("button") or {}).get("text") or "")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("title") or "")
    return ""


# ------------------------------------------------------------------ development


class DevProvider:
    """Nothing leaves the machine: the message row is the record; optionally a local JSON-lines outbox file."""

    name = "dev"
    # Appends from worker threads must not interleave.
    _lock = threading.Lock()

    def __init__(self, channel: str, outbox_path: str | None = None) -> None:
        self.channel = channel
        self.outbox_path = Path(outbox_path) if outbox_path else None

    def send(self, to: str, body: str) -> str:
        """Pretend to send; return a fresh `dev-…` id."""
        message_id = f"dev-{uuid.uuid4().hex}"
        if self.outbox_path is not None:
            line = json.dumps({"id": message_id, "channel": self.channel, "to": mask_phone(_national(to)),
                               "body": body, "at": datetime.now(UTC).isoformat()}, ensure_ascii=False)
            with self._lock:
                self.outbox_path.parent.mkdir(parents=True, exist_ok=True)
                with self.outbox_path.open("a", encoding="utf-8") as file:
                    file.write(line + "\n")
        log.info("dev provider: message kept locally", extra={"channel": self.channel})
        return message_id

    def verify_webhook(self, url: str, headers: Mapping[str, str], body: bytes) -> bool:
        """The development provider has no webhooks."""
        return False

    def parse_webhook(self, body: bytes) -> WebhookBatch:
        """Nothing to parse."""
        return WebhookBatch()


# ------------------------------------------------------------------ from settings


def provider_for(channel: str, settings: MessagingSettings | None = None) -> Provider:
    """The adapter configured to send a channel (sms: dev|twilio; whatsapp: dev|cloud)."""
    settings = settings or get_settings()
    if channel == "sms":
        return twilio(settings) if settings.sms_provider == "twilio" else DevProvider("sms", settings.dev_outbox_path)
    if channel == "whatsapp":
        if settings.whatsapp_provider == "cloud":
            return whatsapp_cloud(settings)
        return DevProvider("whatsapp", settings.dev_outbox_path)
    raise ValueError(f"unknown channel {channel!r}")


def twilio(settings: MessagingSettings | None = None) -> TwilioSms | None:
    """The Twilio adapter when its account and token are configured (webhooks need the token), else None."""
    settings = settings or get_settings()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not settings.twilio_account_sid or not token:
        return None
    return TwilioSms(
        base_url=settings.twilio_base_url, account_sid=settings.twilio_account_sid, auth_token=token,
        from_number=settings.twilio_from_number, status_callback_url=settings.twilio_status_callback_url,
        timeout=settings.http_timeout_seconds,
    )


def whatsapp_cloud(settings: MessagingSettings | None = None) -> WhatsAppCloud | None:
    """The WhatsApp Cloud adapter when its secrets are configured, else None."""
    settings = settings or get_settings()
    secrets = [s.get_secret_value() if s else "" for s in (settings.whatsapp_access_token,
                                                            settings.whatsapp_app_secret,
                                                            settings.whatsapp_verify_token)]
    if not settings.whatsapp_phone_number_id or not all(secrets):
        return None
    access_token, app_secret, verify_token = secrets
    return WhatsAppCloud(
        base_url=settings.whatsapp_base_url, api_version=settings.whatsapp_api_version,
        phone_number_id=settings.whatsapp_phone_number_id, access_token=access_token, app_secret=app_secret,
        verify_token=verify_token, timeout=settings.http_timeout_seconds,
    )


# ------------------------------------------------------------------ helpers


def _json(response: httpx.Response) -> dict:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _form(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _epoch(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _national(e164: str) -> str:
    digits = digits_only(e164)
    return digits[2:] if digits.startswith("55") else digits
