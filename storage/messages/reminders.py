"""The daily reminder's selection: who gets tomorrow's confirmation request, and why the others do not.

One rule, used by the reminder itself (service.request_reminders, run by beat) and by the
screen that shows what it will do (GET /api/v1/messages/reminder): of the day's live visits
(scheduled, still listed by the latest export), those already confirmed or declined, already
reminded (`reminder:<visit id>`), of opted-out patients, of patients without a mobile phone or
whose text cannot be rendered are left out, each with its reason; the rest are recipients,
in start order, with the channel, number and exact text the reminder will send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from storage.errors import Invalid
from storage.identifiers import phone_e164
from storage.messages import repo, templates
from storage.messages.models import CHANNELS
from storage.messages.phones import mobile_number

TEMPLATE = "confirmation_request"
# Why a visit of the day gets no reminder, in the order the rule looks.
EXCLUSIONS = ("confirmed", "declined", "already_sent", "opted_out", "no_mobile_phone", "invalid")


def reminder_key(visit_id: str) -> str:
    """The dedupe key that makes the daily reminder once-only per visit."""
    return f"reminder:{visit_id}"


@dataclass(frozen=True)
class Recipient:
    """A visit the reminder writes to: the patient, where and how, and the exact text."""

    visit_id: str
    patient_id: str
    patient_name: str
    start_at: datetime
    car_id: str | None
    channel: str
    to_phone: str
    body: str


@dataclass
class Plan:
    """What the reminder of `day` would do now: its recipients (start order) and how many it leaves out, by reason."""

    day: date
    recipients: list[Recipient] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXCLUSIONS, 0))


def exclusion(candidate: repo.ReminderCandidate, channel: str) -> str | None:
    """Why this visit gets no reminder on `channel` (one of EXCLUSIONS), or None when it gets one."""
    if candidate.confirmation_status in ("confirmed", "declined"):
        return candidate.confirmation_status
    if candidate.reminded:
        return "already_sent"
    if candidate.opted_out:
        return "opted_out"
    if mobile_number(candidate.phones, channel) is None:
        return "no_mobile_phone"
    return None


def plan(session: Session, day: date, *, default_channel: str = "whatsapp") -> Plan:
    """The reminder of `day` as it would run now (nothing written). The channel is the patient's preferred one
    when it is sms or whatsapp, else `default_channel`. Invalid `invalid_channel` for a bad default."""
    if default_channel not in CHANNELS:
        raise Invalid("invalid_channel", "Canal de mensagem inválido.", field="channel", allowed=sorted(CHANNELS))
    result = Plan(day=day)
    for candidate in repo.reminder_candidates(session, day):
        channel = candidate.preferred_channel if candidate.preferred_channel in CHANNELS else default_channel
        reason = exclusion(candidate, channel)
        if reason is None:
            values = templates.values_for(candidate.patient_name, candidate.start_at, candidate.street,
                                          candidate.number)
            try:
                body = templates.render(TEMPLATE, values)
            except Invalid:
                reason = "invalid"
        if reason is not None:
            result.excluded[reason] += 1
            continue
        number = mobile_number(candidate.phones, channel)
        assert number is not None
        result.recipients.append(Recipient(
            visit_id=candidate.visit_id, patient_id=candidate.patient_id, patient_name=candidate.patient_name,
            start_at=candidate.start_at, car_id=candidate.car_id, channel=channel, to_phone=phone_e164(number),
            body=body,
        ))
    return result
