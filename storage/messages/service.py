"""Message commands: request a message, claim and record sends, apply delivery status, handle replies.

Nothing here talks to a provider or commits. A requested message is `queued`; the
caller commits, then `workers.enqueue.enqueue_message(id)` has a task claim it
(`mark_sending`, under a row lock, so a message is never sent twice), send it, and
record the outcome (`mark_sent`, `mark_failed`, `release_for_retry`). Opted-out
patients get nothing: `request()` refuses them and the claim re-checks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, object_session

from storage import indexed, paging
from storage.audit import service as audit_service
from storage.audit.service import Actor
from storage.clock import local_today
from storage.errors import Conflict, Invalid, NotFound
from storage.identifiers import digits_only, phone_e164
from storage.messages import reminders, repo, templates
from storage.messages.phones import mobile_number
from storage.messages.reminders import reminder_key
from storage.messages.models import CHANNELS, REASONS, InboundMessage, Message, MessageEvent, new_id
from storage.patients import repo as patient_repo
from storage.patients.models import Patient
from storage.visits import confirmations as visit_confirmations
from storage.visits import repo as visit_repo

PATIENT = "patient"

# Delivery progress; a status event never moves a message backwards.
_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4}
# A reply, normalised (see `normalize_reply`), and what it asks for.
REPLIES = {"sim": "confirm", "1": "confirm", "nao": "decline", "2": "decline",
           "sair": "opt_out", "parar": "opt_out", "stop": "opt_out"}
_OUTCOMES = {"confirm": ("confirmed", "confirmed"), "decline": ("declined", "declined")}
_NOT_WORDS = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")
ERROR_MAX = 200


# ------------------------------------------------------------------ requesting


@dataclass(frozen=True)
class Draft:
    """A message ready to store: who, about which visit, where to, and the exact pt-BR text."""

    patient_id: str
    visit_id: str
    channel: str
    template: str
    body: str
    to_phone: str
    number: str


def compose(
    session: Session,
    *,
    template: str,
    channel: str,
    visit_id: str | None = None,
    patient_id: str | None = None,
    reason: str = "manual",
) -> Draft:
    """Validate and render a message without storing it (what `request` stores; a preview shows it).

    Without a visit the patient's next scheduled visit is used (every template names a
    date and time). Conflict `patient_opted_out` / `visit_cancelled`; Invalid
    `no_mobile_phone`, `unknown_template`, `invalid_channel`, `visit_patient_mismatch`,
    `no_upcoming_visit`, `missing_target`; NotFound for an unknown patient or visit.
    """
    _check_choice(template, templates.TEMPLATES, "unknown_template", "Modelo de mensagem desconhecido.", "template")
    _check_choice(channel, CHANNELS, "invalid_channel", "Canal de mensagem inválido (use sms ou whatsapp).", "channel")
    _check_choice(reason, REASONS, "invalid_reason", "Motivo de envio inválido.", "reason")
    if visit_id is None and patient_id is None:
        raise Invalid("missing_target", "Informe a visita ou o paciente.", field="visit_id")

    visit = None
    if visit_id is not None:
        visit = visit_repo.get(session, visit_id)
        if visit is None:
            raise NotFound("visit", visit_id)
        if patient_id is not None and visit.patient_id != patient_id:
            raise Invalid("visit_patient_mismatch", "A visita não pertence a este paciente.", field="visit_id")
        patient_id = visit.patient_id
    patient = patient_repo.get(session, patient_id)
    if patient is None:
        raise NotFound(PATIENT, patient_id)
    if patient.opted_out_at is not None:
        raise Conflict("patient_opted_out", "O paciente pediu para não receber mensagens.")
    if visit is None:
        visit = repo.next_visit(session, patient.id, local_today())
        if visit is None:
            raise Invalid("no_upcoming_visit", "O paciente não tem visita agendada para citar na mensagem.")
    if visit.status == "cancelled":
        raise Conflict("visit_cancelled", "A visita está cancelada.")
    number = mobile_number(patient.phones or [], channel)
    if number is None:
        raise Invalid("no_mobile_phone", "O paciente não tem celular cadastrado.", field="phones")

    body = templates.render(template, templates.values_for(patient.name, visit.start_at, visit.street, visit.number))
    return Draft(patient.id, visit.id, channel, template, body, phone_e164(number), number)


def request(
    session: Session,
    *,
    template: str,
    channel: str,
    visit_id: str | None = None,
    patient_id: str | None = None,
    actor_id: str | None,
    reason: str = "manual",
) -> Message:
    """Validate, render the pt-BR text and store a `queued` message (the caller commits, then enqueues it).

    The checks and errors of `compose`.
    """
    draft = compose(session, template=template, channel=channel, visit_id=visit_id, patient_id=patient_id,
                    reason=reason)
    message = Message(
        patient_id=draft.patient_id, visit_id=draft.visit_id, channel=channel, template=template, body=draft.body,
        to_phone=draft.to_phone, status="queued", attempts=0, reason=reason, actor_id=actor_id,
    )
    session.add(message)
    session.flush()
    return message


@dataclass
class ReminderRun:
    """What one run of the daily reminder did: the messages it queued and what it skipped, by reason."""

    day: date
    message_ids: list[str] = field(default_factory=list)
    opted_out: int = 0
    no_mobile_phone: int = 0
    already_reminded: int = 0
    invalid: int = 0


def page_log(
    session: Session, actor: Actor, *, patient_id: str | None = None, cursor: str | None, limit: int, **filters: Any
) -> paging.Page[Message]:
    """A page of the message log (`repo.page_log`); a patient's log is audited as a read of the patient."""
    if patient_id is not None and patient_repo.get(session, patient_id) is None:
        raise NotFound("patient", patient_id)
    page = repo.page_log(session, patient_id=patient_id, cursor=cursor, limit=limit, **filters)
    if patient_id is not None:
        audit_service.record(session, actor, "patient.read", "patient", patient_id, {"view": "messages"})
    return page


