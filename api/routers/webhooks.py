"""Provider webhooks: delivery status and inbound replies. Public (no token) but signature-verified.

A forged or missing signature → 401 `invalid_signature`, nothing stored. Each status
event and inbound message is stored once (unique provider ids), so a provider's
retry or a replayed request is answered 2xx and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.orm import Session

from api.deps import SessionDep, commit
from api.errors import ApiError
from api.openapi import errors_for
from api.security import public
from storage.messages import service as message_service
from messaging import providers
from messaging.providers import WebhookBatch
from messaging.settings import get_settings as get_messaging_settings

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

# Twilio answers an inbound SMS with these instructions: none (no automatic reply).
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


_TWIML = {200: {"content": {"text/xml": {"schema": {"type": "string"}}}, "description": "TwiML (no reply)"}}

# Provider callbacks are a few kilobytes; anything far larger is refused before it is read.
MAX_BODY_BYTES = 1_000_000


async def _raw_body(request: Request) -> bytes:
    """The request body exactly as received (signatures are computed over these bytes); 413 when too large."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", "Requisição grande demais.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", "Requisição grande demais.")
    return body


RawBody = Annotated[bytes, Depends(_raw_body)]


def _public_url(request: Request) -> str:
    """The URL the provider called: the configured public origin (behind a proxy) or the request's own."""
    base = get_messaging_settings().webhook_public_base_url
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{base.rstrip('/')}{request.url.path}{query}"


def _verified(adapter: providers.Provider | None, request: Request, body: bytes) -> providers.Provider:
    if adapter is None or not adapter.verify_webhook(_public_url(request), request.headers, body):
        raise ApiError(401, "invalid_signature", "Assinatura do webhook inválida.")
    return adapter


def _apply(session: Session, provider: str, channel: str, batch: WebhookBatch) -> None:
    for event in batch.statuses:
        message_service.apply_status_event(
            session, provider=provider, provider_message_id=event.provider_message_id,
            provider_status=event.provider_status, status=event.status, error_code=event.error_code,
            occurred_at=event.occurred_at, event_key=event.event_key,
        )
    for text in batch.inbound:
        message_service.handle_inbound(
            session, provider=provider, channel=channel, provider_message_id=text.provider_message_id,
            from_phone=text.from_phone, body=text.body, received_at=text.received_at,
        )


@router.post("/twilio/status", status_code=204, responses=errors_for(401, 413), **public())
def receive_twilio_status(request: Request, body: RawBody, session: SessionDep) -> Response:
    """Twilio's delivery status callback (X-Twilio-Signature); each (message, status) applied once."""
    adapter = _verified(providers.twilio(), request, body)
    _apply(session, adapter.name, "sms", adapter.parse_webhook(body))
    commit(session)
    return Response(status_code=204)


@router.post("/twilio/inbound", response_class=Response, responses=_TWIML | errors_for(401, 413), **public())
def receive_twilio_inbound(request: Request, body: RawBody, session: SessionDep) -> Response:
    """An SMS a patient sent (X-Twilio-Signature): SIM/1 confirms, NÃO/2 declines, SAIR opts out."""
    adapter = _verified(providers.twilio(), request, body)
    _apply(session, adapter.name, "sms", adapter.parse_webhook(body))
    commit(session)
    return Response(content=EMPTY_TWIML, media_type="text/xml")


@router.get("/whatsapp", response_class=PlainTextResponse, responses=errors_for(403), **public())
def verify_whatsapp_subscription(
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=20)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=200)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=200)] = None,
) -> PlainTextResponse:
    """Meta's subscription handshake: echo `hub.challenge` when `hub.verify_token` matches; else 403."""
    adapter = providers.whatsapp_cloud()
    answer = adapter.verify_subscription(mode, token, challenge) if adapter else None
    if answer is None:
        raise ApiError(403, "invalid_verify_token", "Token de verificação do webhook inválido.")
    return PlainTextResponse(answer)


@router.post("/whatsapp", response_class=Response, responses=errors_for(401, 413), **public())
def receive_whatsapp_events(request: Request, body: RawBody, session: SessionDep) -> Response:
    """WhatsApp Cloud API events (X-Hub-Signature-256): delivery statuses and inbound replies."""
    adapter = _verified(providers.whatsapp_cloud(), request, body)
    _apply(session, adapter.name, "whatsapp", adapter.parse_webhook(body))
    commit(session)
    return Response(status_code=200)
