"""Visit queries. Never commits. Bulk shapes: one query per batch, plain rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, distinct, func, select, text, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, aliased

from storage.bulk import any_of
from storage.cars.models import Car
from storage.messages import models as message_models
from storage.patients.models import Patient
from storage.visits.models import ConfirmationAttempt, Visit, VisitSource, VisitStatusChange

# The visit columns an import compares and writes (everything but ids, versions and clocks).
CONTENT_COLUMNS = (
    "patient_id", "car_id", "start_at", "end_at", "visit_date", "status", "booking_status",
    "confirmation_status", "confirmation_channel", "confirmed_at", "exam_codes", "exam_names", "total_exams",
    "payers", "physician", "booking_channel", "booked_at", "notes", "street", "number", "complement",
    "neighborhood", "city", "state", "zip_code", "address_reference", "address_text", "unit_code", "unit_name",
    "group_key", "missing_from_latest_export",
)
_VISIT_COLUMNS = [Visit.__table__.c[name] for name in ("id", "row_version", "import_id", *CONTENT_COLUMNS)]


def get(session: Session, visit_id: str) -> Visit | None:
    """Return the visit with this id, or None."""
    return session.get(Visit, visit_id)


def patient_has_visits(session: Session, patient_id: str) -> bool:
    """Tell whether any visit belongs to this patient."""
    return session.scalar(select(select(Visit.id).where(Visit.patient_id == patient_id).exists())) or False


def count(session: Session) -> int:
    """Return how many visits are stored."""
    return session.execute(select(func.count(Visit.id))).scalar_one()


def ids_after(session: Session, after_id: str | None, limit: int) -> list[str]:
    """Return up to `limit` visit ids in key order after `after_id` (for key-ordered backfills)."""
    stmt = select(Visit.id).order_by(Visit.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(Visit.id > after_id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class KnownSource:
    """Where a known source appointment sits: its visit and the import and row that last listed it."""

    visit_id: str
    last_import_id: str | None
    row_number: int


def sources_by_id(session: Session, source_ids: Iterable[str]) -> dict[str, KnownSource]:
    """Map known source appointment ids to their visit and last listing (unknown ids left out); one query."""
    ids = list(set(source_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(VisitSource.source_id, VisitSource.visit_id, VisitSource.last_import_id, VisitSource.row_number)
        .where(any_of(VisitSource.source_id, ids))
    )
    return {sid: KnownSource(visit_id, last, number) for sid, visit_id, last, number in rows}


def visit_ids_by_group_key(session: Session, group_keys: Iterable[str]) -> dict[str, str]:
    """Map split-visit group keys to the oldest visit carrying each; one query."""
    keys = list(set(group_keys))
    if not keys:
        return {}
    rows = session.execute(
        select(Visit.group_key, Visit.id)
        .where(any_of(Visit.group_key, keys))
        .order_by(Visit.group_key, Visit.created_at, Visit.id)
    )
    result: dict[str, str] = {}
    for key, visit_id in rows:
        result.setdefault(key, visit_id)
    return result


def content_rows(session: Session, visit_ids: Iterable[str]) -> dict[str, dict]:
    """Return id -> {id, row_version, import_id, content columns…} for existing visits; one query."""
    ids = list(set(visit_ids))
    if not ids:
        return {}
    rows = session.execute(select(*_VISIT_COLUMNS).where(any_of(Visit.id, ids)))
    return {row.id: row._asdict() for row in rows}


@dataclass(frozen=True)
class SourceData:
    """An active source row of a visit: what it contributes, in file order."""

    visit_id: str
    source_id: str
    row_number: int
    data: dict


def active_sources(session: Session, visit_ids: Iterable[str]) -> dict[str, list[SourceData]]:
    """Return visit id -> its active sources ordered by (row number, source id); one query."""
    ids = list(set(visit_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(VisitSource.visit_id, VisitSource.source_id, VisitSource.row_number, VisitSource.data)
        .where(any_of(VisitSource.visit_id, ids), VisitSource.active.is_(True))
        .order_by(VisitSource.visit_id, VisitSource.row_number, VisitSource.source_id)
    )
    result: dict[str, list[SourceData]] = defaultdict(list)
    for visit_id, source_id, row_number, data in rows:
        result[visit_id].append(SourceData(visit_id, source_id, row_number, data))
    return result


def latest_start_by_patient(session: Session, patient_ids: Iterable[str]) -> dict[str, datetime]:
    """Return patient id -> start of their latest visit (the freshest data the registry has seen); one query."""
    ids = list(set(patient_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Visit.patient_id, func.max(Visit.start_at)).where(any_of(Visit.patient_id, ids)).group_by(Visit.patient_id)
    )
    return {key: value for key, value in rows}


_DOUBLE_BOOKINGS = text(
    """
    WITH listed AS MATERIALIZED (
        SELECT visit_id, min(row_number) AS row FROM visit_sources WHERE last_import_id = :import_id GROUP BY visit_id
    )
    SELECT l.row, min(ol.row)
    FROM listed AS l
    JOIN visits AS v ON v.id = l.visit_id
    JOIN visits AS o
      ON o.patient_id = v.patient_id AND o.id <> v.id AND o.car_id <> v.car_id
     AND o.start_at < v.end_at AND v.start_at < o.end_at
     AND o.status <> 'cancelled' AND NOT o.missing_from_latest_export
    LEFT JOIN listed AS ol ON ol.visit_id = o.id
    WHERE v.status <> 'cancelled' AND NOT v.missing_from_latest_export AND (ol.row IS NULL OR ol.row < l.row)
    GROUP BY l.row
    ORDER BY l.row
    """
)


def double_bookings_in_import(session: Session, import_id: str) -> list[tuple[int, int | None]]:
    """Patients booked in two cars at overlapping times, among the visits an import listed.

    Returns (row to report, row of the other visit in this file or None), one per visit
    reported: a pair inside the file is reported once, on its later row.
    """
    return [tuple(row) for row in session.execute(_DOUBLE_BOOKINGS, {"import_id": import_id})]


def patient_overlaps(session: Session, visit_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs (visit, other visit) where the same patient is booked in another car at an overlapping time."""
    if not visit_ids:
        return []
    other = aliased(Visit)
    rows = session.execute(
        select(Visit.id, other.id)
        .join(
            other,
            and_(
                other.patient_id == Visit.patient_id,
                other.id != Visit.id,
                other.car_id != Visit.car_id,
                other.start_at < Visit.end_at,
                Visit.start_at < other.end_at,
                other.status != "cancelled",
                other.missing_from_latest_export.is_(False),
            ),
        )
        .where(any_of(Visit.id, visit_ids), Visit.status != "cancelled")
        .order_by(Visit.id, other.start_at, other.id)
    )
    return [tuple(row) for row in rows]