def request_reminders(session: Session, day: date, *, default_channel: str = "whatsapp") -> ReminderRun:
    """Queue the confirmation request of every visit on `day` not confirmed, declined, cancelled or reminded.

    Once per visit, even when runs overlap: the message carries `reminder:<visit id>`,
    unique, inserted with ON CONFLICT DO NOTHING (a concurrent run waits for the other
    transaction and then skips). Opted-out patients and patients without a mobile phone
    are skipped. The channel is the patient's preferred one when it is sms or whatsapp.
    """
    run = ReminderRun(day=day)
    plan = reminders.plan(session, day, default_channel=default_channel)
    run.opted_out, run.no_mobile_phone = plan.excluded["opted_out"], plan.excluded["no_mobile_phone"]
    run.invalid, run.already_reminded = plan.excluded["invalid"], plan.excluded["already_sent"]
    for recipient in plan.recipients:
        message_id = session.execute(
            insert(Message)
            .values(
                id=new_id(), patient_id=recipient.patient_id, visit_id=recipient.visit_id,
                channel=recipient.channel, template=reminders.TEMPLATE, body=recipient.body,
                to_phone=recipient.to_phone, status="queued", attempts=0, reason="reminder", actor_id=None,
                dedupe_key=reminder_key(recipient.visit_id),
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Message.id)
        ).scalar()
        if message_id is None:
            run.already_reminded += 1
        else:
            run.message_ids.append(message_id)
    return run


# ------------------------------------------------------------------ sending


@dataclass(frozen=True)
class Claim:
    """What a worker needs to send one claimed message."""

    message_id: str
    channel: str
    to_phone: str
    body: str
    attempts: int


def mark_sending(session: Session, message_id: str, *, provider: str) -> Claim | None:
    """Claim a queued message for sending (row lock, queued → sending, attempts + 1); None if not to send.

    Idempotent: only a `queued` message is claimed, so a duplicate or late task never
    sends twice. A message whose patient opted out (or whose visit was cancelled)
    since it was requested is `cancelled` here instead.
    """
    message = repo.get_for_update(session, message_id)
    if message is None or message.status != "queued":
        return None
    patient = patient_repo.get(session, message.patient_id)
    if patient is None or patient.opted_out_at is not None:
        _cancel(message, "patient_opted_out")
        return None
    if message.visit_id is not None:
        visit = visit_repo.get(session, message.visit_id)
        if visit is not None and visit.status == "cancelled":
            _cancel(message, "visit_cancelled")
            return None
    message.status = "sending"
    message.attempts += 1
    message.provider = provider
    session.flush()
    return Claim(message.id, message.channel, message.to_phone, message.body, message.attempts)


