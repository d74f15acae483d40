"""Visit queries of the schedule: one visit, its history and attempts, a patient's visits, the locks and overlap checks of the commands. Never commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import Session

from storage.sql import any_of
from storage.cars.models import Car
from storage.patients.models import Patient
from storage.visits.models import ConfirmationAttempt, Visit, VisitSource, VisitStatusChange


def get(session: Session, visit_id: str) -> Visit | None:
    """Return the visit with this id, or None."""
    return session.get(Visit, visit_id)


# ---------------------------------------------------------------- documents


# ---------------------------------------------------------------- schedule commands


def get_for_update(session: Session, visit_id: str) -> Visit | None:
    """Return the visit locked for this transaction (fresh from the database), or None."""
    stmt = select(Visit).where(Visit.id == visit_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


_CAR_LOCK_COLUMNS = (Car.id, Car.label, Car.base, Car.status, Car.daily_capacity, Car.unit_code, Car.unit_name)
_PATIENT_LOCK_COLUMNS = (
    Patient.id, Patient.street, Patient.number, Patient.complement, Patient.neighborhood, Patient.city,
    Patient.state, Patient.zip_code, Patient.address_reference, Patient.health_plan_code, Patient.health_plan_name,
    Patient.health_plan_card_number, Patient.status, Patient.merged_into_id,
)


def lock_cars(session: Session, car_ids: Iterable[str]) -> dict[str, Row]:
    """Lock the cars' rows (in id order, so two bookings never deadlock) and return id -> plain row.

    `FOR NO KEY UPDATE`: bookings of a car queue behind each other, while an import's
    foreign-key checks on the car (`FOR KEY SHARE`) are not blocked.
    """
    ids = sorted(set(car_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(*_CAR_LOCK_COLUMNS).where(Car.id.in_(ids)).order_by(Car.id).with_for_update(key_share=True)
    )
    return {row.id: row for row in rows}


def lock_patient(session: Session, patient_id: str) -> Row | None:
    """Lock the patient's row for a booking (`FOR NO KEY UPDATE`); its address and health plan, or None."""
    return session.execute(
        select(*_PATIENT_LOCK_COLUMNS).where(Patient.id == patient_id).with_for_update(key_share=True)
    ).first()


def live() -> Any:
    """The clause of a live visit: not cancelled, still listed by its export."""
    return and_(Visit.status != "cancelled", Visit.missing_from_latest_export.is_(False))


@dataclass(frozen=True)
class OtherVisit:
    """A visit that stands in the way of a booking: its id, slot and car label."""

    id: str
    start_at: datetime
    end_at: datetime
    car_label: str | None


def overlapping(
    session: Session, *, start: datetime, end: datetime, car_id: str | None = None, patient_id: str | None = None,
    exclude_id: str | None = None,
) -> OtherVisit | None:
    """The earliest live visit of the car (or of the patient) whose [start, end) overlaps [start, end), or None.

    Live = not cancelled and still listed by its export; adjacent slots (one ends when
    the other starts) do not overlap.
    """
    stmt = (
        select(Visit.id, Visit.start_at, Visit.end_at, Car.label)
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(live(), Visit.start_at < end, Visit.end_at > start)
        .order_by(Visit.start_at, Visit.id)
        .limit(1)
    )
    if car_id is not None:
        stmt = stmt.where(Visit.car_id == car_id)
    if patient_id is not None:
        stmt = stmt.where(Visit.patient_id == patient_id)
    if exclude_id is not None:
        stmt = stmt.where(Visit.id != exclude_id)
    row = session.execute(stmt).first()
    return OtherVisit(*row) if row else None


def live_count_on_day(session: Session, car_id: str, day: date) -> int:
    """How many live visits the car has on a local day."""
    return session.execute(
        select(func.count(Visit.id)).where(Visit.car_id == car_id, Visit.visit_date == day, live())
    ).scalar_one()


