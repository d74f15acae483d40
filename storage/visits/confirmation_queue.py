"""The "a confirmar" work queue: a day's live visits not confirmed yet, with what the caller needs. Never commits.

Read from PostgreSQL, not the index: phones with their kind, every attempt with who made it,
and the latest message's delivery status are all needed at once and must be current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from storage import paging
from storage.cars.models import Car
from storage.messages.models import Message
from storage.patients.models import Patient
from storage.users import repo as user_repo
from storage.visits.models import ConfirmationAttempt, Visit

# Not confirmed yet: the queue's default.
OPEN_STATUSES = ("pending", "declined")


@dataclass(frozen=True)
class LastAttempt:
    at: datetime
    channel: str
    outcome: str
    actor_id: str | None
    actor_name: str | None


@dataclass(frozen=True)
class LastMessage:
    id: str
    template: str
    channel: str
    status: str
    at: datetime


@dataclass(frozen=True)
class QueueItem:
    """One visit to confirm: slot, car, patient contact, confirmation state, attempts, latest message."""

    visit_id: str
    start_at: datetime
    end_at: datetime
    car_id: str | None
    car_label: str | None
    car_base: str | None
    patient_id: str
    patient_name: str
    phones: list[dict[str, Any]]
    preferred_channel: str | None
    preferred_contact_time: str | None
    opted_out: bool
    confirmation_status: str
    attempts: int
    last_attempt: LastAttempt | None
    last_message: LastMessage | None


@dataclass(frozen=True)
class QueuePage:
    total: int
    items: list[QueueItem]
    next_cursor: str | None


def _label():
    return func.coalesce(Car.label, "")


def page(
    session: Session,
    day: date,
    *,
    statuses: Sequence[str] = OPEN_STATUSES,
    unit: str | None = None,
    cursor: str | None,
    limit: int,
) -> QueuePage:
    """The day's live visits (scheduled, still listed by the latest export) of these confirmation statuses
    (default: not confirmed), of one unit code when given, by start then car label."""
    where = [
        Visit.visit_date == day,
        Visit.status == "scheduled",
        Visit.missing_from_latest_export.is_(False),
        Visit.confirmation_status.in_(list(statuses)),
    ]
    if unit is not None:
        where.append(Visit.unit_code == unit)
    total = session.scalar(select(func.count()).select_from(Visit).where(*where)) or 0
    keys = [Visit.start_at, _label(), Visit.id]
    stmt = (
        select(
            Visit.id, Visit.start_at, Visit.end_at, Visit.car_id, Car.label, Car.base, Visit.confirmation_status,
            Patient.id.label("patient_id"), Patient.name, Patient.phones, Patient.preferred_channel,
            Patient.preferred_contact_time, Patient.opted_out_at, *keys,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(*where)
        .order_by(*keys)
        .limit(limit + 1)
    )
    if cursor is not None:
        stmt = stmt.where(tuple_(*keys) > tuple_(*paging.decode(cursor, keys)))
    rows = session.execute(stmt).all()
    page_rows = rows[:limit]
    next_cursor = paging.encode(list(rows[limit - 1][-3:])) if len(rows) > limit else None
    ids = [row.id for row in page_rows]
    attempts = _attempts(session, ids)
    messages = _last_messages(session, ids)
    return QueuePage(
        total=total,
        items=[
            QueueItem(
                visit_id=row.id, start_at=row.start_at, end_at=row.end_at, car_id=row.car_id, car_label=row.label,
                car_base=row.base, patient_id=row.patient_id, patient_name=row.name, phones=list(row.phones or []),
                preferred_channel=row.preferred_channel, preferred_contact_time=row.preferred_contact_time,
                opted_out=row.opted_out_at is not None, confirmation_status=row.confirmation_status,
                attempts=attempts.get(row.id, (0, None))[0], last_attempt=attempts.get(row.id, (0, None))[1],
                last_message=messages.get(row.id),
            )
            for row in page_rows
        ],
        next_cursor=next_cursor,
    )


def _attempts(session: Session, visit_ids: list[str]) -> dict[str, tuple[int, LastAttempt]]:
    """Visit id -> (how many attempts, the latest one with who made it); two queries for the page."""
    if not visit_ids:
        return {}
    counts = dict(session.execute(
        select(ConfirmationAttempt.visit_id, func.count())
        .where(ConfirmationAttempt.visit_id.in_(visit_ids))
        .group_by(ConfirmationAttempt.visit_id)
    ).all())
    latest = session.execute(
        select(ConfirmationAttempt.visit_id, ConfirmationAttempt.at, ConfirmationAttempt.channel,
               ConfirmationAttempt.outcome, ConfirmationAttempt.actor_id)
        .where(ConfirmationAttempt.visit_id.in_(visit_ids))
        .distinct(ConfirmationAttempt.visit_id)
        .order_by(ConfirmationAttempt.visit_id, ConfirmationAttempt.at.desc(), ConfirmationAttempt.id.desc())
    ).all()
    names = user_repo.names(session, (row.actor_id for row in latest))
    return {
        row.visit_id: (counts[row.visit_id],
                       LastAttempt(row.at, row.channel, row.outcome, row.actor_id, names.get(row.actor_id)))
        for row in latest
    }


def _last_messages(session: Session, visit_ids: list[str]) -> dict[str, LastMessage]:
    """Visit id -> its latest message; one query for the page (ix_messages_visit_id)."""
    if not visit_ids:
        return {}
    rows = session.execute(
        select(Message.visit_id, Message.id, Message.template, Message.channel, Message.status, Message.created_at)
        .where(Message.visit_id.in_(visit_ids))
        .distinct(Message.visit_id)
        .order_by(Message.visit_id, Message.created_at.desc(), Message.id.desc())
    ).all()
    return {row.visit_id: LastMessage(row.id, row.template, row.channel, row.status, row.created_at) for row in rows}
