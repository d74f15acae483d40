"""What the search documents of visits and patients are built from (indexing reads only these).

Fresh visit rows with what they denormalise, each patient's live visits and their summary,
key-ordered ids for backfills. Never commits; one query per batch, plain rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import distinct, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from storage.sql import any_of, records, rows
from storage.cars.models import Car
from storage.messages import models as message_models
from storage.patients.models import Patient
from storage.visits import repo
from storage.visits.models import ConfirmationAttempt, Visit, VisitSource


def count(session: Session) -> int:
    """Return how many visits are stored."""
    return session.execute(select(func.count(Visit.id))).scalar_one()


def ids_after(session: Session, after_id: str | None, limit: int) -> list[str]:
    """Return up to `limit` visit ids in key order after `after_id` (for key-ordered backfills)."""
    stmt = select(Visit.id).order_by(Visit.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(Visit.id > after_id)
    return list(session.scalars(stmt))


_DOCUMENT_COLUMNS = [column for column in Visit.__table__.c if column.name not in ("group_key", "address_text")] + [
    Visit.__table__.c.address_text
]


def document_rows(session: Session, visit_ids: Sequence[str]) -> list[NamedTuple]:
    """Fresh visit rows (named tuples, no ORM objects) with what their documents denormalise; one query.

    The patient's name, the car's label and base, the export ids of the active source
    rows (file order), and the confirmation attempts: how many, and the latest one's
    time, channel and outcome; the channels of its attempts and of the messages that
    reached the provider (how the patient was contacted about this visit).
    """
    if not visit_ids:
        return []
    sources = (
        select(func.array_agg(aggregate_order_by(VisitSource.source_id, VisitSource.row_number, VisitSource.source_id)))
        .where(VisitSource.visit_id == Visit.id, VisitSource.active.is_(True))
        .scalar_subquery()
    )
    attempts = (
        select(func.count(ConfirmationAttempt.id)).where(ConfirmationAttempt.visit_id == Visit.id).scalar_subquery()
    )
    attempt_channels = (
        select(func.array_agg(distinct(ConfirmationAttempt.channel)))
        .where(ConfirmationAttempt.visit_id == Visit.id)
        .scalar_subquery()
    )
    Message = message_models.Message
    message_channels = (
        select(func.array_agg(distinct(Message.channel)))
        .where(Message.visit_id == Visit.id, Message.status.in_(message_models.REACHED_PROVIDER))
        .scalar_subquery()
    )
    last = (
        select(ConfirmationAttempt.at, ConfirmationAttempt.channel, ConfirmationAttempt.outcome)
        .where(ConfirmationAttempt.visit_id == Visit.id)
        .order_by(ConfirmationAttempt.at.desc(), ConfirmationAttempt.id.desc())
        .limit(1)
        .lateral("last_attempt")
    )
    stmt = (
        select(
            *_DOCUMENT_COLUMNS,
            Patient.name.label("patient_name"),
            Car.label.label("car_label"),
            Car.base.label("car_base"),
            Car.unit_code.label("car_unit_code"),
            Car.unit_name.label("car_unit_name"),
            sources.label("source_ids"),
            attempts.label("confirmation_attempts"),
            last.c.at.label("last_attempt_at"),
            last.c.channel.label("last_attempt_channel"),
            last.c.outcome.label("last_attempt_outcome"),
            attempt_channels.label("attempt_channels"),
            message_channels.label("message_channels"),
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(Car, Car.id == Visit.car_id)
        .outerjoin(last, true())
        .where(any_of(Visit.id, visit_ids))
    )
    return records(session, stmt)


@dataclass(frozen=True)
class PatientVisitStats:
    """What a patient's search document says about their live visits."""

    next_visit: date | None
    last_visit: date | None
    visit_count: int
    cars: tuple[str, ...] = ()
    confirmation_statuses: tuple[str, ...] = ()
    visit_dates: tuple[date, ...] = ()
    confirmed_visits: int = 0
    recurring: bool = False
    neighborhoods: tuple[str, ...] = ()
    # The patient's confirmation attempts (every visit, cancelled ones included): the record of how they answer.
    confirmation_attempts: int = 0
    confirmed_attempts: int = 0
    confirmation_channels: tuple[str, ...] = ()
    # Each live visit (start order): the patient search's visit filters must hold on one visit.
    live_visits: tuple["LiveVisit", ...] = ()