def history(session: Session, visit_id: str) -> list[VisitStatusChange]:
    """The visit's history rows, oldest first."""
    return list(session.scalars(
        select(VisitStatusChange).where(VisitStatusChange.visit_id == visit_id)
        .order_by(VisitStatusChange.at, VisitStatusChange.id)
    ))


def attempts_by_visit(session: Session, visit_ids: Sequence[str]) -> dict[str, list[ConfirmationAttempt]]:
    """Visit id -> its confirmation attempts, oldest first; one query."""
    ids = list(set(visit_ids))
    if not ids:
        return {}
    result: dict[str, list[ConfirmationAttempt]] = defaultdict(list)
    rows = session.scalars(
        select(ConfirmationAttempt).where(any_of(ConfirmationAttempt.visit_id, ids))
        .order_by(ConfirmationAttempt.at, ConfirmationAttempt.id)
    )
    for attempt in rows:
        result[attempt.visit_id].append(attempt)
    return result


def source_ids(session: Session, visit_ids: Sequence[str]) -> dict[str, list[str]]:
    """Visit id -> the export ids (`Id do agendamento`) of its active source rows, in file order; one query."""
    ids = list(set(visit_ids))
    if not ids:
        return {}
    result: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(VisitSource.visit_id, VisitSource.source_id)
        .where(any_of(VisitSource.visit_id, ids), VisitSource.active.is_(True))
        .order_by(VisitSource.visit_id, VisitSource.row_number, VisitSource.source_id)
    )
    for visit_id, source_id in rows:
        result[visit_id].append(source_id)
    return result


@dataclass(frozen=True)
class PatientVisitRow:
    """One visit of a patient's history (profile), with its car label."""

    id: str
    start_at: datetime
    end_at: datetime
    visit_date: date
    status: str
    car_id: str | None
    car_label: str | None
    confirmation_status: str
    confirmation_channel: str | None
    confirmed_at: datetime | None
    exam_codes: list[str]
    missing_from_latest_export: bool


def patient_visits(session: Session, patient_id: str) -> list[PatientVisitRow]:
    """Every visit of a patient, newest first, with its car label; one query."""
    rows = session.execute(
        select(
            Visit.id, Visit.start_at, Visit.end_at, Visit.visit_date, Visit.status, Visit.car_id, Car.label,
            Visit.confirmation_status, Visit.confirmation_channel, Visit.confirmed_at, Visit.exam_codes,
            Visit.missing_from_latest_export,
        )
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(Visit.patient_id == patient_id)
        .order_by(Visit.start_at.desc(), Visit.id)
    )
    return [PatientVisitRow(*row) for row in rows]


@dataclass(frozen=True)
class VisitDetail:
    """A visit with its patient, car, history, confirmation attempts and export ids (the API's read model)."""

    visit: Visit
    patient: Patient
    car: Car | None
    history: list[VisitStatusChange]
    attempts: list[ConfirmationAttempt]
    source_ids: list[str]


def detail(session: Session, visit_id: str) -> VisitDetail | None:
    """Load a visit's read model (a few small queries), or None."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None
    patient = session.get(Patient, visit.patient_id)
    assert patient is not None
    car = session.get(Car, visit.car_id) if visit.car_id else None
    return VisitDetail(
        visit=visit,
        patient=patient,
        car=car,
        history=history(session, visit.id),
        attempts=attempts_by_visit(session, [visit.id]).get(visit.id, []),
        source_ids=source_ids(session, [visit.id]).get(visit.id, []),
    )


def patient_attempts(session: Session, patient_id: str) -> dict[str, list[ConfirmationAttempt]]:
    """Visit id -> the patient's confirmation attempts of that visit, oldest first; one query."""
    result: dict[str, list[ConfirmationAttempt]] = defaultdict(list)
    rows = session.scalars(
        select(ConfirmationAttempt).where(ConfirmationAttempt.patient_id == patient_id)
        .order_by(ConfirmationAttempt.at, ConfirmationAttempt.id)
    )
    for attempt in rows:
        result[attempt.visit_id].append(attempt)
    return result
