"""Message queries. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from storage import paging
from storage.messages.models import InboundMessage, Message, MessageEvent
from storage.patients.models import Patient
from storage.visits.models import Visit


def get(session: Session, message_id: str) -> Message | None:
    """Return the message with this id, or None."""
    return session.get(Message, message_id)


def get_for_update(session: Session, message_id: str) -> Message | None:
    """Return the message locked for this transaction (fresh from the database), or None."""
    stmt = select(Message).where(Message.id == message_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def find_by_provider_id(session: Session, provider: str, provider_message_id: str) -> Message | None:
    """Return the message a provider knows by this id, locked for this transaction, or None."""
    stmt = (
        select(Message)
        .where(Message.provider == provider, Message.provider_message_id == provider_message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def list_for_patient(
    session: Session, patient_id: str, *, limit: int = 50, before_id: str | None = None, visit_id: str | None = None
) -> list[Message]:
    """A patient's messages, newest first; `before_id` pages on after that message."""
    stmt = select(Message).where(Message.patient_id == patient_id)
    if visit_id is not None:
        stmt = stmt.where(Message.visit_id == visit_id)
    if before_id is not None:
        anchor = select(Message.created_at, Message.id).where(Message.id == before_id).subquery()
        stmt = stmt.where(tuple_(Message.created_at, Message.id) < tuple_(anchor.c.created_at, anchor.c.id))
    return list(session.scalars(stmt.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)))


def page_for_patient(
    session: Session, patient_id: str, *, cursor: str | None, limit: int, visit_id: str | None = None
) -> paging.Page[Message]:
    """A page of a patient's messages (optionally of one visit), newest first."""
    stmt = select(Message).where(Message.patient_id == patient_id)
    if visit_id is not None:
        stmt = stmt.where(Message.visit_id == visit_id)
    return paging.keyset(session, stmt, [Message.created_at, Message.id], cursor=cursor, limit=limit, descending=True)


def events_without_message(session: Session, provider: str, provider_message_id: str) -> list[MessageEvent]:
    """Status events that arrived before their message had its provider id recorded, oldest first."""
    stmt = (
        select(MessageEvent)
        .where(
            MessageEvent.provider == provider,
            MessageEvent.provider_message_id == provider_message_id,
            MessageEvent.message_id.is_(None),
        )
        .order_by(MessageEvent.id)
    )
    return list(session.scalars(stmt))


def inbound_by_provider_id(session: Session, provider: str, provider_message_id: str) -> InboundMessage | None:
    """Return the inbound message a provider knows by this id, or None."""
    stmt = select(InboundMessage).where(
        InboundMessage.provider == provider, InboundMessage.provider_message_id == provider_message_id
    )
    return session.scalars(stmt).first()


def patients_by_phone(session: Session, numbers: Sequence[str]) -> list[Patient]:
    """Patients with any of these phones (national digits), oldest record first (GIN index on phones)."""
    if not numbers:
        return []
    stmt = (
        select(Patient)
        .where(or_(*(Patient.phones.contains([{"number": number}]) for number in numbers)))
        .order_by(Patient.created_at, Patient.id)
    )
    return list(session.scalars(stmt))


def latest_recipient(session: Session, to_phone: str, patient_ids: Sequence[str]) -> str | None:
    """Among these patients, the one the latest message to this phone (E.164) was for, or None."""
    if not patient_ids:
        return None
    stmt = (
        select(Message.patient_id)
        .where(Message.to_phone == to_phone, Message.patient_id.in_(list(patient_ids)))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def next_visit(session: Session, patient_id: str, today: date) -> Visit | None:
    """The patient's nearest scheduled (not cancelled, not done) visit from `today` on, or None."""
    stmt = (
        select(Visit)
        .where(Visit.patient_id == patient_id, Visit.status == "scheduled", Visit.visit_date >= today)
        .order_by(Visit.start_at, Visit.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


@dataclass(frozen=True)
class ReminderCandidate:
    """A live visit of the reminder's day, with what the choice needs of it and of its patient."""

    visit_id: str
    patient_id: str
    start_at: datetime
    street: str | None
    number: str | None
    car_id: str | None
    confirmation_status: str
    reminded: bool
    patient_name: str
    phones: list[dict]
    preferred_channel: str | None
    opted_out: bool


def reminder_candidates(session: Session, day: date) -> list[ReminderCandidate]:
    """Visits on `day` still scheduled and still listed by the latest export, whether reminded already (a
    `reminder:<visit id>` message) or not; in start order (storage.messages.reminders decides who gets one)."""
    reminded = exists().where(Message.dedupe_key == func.concat("reminder:", Visit.id))
    rows: list[Row] = list(
        session.execute(
            select(
                Visit.id, Visit.patient_id, Visit.start_at, Visit.street, Visit.number, Visit.car_id,
                Visit.confirmation_status, reminded,
                Patient.name, Patient.phones, Patient.preferred_channel, Patient.opted_out_at,
            )
            .join(Patient, Patient.id == Visit.patient_id)
            .where(
                Visit.visit_date == day,
                Visit.status == "scheduled",
                Visit.missing_from_latest_export.is_(False),
            )
            .order_by(Visit.start_at, Visit.id)
        )
    )
    return [
        ReminderCandidate(
            visit_id=row[0], patient_id=row[1], start_at=row[2], street=row[3], number=row[4], car_id=row[5],
            confirmation_status=row[6], reminded=bool(row[7]), patient_name=row[8], phones=list(row[9] or []),
            preferred_channel=row[10], opted_out=row[11] is not None,
        )
        for row in rows
    ]


def stale_queued(session: Session, quiet_for: timedelta, limit: int = 1000) -> list[str]:
    """Ids of messages queued with no change for `quiet_for` (their task was lost), oldest first."""
    stmt = (
        select(Message.id)
        .where(and_(Message.status == "queued", Message.updated_at < func.now() - quiet_for))
        .order_by(Message.updated_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def stale_sending(session: Session, quiet_for: timedelta, limit: int = 1000) -> list[str]:
    """Ids of messages left `sending` for `quiet_for` (their worker died mid-send), oldest first."""
    stmt = (
        select(Message.id)
        .where(and_(Message.status == "sending", Message.updated_at < func.now() - quiet_for))
        .order_by(Message.updated_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def page_log(
    session: Session,
    *,
    day: date | None = None,
    statuses: Sequence[str] = (),
    channels: Sequence[str] = (),
    patient_id: str | None = None,
    visit_id: str | None = None,
    cursor: str | None,
    limit: int,
) -> paging.Page[Message]:
    """A page of the message log, newest first: of the visits of `day` (local), of these statuses and channels,
    of one patient or visit, as given."""
    stmt = select(Message)
    if day is not None:
        stmt = stmt.join(Visit, Visit.id == Message.visit_id).where(Visit.visit_date == day)
    if statuses:
        stmt = stmt.where(Message.status.in_(list(statuses)))
    if channels:
        stmt = stmt.where(Message.channel.in_(list(channels)))
    if patient_id is not None:
        stmt = stmt.where(Message.patient_id == patient_id)
    if visit_id is not None:
        stmt = stmt.where(Message.visit_id == visit_id)
    return paging.keyset(session, stmt, [Message.created_at, Message.id], cursor=cursor, limit=limit, descending=True)
