"""The confirmation work queue: ConfirmationQueue and its items."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from api.schemas.messages import Channel as MessageChannel
from api.schemas.messages import MessageStatus, Template
from api.schemas.patients import AttemptChannel, AttemptOutcome, Channel, ConfirmationStatus, Phone


class QueueCar(BaseModel):
    id: str
    label: str | None
    base: str | None


class QueuePatient(BaseModel):
    """Who to call: phones with their kind (mobiles first for texts), preferences, whether they opted out."""

    id: str
    name: str
    phones: list[Phone]
    preferred_channel: Channel | None
    preferred_contact_time: str | None
    opted_out: bool


class QueueAttempt(BaseModel):
    at: datetime
    channel: AttemptChannel
    outcome: AttemptOutcome
    actor_id: str | None
    actor_name: str | None


class QueueConfirmation(BaseModel):
    status: ConfirmationStatus
    attempts: int
    last_attempt: QueueAttempt | None


class QueueMessage(BaseModel):
    id: str
    template: Template
    channel: MessageChannel
    status: MessageStatus
    at: datetime


class QueueItem(BaseModel):
    visit_id: str
    start: datetime
    end: datetime
    car: QueueCar | None
    patient: QueuePatient
    confirmation: QueueConfirmation
    last_message: QueueMessage | None


class ConfirmationQueue(BaseModel):
    """A day's live visits still to confirm, by start then car label; `total` counts every page."""

    date: date
    total: int
    items: list[QueueItem]
    next_cursor: str | None
