"""The visit rows a spreadsheet import reads: its source rows, the visits they make, what a file no longer lists.

Only the import reads these (`storage.imports.applying`). Never commits; one query per batch, plain rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from storage.sql import any_of
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


def listed_by_import(session: Session, import_id: str) -> int:
    """How many distinct visits an import's file listed."""
    return session.execute(
        select(func.count(func.distinct(VisitSource.visit_id))).where(VisitSource.last_import_id == import_id)
    ).scalar_one()


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
