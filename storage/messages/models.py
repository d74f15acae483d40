"""Outbound messages, their delivery status events and inbound replies."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

CHANNELS = ("sms", "whatsapp")
STATUSES = ("queued", "sending", "sent", "delivered", "read", "failed", "cancelled")
# The provider took the message: the patient was contacted through its channel.
REACHED_PROVIDER = ("sent", "delivered", "read")
REASONS = ("manual", "reminder", "bulk")
# What an inbound reply led to.
INBOUND_ACTIONS = ("confirmed", "declined", "opted_out", "no_visit", "ambiguous", "unknown_sender", "none")


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Message(Timestamps, Base):
    """One message to one patient: the rendered text, where it went, and how far it got.

    `to_phone` (E.164) is the record of where it was sent. `last_error` holds a code,
    never personal data. `dedupe_key` makes a message once-only (the daily reminder
    uses `reminder:<visit_id>`).
    """

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Erasing a patient erases what was sent to them.
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    to_phone: Mapped[str] = mapped_column(String(20))
    # Set when a worker claims it: which adapter sent it, and the provider's own id.
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_message_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    # The user who asked for it (None for the reminder); a plain column like imports.uploaded_by.
    actor_id: Mapped[str | None] = mapped_column(String(36))
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The clock, not the transaction's start: messages written together (the reminder) keep their order.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())

    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("reason", REASONS), name="reason"),
        Index("ix_messages_patient_id_created_at", "patient_id", "created_at"),
        Index("ix_messages_visit_id", "visit_id"),
        Index(
            "uq_messages_provider_message_id", "provider", "provider_message_id", unique=True,
            postgresql_where=text("provider_message_id IS NOT NULL"),
        ),
        # The sweep: queued messages whose task was lost, sends interrupted mid-call.
        Index("ix_messages_pending_updated_at", "updated_at", postgresql_where=text("status IN ('queued', 'sending')")),
    )


class MessageEvent(Base):
    """A delivery status callback of a provider, kept once: (provider, event_key) is unique."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20))
    # The provider's event id, or `<provider message id>:<provider status>` when it has none.
    event_key: Mapped[str] = mapped_column(String(160))
    provider_message_id: Mapped[str] = mapped_column(String(100))
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    provider_status: Mapped[str] = mapped_column(String(30))
    # The provider status in our words (None: a status we do not track).
    status: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(30))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("uq_message_events_provider_event_key", "provider", "event_key", unique=True),
        Index("ix_message_events_message_id", "message_id"),
    )


class InboundMessage(Base):
    """A message a patient sent us, kept once per provider message id, with what it led to."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    from_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    action: Mapped[str | None] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("uq_inbound_messages_provider_message_id", "provider", "provider_message_id", unique=True),
        Index("ix_inbound_messages_patient_id", "patient_id"),
    )