class LiveVisit(NamedTuple):
    """One live visit as the patient document nests it: day, statuses, car (with its own unit) and unit.

    A named tuple rather than a frozen dataclass: a rebuild makes millions of them, and a frozen
    dataclass sets each field through `object.__setattr__`.
    """

    id: str
    visit_date: date
    status: str
    confirmation_status: str | None
    car_id: str | None
    car_label: str | None
    car_base: str | None
    car_unit_code: str | None
    car_unit_name: str | None
    unit_code: str | None
    unit_name: str | None
    # Not nested in the document: the patient's `neighborhoods` summary is made from it.
    neighborhood: str | None = None


def live_visits(session: Session, patient_ids: Sequence[str]) -> dict[str, list[LiveVisit]]:
    """Patient id -> their live visits (not cancelled, still listed by the export) in start order; one query."""
    if not patient_ids:
        return {}
    found = rows(
        session,
        select(
            Visit.patient_id, Visit.id, Visit.visit_date, Visit.status, Visit.confirmation_status, Visit.car_id,
            Car.label, Car.base, Car.unit_code, Car.unit_name, Visit.unit_code, Visit.unit_name, Visit.neighborhood,
        )
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(any_of(Visit.patient_id, list(patient_ids)), repo.live())
        .order_by(Visit.patient_id, Visit.start_at, Visit.id)
    )
    result: dict[str, list[LiveVisit]] = defaultdict(list)
    for patient_id, *fields in found:
        result[patient_id].append(LiveVisit(*fields))
    return result


def patient_ids_with_visits_between(session: Session, first: date, last: date) -> list[str]:
    """Ids of the patients with a visit (any status) on a day from `first` to `last`, inclusive, sorted."""
    stmt = (
        select(distinct(Visit.patient_id))
        .where(Visit.visit_date >= first, Visit.visit_date <= last)
        .order_by(Visit.patient_id)
    )
    return list(session.scalars(stmt))


def patient_visit_stats(session: Session, patient_ids: Sequence[str], today: date) -> dict[str, PatientVisitStats]:
    """The summary of each patient's live visits; two queries for the whole batch.

    Next (from today) and last (before today) visit day, how many, the distinct car labels,
    confirmation statuses, days and neighbourhoods (sorted), how many are confirmed, and
    whether they fall on two or more distinct days (recurring). Cancelled visits and visits
    a newer export no longer lists do not count. Patients with neither a live visit nor a
    confirmation attempt are left out (their document is the one of a patient without visits).
    The summary is made here from the live visits (which the document nests anyway) rather than
    by a grouping query: a third less reading per patient in a rebuild.
    """
    if not patient_ids:
        return {}
    attempts = attempt_stats(session, patient_ids)
    visits = live_visits(session, patient_ids)
    result = {}
    for pid in visits.keys() | attempts.keys():
        live = visits.get(pid, [])
        days = sorted({v.visit_date for v in live})
        tried = attempts.get(pid, AttemptStats())
        result[pid] = PatientVisitStats(
            next_visit=next((day for day in days if day >= today), None),
            last_visit=next((day for day in reversed(days) if day < today), None),
            visit_count=len(live),
            cars=tuple(sorted({v.car_label for v in live if v.car_label is not None})),
            confirmation_statuses=tuple(sorted({v.confirmation_status for v in live if v.confirmation_status is not None})),
            visit_dates=tuple(days),
            confirmed_visits=sum(1 for v in live if v.confirmation_status == "confirmed"),
            recurring=len(days) >= 2,
            neighborhoods=tuple(sorted({v.neighborhood for v in live if v.neighborhood is not None})),
            confirmation_attempts=tried.attempts,
            confirmed_attempts=tried.confirmed,
            confirmation_channels=tried.channels,
            live_visits=tuple(live),
        )
    return result


@dataclass(frozen=True)
class AttemptStats:
    """A patient's confirmation record: attempts, confirmed ones, channels that ever confirmed."""

    attempts: int = 0
    confirmed: int = 0
    channels: tuple[str, ...] = ()


def attempt_stats(session: Session, patient_ids: Sequence[str]) -> dict[str, AttemptStats]:
    """Patient id -> their confirmation attempts summary (patients without attempts left out); one query."""
    if not patient_ids:
        return {}
    confirmed = ConfirmationAttempt.outcome == "confirmed"
    rows = session.execute(
        select(
            ConfirmationAttempt.patient_id,
            func.count(ConfirmationAttempt.id),
            func.count(ConfirmationAttempt.id).filter(confirmed),
            func.array_agg(distinct(ConfirmationAttempt.channel)).filter(confirmed),
        )
        .where(any_of(ConfirmationAttempt.patient_id, patient_ids))
        .group_by(ConfirmationAttempt.patient_id)
    )
    return {pid: AttemptStats(n, ok, tuple(sorted(channels or ()))) for pid, n, ok, channels in rows}
