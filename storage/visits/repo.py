"""Visit queries. Never commits. Bulk shapes: one query per batch, plain rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, and_, distinct, func, select, text
from sqlalchemy.orm import Session, aliased

from storage.bulk import any_of
from storage.cars.models import Car
from storage.patients.models import Patient
from storage.visits.models import Visit, VisitSource

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
    """Fresh visit rows (plain rows, no ORM objects) with the patient's name and the car's label; one query."""
    if not visit_ids:
        return []
    stmt = (
        select(
            *_DOCUMENT_COLUMNS,
            Patient.name.label("patient_name"),
            Car.label.label("car_label"),
            Car.base.label("car_base"),
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(Car, Car.id == Visit.car_id)
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


def patient_visit_stats(session: Session, patient_ids: Sequence[str], today: date) -> dict[str, PatientVisitStats]:
    """The summary of each patient's live visits; one query for the whole batch.

    Next (from today) and last (before today) visit day, how many, the distinct car labels,
    confirmation statuses, days and neighbourhoods (sorted), how many are confirmed, and
    whether they fall on two or more distinct days (recurring). Cancelled visits and visits
    a newer export no longer lists do not count. Patients without any visit are left out.
    """
    if not patient_ids:
        return {}
    live = and_(Visit.status != "cancelled", Visit.missing_from_latest_export.is_(False))
    rows = session.execute(
        select(
            Visit.patient_id,
            func.min(Visit.visit_date).filter(live, Visit.visit_date >= today),
            func.max(Visit.visit_date).filter(live, Visit.visit_date < today),
            func.count(Visit.id).filter(live),
            func.array_agg(distinct(Car.label)).filter(live, Car.label.isnot(None)),
            func.array_agg(distinct(Visit.confirmation_status)).filter(live, Visit.confirmation_status.isnot(None)),
            func.array_agg(distinct(Visit.visit_date)).filter(live),
            func.count(Visit.id).filter(live, Visit.confirmation_status == "confirmed"),
            func.count(distinct(Visit.visit_date)).filter(live),
            func.array_agg(distinct(Visit.neighborhood)).filter(live, Visit.neighborhood.isnot(None)),
        )
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(any_of(Visit.patient_id, patient_ids))
        .group_by(Visit.patient_id)
    )
    return {
        pid: PatientVisitStats(
            next_visit=nxt,
            last_visit=last,
            visit_count=n,
            cars=tuple(cars or ()),
            confirmation_statuses=tuple(statuses or ()),
            visit_dates=tuple(days or ()),
            confirmed_visits=confirmed,
            recurring=distinct_days >= 2,
            neighborhoods=tuple(neighborhoods or ()),
        )
        for pid, nxt, last, n, cars, statuses, days, confirmed, distinct_days, neighborhoods in rows
    }


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
    """(visit id, patient id) of visits of the covered units (or cars) and days that the import did not list."""
    if not units and not cars:
        return []
    statement = text(
        """
        SELECT v.id, v.patient_id
        FROM visits AS v
        JOIN unnest(CAST(:keys AS varchar[]), CAST(:days AS date[])) AS scope(key, day)
          ON v.visit_date = scope.day AND (v.unit_code = scope.key OR (v.unit_code IS NULL AND v.car_id = scope.key))
        WHERE NOT v.missing_from_latest_export
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