def mark_sent(session: Session, message_id: str, *, provider: str, provider_message_id: str) -> Message:
    """Record that the provider accepted the message (sending → sent), then apply status events that came first."""
    message = _locked(session, message_id)
    message.provider = provider
    message.provider_message_id = provider_message_id
    message.sent_at = func.now()
    message.last_error = None
    if message.status == "sending":
        message.status = "sent"
        if message.visit_id:
            # The visit's document lists the channels its patient was reached through.
            indexed.mark_changed(session, stale_visits=[message.visit_id])
    session.flush()
    # A status callback may beat our own commit: it was stored without a message, apply it now.
    for event in repo.events_without_message(session, provider, provider_message_id):
        event.message_id = message.id
        if event.status and _advances(message.status, event.status):
            message.status = event.status
            if event.status == "failed":
                message.last_error = _error(f"provider:{event.error_code or event.provider_status}")
    session.flush()
    return message


def mark_failed(session: Session, message_id: str, error: str) -> Message:
    """Give up on a message (a permanent provider error or too many attempts); `error` is a code, no personal data."""
    message = _locked(session, message_id)
    if message.status in ("queued", "sending"):
        message.status = "failed"
    message.last_error = _error(error)
    session.flush()
    return message


def release_for_retry(session: Session, message_id: str, error: str) -> Message:
    """Put a message whose send failed for a passing reason back to `queued` (sending → queued) for a retry."""
    message = _locked(session, message_id)
    if message.status == "sending":
        message.status = "queued"
    message.last_error = _error(error)
    session.flush()
    return message


def unclaim(session: Session, message_id: str) -> Message:
    """Undo a claim that could not send yet (over the provider's rate): sending → queued, the attempt uncounted."""
    message = _locked(session, message_id)
    if message.status == "sending":
        message.status = "queued"
        message.attempts = max(message.attempts - 1, 0)
    session.flush()
    return message


def _cancel(message: Message, reason: str) -> None:
    message.status = "cancelled"
    message.last_error = reason
    object_session(message).flush()


def _locked(session: Session, message_id: str) -> Message:
    message = repo.get_for_update(session, message_id)
    if message is None:
        raise NotFound("message", message_id)
    return message


# ------------------------------------------------------------------ delivery status


