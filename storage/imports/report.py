"""An import's report beyond its counters: what it did to each visit, and its issues in pages.

Writes (`record_visits`, `record_listed`) run inside the import's own batch and finish
transactions, beside the counters they must agree with; everything else reads. Never commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from storage import paging
from storage.cars.models import Car
from storage.imports.parsing.dasaexp import SKIP_MESSAGES
from storage.imports.models import ImportIssue, ImportVisit
from storage.patients.models import Patient
from storage.visits.models import Visit

LEVEL_ORDER = ("error", "warning", "skipped")

_RECORD = text(
    """
    INSERT INTO import_visits (import_id, visit_id, change, visit_date, car_id)
    SELECT CAST(:import_id AS varchar), v.id, CAST(:change AS varchar), v.visit_date, v.car_id
    FROM visits AS v WHERE v.id = ANY(CAST(:ids AS varchar[]))
    ORDER BY v.id
    ON CONFLICT (import_id, visit_id) DO UPDATE SET visit_date = EXCLUDED.visit_date, car_id = EXCLUDED.car_id
    """
)
_RECORD_LISTED = text(
    """
    INSERT INTO import_visits (import_id, visit_id, change, visit_date, car_id)
    SELECT CAST(:import_id AS varchar), v.id, 'unchanged', v.visit_date, v.car_id
    FROM visits AS v
    WHERE v.id IN (SELECT s.visit_id FROM visit_sources AS s WHERE s.last_import_id = :import_id)
    ORDER BY v.id
    ON CONFLICT (import_id, visit_id) DO UPDATE SET visit_date = EXCLUDED.visit_date, car_id = EXCLUDED.car_id
    """
)


def record_visits(session: Session, import_id: str, change: str, visit_ids: Iterable[str]) -> None:
    """Record `change` for these visits of an import (a visit already recorded keeps its change; its day and
    car are refreshed to the visit's current ones)."""
    ids = sorted(set(visit_ids))
    if ids:
        session.execute(_RECORD, {"import_id": import_id, "change": change, "ids": ids})


def record_listed(session: Session, import_id: str) -> None:
    """Record every visit the import's file listed and did not create or change as `unchanged`."""
    session.execute(_RECORD_LISTED, {"import_id": import_id})


# ---------------------------------------------------------------- the report's summaries


def dates(session: Session, import_id: str) -> list[date]:
    """The visit days the import touched (listed, or found missing), in order."""
    stmt = select(ImportVisit.visit_date).where(ImportVisit.import_id == import_id).distinct().order_by(
        ImportVisit.visit_date)
    return list(session.scalars(stmt))


def skipped_by_reason(session: Session, import_id: str) -> list[dict[str, Any]]:
    """`[{code, message, count}]` of the rows skipped as not home visits, most frequent first."""
    count = func.count().label("count")
    rows = session.execute(
        select(ImportIssue.code, count)
        .where(ImportIssue.import_id == import_id, ImportIssue.level == "skipped")
        .group_by(ImportIssue.code)
        .order_by(count.desc(), ImportIssue.code)
    )
    return [{"code": code, "message": SKIP_MESSAGES.get(code, "Linha ignorada."), "count": n} for code, n in rows]


def issue_codes(session: Session, import_id: str) -> list[dict[str, Any]]:
    """`[{code, level, count}]` of the error and warning issues: errors first, then most frequent."""
    count = func.count().label("count")
    rows = session.execute(
        select(ImportIssue.code, ImportIssue.level, count)
        .where(ImportIssue.import_id == import_id, ImportIssue.level.in_(("error", "warning")))
        .group_by(ImportIssue.code, ImportIssue.level)
    )
    items = [{"code": code, "level": level, "count": n} for code, level, n in rows]
    return sorted(items, key=lambda i: (LEVEL_ORDER.index(i["level"]), -i["count"], i["code"]))


def by_car_day(session: Session, import_id: str) -> list[dict[str, Any]]:
    """Per visit day and car: how many visits the import created, updated, left unchanged and found missing."""
    counts = [func.count().filter(ImportVisit.change == change).label(change)
              for change in ("created", "updated", "unchanged", "missing")]
    rows = session.execute(
        select(ImportVisit.visit_date, ImportVisit.car_id, Car.label, Car.base, Car.unit_code, *counts)
        .outerjoin(Car, Car.id == ImportVisit.car_id)
        .where(ImportVisit.import_id == import_id)
        .group_by(ImportVisit.visit_date, ImportVisit.car_id, Car.label, Car.base, Car.unit_code)
        .order_by(ImportVisit.visit_date, Car.label.nulls_last(), Car.base.nulls_first(), ImportVisit.car_id)
    )
    return [
        {"date": day, "car_id": car_id, "label": label, "base": base, "unit": unit,
         "created": created, "updated": updated, "unchanged": unchanged, "missing": missing}
        for day, car_id, label, base, unit, created, updated, unchanged, missing in rows
    ]


# ---------------------------------------------------------------- pages


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def issues_page(
    session: Session, import_id: str, *, level: str | None = None, code: str | None = None, q: str | None = None,
    cursor: str | None, limit: int,
) -> tuple[list[ImportIssue], str | None, int]:
    """A page of an import's issues in row order (filtered by level, code, and `q` on the message or the row
    number), its next cursor, and how many issues match the filters."""
    filters = [ImportIssue.import_id == import_id]
    if level:
        filters.append(ImportIssue.level == level)
    if code:
        filters.append(ImportIssue.code == code)
    if q and q.strip():
        term = q.strip()
        matches = [ImportIssue.message.ilike(f"%{_escape_like(term)}%", escape="\\")]
        if term.isdigit() and len(term) <= 9:
            matches.append(ImportIssue.row == int(term))
        filters.append(or_(*matches))
    total = session.scalar(select(func.count()).select_from(ImportIssue).where(*filters)) or 0
    page = paging.keyset(session, select(ImportIssue).where(*filters), [ImportIssue.row, ImportIssue.id],
                         cursor=cursor, limit=limit)
    return page.items, page.next_cursor, total


def visits_page(
    session: Session, import_id: str, *, change: str | None = None, day: date | None = None,
    car_id: str | None = None, cursor: str | None, limit: int,
) -> paging.Page[dict[str, Any]]:
    """A page of the visits an import created, updated, left unchanged or found missing, by start time.

    `day` and `car_id` filter on the day and car the import left the visit with (as `by_car_day`
    counts them); each item shows the visit as it is now.
    """
    keys = [Visit.start_at, Visit.id]
    stmt = (
        select(ImportVisit.change, Visit.id, Visit.patient_id, Patient.name, Visit.visit_date, Visit.start_at,
               Visit.end_at, Car.id.label("car_id"), Car.label, Car.base)
        .join(Visit, Visit.id == ImportVisit.visit_id)
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(ImportVisit.import_id == import_id)
    )
    if change:
        stmt = stmt.where(ImportVisit.change == change)
    if day:
        stmt = stmt.where(ImportVisit.visit_date == day)
    if car_id:
        stmt = stmt.where(ImportVisit.car_id == car_id)
    if cursor is not None:
        stmt = stmt.where(tuple_(*keys) > tuple_(*paging.decode(cursor, keys)))
    rows = session.execute(stmt.order_by(*keys).limit(limit + 1)).all()
    items = [
        {"visit_id": row.id, "patient_id": row.patient_id, "patient_name": row.name, "date": row.visit_date,
         "start": row.start_at, "end": row.end_at, "change": row.change,
         "car": {"id": row.car_id, "label": row.label, "base": row.base} if row.car_id else None}
        for row in rows[:limit]
    ]
    last = rows[limit - 1] if len(rows) > limit else None
    return paging.Page(items, paging.encode([last.start_at, last.id]) if last else None)