def listed_by_import(session: Session, import_id: str) -> int:
    """How many distinct visits an import's file listed."""
    return session.execute(
        select(func.count(func.distinct(VisitSource.visit_id))).where(VisitSource.last_import_id == import_id)
    ).scalar_one()


def row_numbers_in_import(session: Session, import_id: str, visit_ids: Iterable[str]) -> dict[str, int]:
    """Return visit id -> the first row number that listed it in this import (for messages)."""
    ids = list(set(visit_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(VisitSource.visit_id, func.min(VisitSource.row_number))
        .where(any_of(VisitSource.visit_id, ids), VisitSource.last_import_id == import_id)
        .group_by(VisitSource.visit_id)
    )
    return {key: value for key, value in rows}


# ---------------------------------------------------------------- documents


_DOCUMENT_COLUMNS = [column for column in Visit.__table__.c if column.name not in ("group_key", "address_text")] + [
    Visit.__table__.c.address_text
]


def document_rows(session: Session, visit_ids: Sequence[str]) -> list[Row]:
    """Fresh visit rows (plain rows, no ORM objects) with what their documents denormalise; one query.

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
    return list(session.execute(stmt))


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


@dataclass(frozen=True)
class LiveVisit:
    """One live visit as the patient document nests it: day, statuses, car (with its own unit) and unit."""

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
    rows = session.execute(
        select(
            Visit.patient_id, Visit.id, Visit.visit_date, Visit.status, Visit.confirmation_status, Visit.car_id,
            Car.label, Car.base, Car.unit_code, Car.unit_name, Visit.unit_code, Visit.unit_name, Visit.neighborhood,
        )
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(any_of(Visit.patient_id, list(patient_ids)), _live_visits())
        .order_by(Visit.patient_id, Visit.start_at, Visit.id)
    )
    result: dict[str, list[LiveVisit]] = defaultdict(list)
    for patient_id, *fields in rows:
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


def unit_days(session: Session, import_id: str) -> tuple[set[tuple[str, date]], set[tuple[str, date]]]:
    """The (unit, day) and, for visits without a unit, (car, day) pairs an import's file covered."""
    listed = select(VisitSource.visit_id).where(VisitSource.last_import_id == import_id).distinct().subquery()
    rows = session.execute(
        select(Visit.unit_code, Visit.car_id, Visit.visit_date).join(listed, listed.c.visit_id == Visit.id).distinct()
    )
    units: set[tuple[str, date]] = set()
    cars: set[tuple[str, date]] = set()
    for unit_code, car_id, day in rows:
        if unit_code:
            units.add((unit_code, day))
        elif car_id:
            cars.add((car_id, day))
    return units, cars


def not_listed_in_scope(
    session: Session, import_id: str, units: set[tuple[str, date]], cars: set[tuple[str, date]]
) -> list[tuple[str, str]]:
    """(visit id, patient id) of export-made visits of the covered units (or cars) and days the import did not list."""
    if not units and not cars:
        return []
    statement = text(
        """
        SELECT v.id, v.patient_id
        FROM visits AS v
        JOIN unnest(CAST(:keys AS varchar[]), CAST(:days AS date[])) AS scope(key, day)
          ON v.visit_date = scope.day AND (v.unit_code = scope.key OR (v.unit_code IS NULL AND v.car_id = scope.key))
        WHERE NOT v.missing_from_latest_export
          -- A visit made by hand (no source row) is no export's to drop.
          AND EXISTS (SELECT 1 FROM visit_sources AS h WHERE h.visit_id = v.id)
          AND NOT EXISTS (
            SELECT 1 FROM visit_sources AS s WHERE s.visit_id = v.id AND s.last_import_id = :import_id
          )
        ORDER BY v.id
        """
    )
    pairs = sorted(units | cars)
    rows = session.execute(
        statement, {"keys": [key for key, _ in pairs], "days": [day for _, day in pairs], "import_id": import_id}
    )
    return [tuple(row) for row in rows]


def stale_sources(session: Session, import_id: str) -> list[tuple[int, str]]:
    """(source pk, visit id) of active sources whose visit this import listed but which it did not list itself."""
    listed = select(VisitSource.visit_id).where(VisitSource.last_import_id == import_id).distinct().subquery()
    rows = session.execute(
        select(VisitSource.id, VisitSource.visit_id)
        .join(listed, listed.c.visit_id == VisitSource.visit_id)
        .where(VisitSource.active.is_(True), VisitSource.last_import_id.is_distinct_from(import_id))
        .order_by(VisitSource.id)
    )
    return [tuple(row) for row in rows]


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


def _live_visits() -> Any:
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
        .where(_live_visits(), Visit.start_at < end, Visit.end_at > start)
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
        select(func.count(Visit.id)).where(Visit.car_id == car_id, Visit.visit_date == day, _live_visits())
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