def apply_status_event(
    session: Session,
    *,
    provider: str,
    provider_message_id: str,
    provider_status: str,
    status: str | None,
    error_code: str | None = None,
    occurred_at: datetime | None = None,
    event_key: str | None = None,
) -> bool:
    """Store a delivery status callback once and move the message forward; False for a replay.

    `status` is the provider status in our words (None for one we do not track). The
    event is unique on (provider, event_key or `<id>:<provider status>`), so a replayed
    callback changes nothing; a late or out-of-order one never moves a message backwards.
    """
    key = (event_key or f"{provider_message_id}:{provider_status}")[:160]
    message = repo.find_by_provider_id(session, provider, provider_message_id)
    inserted = session.execute(
        insert(MessageEvent)
        .values(
            provider=provider, event_key=key, provider_message_id=provider_message_id,
            message_id=message.id if message else None, provider_status=provider_status[:30], status=status,
            error_code=(error_code or None) and str(error_code)[:30], occurred_at=occurred_at,
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_key"])
        .returning(MessageEvent.id)
    ).scalar()
    if inserted is None:
        return False
    if message is not None and status is not None and _advances(message.status, status):
        message.status = status
        if status == "failed":
            message.last_error = _error(f"provider:{error_code or provider_status}")
        session.flush()
    return True


def _advances(current: str, new: str) -> bool:
    """Whether `new` is progress over `current` (failed only replaces a message not yet delivered)."""
    if current in ("failed", "cancelled") or new not in (*_RANK, "failed"):
        return False
    if new == "failed":
        return current in ("queued", "sending", "sent")
    return _RANK[new] > _RANK[current]


# ------------------------------------------------------------------ inbound


@dataclass(frozen=True)
class InboundResult:
    """What an inbound message led to; `replay` when it had been handled before (nothing done again)."""

    inbound_id: int
    action: str | None
    patient_id: str | None
    visit_id: str | None
    replay: bool = False


def normalize_reply(text: str | None) -> str:
    """Fold a reply for matching: trimmed, case-folded, no accents, no punctuation, single spaces ('Não!' → 'nao')."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", _NOT_WORDS.sub(" ", plain).replace("_", " ")).strip()


def phone_candidates(raw: str | None) -> list[str]:
    """National digits a provider's sender number may stand for, most likely first.

    Twilio sends `+5511987654321`, WhatsApp `5511987654321` (its adapter adds the `+`);
    WhatsApp also reports some Brazilian mobiles without the ninth digit (`551187654321`),
    so both forms are tried. A number of another country matches nobody.
    """
    digits = digits_only(raw)
    international = (raw or "").strip().startswith("+")
    if international and not digits.startswith("55"):
        return []
    if (international or len(digits) in (12, 13)) and digits.startswith("55"):
        digits = digits[2:]
    if len(digits) not in (10, 11):
        return []
    candidates = [digits]
    if len(digits) == 10 and digits[2] in "6789":
        candidates.append(f"{digits[:2]}9{digits[2:]}")
    return candidates


def handle_inbound(
    session: Session,
    *,
    provider: str,
    channel: str,
    provider_message_id: str,
    from_phone: str,
    body: str,
    received_at: datetime | None = None,
    today: date | None = None,
) -> InboundResult:
    """Store an inbound message once and act on it; a replay (same provider id) does nothing again.

    SIM/1 confirms and NÃO/2 declines the sender's next scheduled visit (from today,
    nearest first) through the visit's confirmation attempts; SAIR/PARAR/STOP opts
    every patient with that phone out. Anything else is stored without action. The
    sender is matched by phone; a phone shared by several patients resolves to the
    one we last wrote to from that number, else it is `ambiguous` (no confirmation).
    """
    numbers = phone_candidates(from_phone)
    raw_digits = digits_only(from_phone)
    sender = phone_e164(numbers[0]) if numbers else (f"+{raw_digits}"[:20] if raw_digits else "?")
    values: dict[str, Any] = dict(
        provider=provider, provider_message_id=provider_message_id[:100], channel=channel, from_phone=sender,
        body=(body or "")[:4000],
    )
    if received_at is not None:
        values["received_at"] = received_at
    inbound_id = session.execute(
        insert(InboundMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider", "provider_message_id"])
        .returning(InboundMessage.id)
    ).scalar()
    if inbound_id is None:
        seen = repo.inbound_by_provider_id(session, provider, provider_message_id[:100])
        return InboundResult(seen.id, seen.action, seen.patient_id, seen.visit_id, replay=True)

    intent = REPLIES.get(normalize_reply(body))
    patients = repo.patients_by_phone(session, numbers)
    patient_id = _resolve_sender(session, sender, patients)
    visit_id = None
    if not patients:
        action = "unknown_sender"
    elif intent == "opt_out":
        for patient in patients:
            opt_out(session, patient.id, channel=channel)
        action, patient_id = "opted_out", patient_id or patients[0].id
    elif intent in _OUTCOMES:
        action, visit_id = _answer(session, patient_id, channel, _OUTCOMES[intent], today or local_today())
    else:
        action = "none"

    session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound_id)
        .values(action=action, patient_id=patient_id, visit_id=visit_id)
    )
    return InboundResult(inbound_id, action, patient_id, visit_id)


def _resolve_sender(session: Session, sender: str, patients: Sequence[Patient]) -> str | None:
    if len(patients) == 1:
        return patients[0].id
    return repo.latest_recipient(session, sender, [p.id for p in patients])


def _answer(
    session: Session, patient_id: str | None, channel: str, outcome: tuple[str, str], today: date
) -> tuple[str, str | None]:
    """Record the reply as a confirmation attempt of the patient's next visit; (action, visit id)."""
    if patient_id is None:
        return "ambiguous", None
    visit = repo.next_visit(session, patient_id, today)
    if visit is None:
        return "no_visit", None
    attempt_outcome, action = outcome
    visit_confirmations.record_attempt(
        session, visit.id, channel=channel, outcome=attempt_outcome, actor_id=None, source="inbound_message"
    )
    return action, visit.id


def opt_out(session: Session, patient_id: str, *, channel: str | None = None) -> bool:
    """Stop every later message to a patient (outbox row for the index); cancels what is still queued.

    Idempotent: a patient already opted out keeps the first date; returns whether it changed.
    """
    patient = patient_repo.get_for_update(session, patient_id)
    if patient is None:
        raise NotFound(PATIENT, patient_id)
    session.execute(
        update(Message)
        .where(Message.patient_id == patient_id, Message.status == "queued")
        .values(status="cancelled", last_error="patient_opted_out", updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    if patient.opted_out_at is not None:
        return False
    patient.opted_out_at = func.now()
    patient.opted_out_channel = channel
    session.flush()
    indexed.mark_changed(session, patients=[patient.id])
    return True


# ------------------------------------------------------------------ helpers


def _check_choice(value: Any, allowed, code: str, message: str, field_name: str) -> None:
    if value not in allowed:
        raise Invalid(code, message, field=field_name, allowed=sorted(allowed))


def _error(text: str) -> str:
    return text[:ERROR_MAX]
