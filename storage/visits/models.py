"""Visits and the source appointments (spreadsheet rows) they were made from."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, Timestamps

STATUSES = ("scheduled", "cancelled", "collected", "no_show")
CONFIRMATION_STATUSES = ("confirmed", "pending", "declined")
# How a confirmation attempt was made, what came of it, and who recorded it.
ATTEMPT_CHANNELS = ("phone", "sms", "whatsapp", "email")
ATTEMPT_OUTCOMES = ("confirmed", "no_answer", "declined", "reschedule_requested", "wrong_number")
ATTEMPT_SOURCES = ("staff", "inbound_message", "bulk")
# The kinds of rows of a visit's history.
CHANGE_KINDS = ("created", "status", "rescheduled")


def new_id() -> str:
    """Return a new opaque id."""
    return str(uuid.uuid4())


class Visit(Timestamps, Base):
    """One stop of a car at a patient's address in a time slot.

    A split visit (one stop billed to two payers, two rows of the export) is one
    visit with both payers and all exams; its rows are its `VisitSource`s.
    Times are stored with their offset; `visit_date` is the America/Sao_Paulo day.
    """

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    row_version: Mapped[int] = mapped_column(nullable=False)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), nullable=False)
    car_id: Mapped[str | None] = mapped_column(ForeignKey("cars.id"))
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    visit_date: Mapped[date] = mapped_column(Date)

    # Our lifecycle: scheduled | cancelled | collected | no_show.
    status: Mapped[str] = mapped_column(String(16), default="scheduled", server_default="scheduled")
    # The export's own booking status: scheduled | squeezed_in | cancelled | other.
    booking_status: Mapped[str | None] = mapped_column(String(16))
    confirmation_status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    confirmation_channel: Mapped[str | None] = mapped_column(String(16))
    # Our own clock: when we learned the visit was confirmed (the export never says).
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    exam_codes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    # One raw `Nomes dos Exames` text per source row: names may hold commas, so never split.
    exam_names: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=text("'{}'"))
    total_exams: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # [{"code": "80", "name": "AMIL", "card_number": "0731…"}], one per payer.
    payers: Mapped[list[dict]] = mapped_column(JSONB, default=list, server_default=text("'[]'::jsonb"))
    physician: Mapped[str | None] = mapped_column(Text)
    booking_channel: Mapped[str | None] = mapped_column(String(60))
    booked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)

    street: Mapped[str | None] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(String(30))
    complement: Mapped[str | None] = mapped_column(Text)
    neighborhood: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(2))
    zip_code: Mapped[str | None] = mapped_column(String(8))
    address_reference: Mapped[str | None] = mapped_column(Text)
    address_text: Mapped[str | None] = mapped_column(Text)  # as the export wrote it

    unit_code: Mapped[str | None] = mapped_column(String(20))
    unit_name: Mapped[str | None] = mapped_column(String(120))
    # Hash of (car agenda, start, folded patient name, agenda id): finds the visit a new split row belongs to.
    group_key: Mapped[str | None] = mapped_column(String(40))
    # A newer export of the same unit and day no longer lists it (flagged, never deleted).
    missing_from_latest_export: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The last import that created or changed this visit. No foreign key: a per-row check on every
    # bulk insert for an informative column (imports are never deleted).
    import_id: Mapped[str | None] = mapped_column(String(36))

    __mapper_args__ = {"version_id_col": row_version}

    __table_args__ = (
        Index("ix_visits_patient_id_start_at", "patient_id", "start_at"),
        Index("ix_visits_car_id_start_at", "car_id", "start_at"),
        Index("ix_visits_visit_date_unit_code", "visit_date", "unit_code"),
        Index("ix_visits_group_key", "group_key"),
    )


class VisitSource(Base):
    """One source appointment (an export row) of a visit; a split visit has two.

    `source_id` is DasaExp's `Id do agendamento`; the simplified layout has none, so
    it gets a deterministic key from car, start, patient and its place among rows of
    the same stop. `data` keeps what the row contributes to the visit (payer, exams,
    slot, address, confirmation…) so the visit can be recomputed from its active
    sources; `raw` keeps the row as written, staff login included (personal data of
    staff lives only here, never in a column or a search document).
    """

    __tablename__ = "visit_sources"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), nullable=False)
    source_id: Mapped[str] = mapped_column(String(200))
    agenda_id: Mapped[str | None] = mapped_column(String(40))
    row_number: Mapped[int] = mapped_column(Integer)  # in the file that last listed it
    # JSON, not JSONB: stored as written (no binary conversion on every bulk insert), never queried inside.
    data: Mapped[dict] = mapped_column(JSON)
    raw: Mapped[dict] = mapped_column(JSON)
    # False once an export lists the visit without this row (a payer removed): it stops counting.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Plain columns, not foreign keys: see Visit.import_id.
    first_import_id: Mapped[str | None] = mapped_column(String(36))
    last_import_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))

    __table_args__ = (
        Index("uq_visit_sources_source_id", "source_id", unique=True),
        Index("ix_visit_sources_visit_id", "visit_id"),
        Index("ix_visit_sources_last_import_id", "last_import_id"),
    )


class VisitStatusChange(Base):
    """One row of a visit's history: created, a status change or a reschedule; who, when and why.

    A reschedule keeps the old and new slot and car; a status change the old and new
    status. Visits made by an import have no `created` row (their sources say where
    they came from). `actor_id` is a plain user id (no foreign key): history outlives
    accounts.
    """

    __tablename__ = "visit_status_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    old_start_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    new_start_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    old_end_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    new_end_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    old_car_id: Mapped[str | None] = mapped_column(String(36))
    new_car_id: Mapped[str | None] = mapped_column(String(36))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_visit_status_changes_visit_id_at", "visit_id", "at"),
        CheckConstraint("kind IN ('created', 'status', 'rescheduled')", name="kind"),
    )


class ConfirmationAttempt(Base):
    """One try at confirming a visit with its patient: the channel, what came of it, who and when.

    `source` tells a staff call from an inbound message reply or a bulk action;
    `patient_id` is kept so a patient's confirmation record needs no join.
    """

    __tablename__ = "confirmation_attempts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), nullable=False)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(24))
    notes: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    source: Mapped[str] = mapped_column(String(20), default="staff", server_default="staff")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_confirmation_attempts_visit_id_at", "visit_id", "at"),
        Index("ix_confirmation_attempts_patient_id", "patient_id"),
        CheckConstraint("channel IN ('phone', 'sms', 'whatsapp', 'email')", name="channel"),
        CheckConstraint(
            "outcome IN ('confirmed', 'no_answer', 'declined', 'reschedule_requested', 'wrong_number')", name="outcome"
        ),
        CheckConstraint("source IN ('staff', 'inbound_message', 'bulk')", name="source"),
    )
