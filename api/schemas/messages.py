"""Message bodies: MessageCreate, MessageRead, MessagePage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.masking import Masking, for_role
from storage.messages.models import Message

Template = Literal["confirmation_request", "reminder", "reschedule_notice", "preparation"]
Channel = Literal["sms", "whatsapp"]
MessageStatus = Literal["queued", "sending", "sent", "delivered", "read", "failed", "cancelled"]
# Why it was sent: asked by staff, the daily reminder, a bulk action.
MessageReason = Literal["manual", "reminder", "bulk"]


class MessageCreate(BaseModel):
    """A message to a visit's patient (about that visit) or to a patient (about their next visit)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    visit_id: str | None = Field(default=None, max_length=36)
    patient_id: str | None = Field(default=None, max_length=36)
    template: Template
    channel: Channel

    @model_validator(mode="after")
    def _a_target(self) -> "MessageCreate":
        if not self.visit_id and not self.patient_id:
            raise ValueError("informe visit_id ou patient_id")
        return self


class MessageRead(BaseModel):
    """One message of the log. Viewers see the phone masked."""

    id: str
    patient_id: str
    visit_id: str | None
    channel: Channel
    template: Template
    body: str
    to_phone: str | None
    provider: str | None
    provider_message_id: str | None
    status: MessageStatus
    attempts: int
    last_error: str | None
    reason: MessageReason
    actor_id: str | None
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_row(cls, message: Message, mask: Masking | None = None) -> "MessageRead":
        """Shape a Message row; the phone as `mask` shows it (api.masking; default: in full, for staff)."""
        mask = mask or for_role("admin")
        return cls(
            id=message.id, patient_id=message.patient_id, visit_id=message.visit_id, channel=message.channel,
            template=message.template, body=message.body,
            to_phone=mask.e164(message.to_phone),
            provider=message.provider, provider_message_id=message.provider_message_id, status=message.status,
            attempts=message.attempts, last_error=message.last_error, reason=message.reason,
            actor_id=message.actor_id, created_at=message.created_at, sent_at=message.sent_at,
            updated_at=message.updated_at,
        )


class MessagePage(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None


class MessagePreview(BaseModel):
    """The exact text a message would carry, where to and through which channel; nothing was stored."""

    body: str
    to_phone: str
    channel: Channel
    template: Template
    patient_id: str
    visit_id: str
    # SMS parts the text takes (GSM 03.38: 160/153 characters; otherwise UCS-2: 70/67); 1 for WhatsApp.
    segments: int


class ReminderExcluded(BaseModel):
    """Visits of the target day the reminder leaves out, by reason."""

    confirmed: int
    declined: int
    already_sent: int
    opted_out: int
    no_mobile_phone: int
    invalid: int


class ReminderStatus(BaseModel):
    """The daily reminder: when it runs next (America/Sao_Paulo), which day it reminds, and what it would do now."""

    enabled: bool
    next_run_at: datetime | None
    target_date: date
    template: Template
    channel: Channel
    recipients: int
    excluded: ReminderExcluded


class ReminderCar(BaseModel):
    id: str
    label: str | None
    base: str | None


class ReminderRecipient(BaseModel):
    visit_id: str
    patient_id: str
    patient_name: str
    to_phone: str
    channel: Channel
    start: datetime
    car: ReminderCar | None


class ReminderRecipientPage(BaseModel):
    target_date: date
    items: list[ReminderRecipient]
    next_cursor: str | None
