"""Bulk job queries. Never commits. Items are read and written as plain rows (a job may have 50,000)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from storage.sql import any_of
from storage.clock import LOCAL_TZ
from storage.cars.models import Car
from storage.jobs.models import BulkJob, BulkJobItem
from storage.patients.models import Patient
from storage.visits.models import Visit


def get(session: Session, job_id: str) -> BulkJob | None:
    """Return the job with this id, or None."""
    return session.get(BulkJob, job_id)


def get_for_update(session: Session, job_id: str) -> BulkJob | None:
    """Return the job locked for this transaction (fresh from the database), or None."""
    stmt = select(BulkJob).where(BulkJob.id == job_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def result_data(session: Session, job_id: str) -> bytes | None:
    """Return an export's file bytes (the deferred column), or None."""
    return session.scalar(select(BulkJob.result_data).where(BulkJob.id == job_id))


@dataclass(frozen=True)
class PendingItem:
    """An item still to process."""

    position: int
    item_id: str
    item_kind: str
    patient_id: str | None


def pending_items(session: Session, job_id: str, limit: int) -> list[PendingItem]:
    """The next `limit` items without a result, in position order (the partial index serves it)."""
    rows = session.execute(
        select(BulkJobItem.position, BulkJobItem.item_id, BulkJobItem.item_kind, BulkJobItem.patient_id)
        .where(BulkJobItem.job_id == job_id, BulkJobItem.outcome.is_(None))
        .order_by(BulkJobItem.position)
        .limit(limit)
    )
    return [PendingItem(*row) for row in rows]


def write_results(session: Session, job_id: str, results: Sequence[dict[str, Any]]) -> None:
    """Store item results ({position, outcome, code, message, details}); one executemany. Only pending items
    change, so a result is never overwritten."""
    if not results:
        return
    table = BulkJobItem.__table__
    statement = (
        update(table)
        .where(table.c.job_id == job_id, table.c.position == bindparam("b_position"), table.c.outcome.is_(None))
        .values(
            outcome=bindparam("b_outcome"), code=bindparam("b_code"), message=bindparam("b_message"),
            details=bindparam("b_details", type_=table.c.details.type), processed_at=func.now(),
        )
    )
    session.connection().execute(statement, [{f"b_{k}": v for k, v in r.items()} for r in results])


def items(
    session: Session, job_id: str, outcome: str | None = None, after: int | None = None, limit: int = 100
) -> list[BulkJobItem]:
    """A page of a job's items in position order, optionally of one outcome (`pending` = no result yet)."""
    stmt = select(BulkJobItem).where(BulkJobItem.job_id == job_id).order_by(BulkJobItem.position).limit(limit)
    if outcome == "pending":
        stmt = stmt.where(BulkJobItem.outcome.is_(None))
    elif outcome is not None:
        stmt = stmt.where(BulkJobItem.outcome == outcome)
    if after is not None:
        stmt = stmt.where(BulkJobItem.position > after)
    return list(session.scalars(stmt))


def ok_item_ids(session: Session, job_id: str, after: int | None, limit: int) -> list[tuple[int, str]]:
    """(position, item id) of the items that succeeded, in position order, after `after`."""
    stmt = (
        select(BulkJobItem.position, BulkJobItem.item_id)
        .where(BulkJobItem.job_id == job_id, BulkJobItem.outcome == "ok")
        .order_by(BulkJobItem.position)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(BulkJobItem.position > after)
    return [tuple(row) for row in session.execute(stmt)]


def visit_patients(session: Session, visit_ids: Iterable[str]) -> dict[str, str]:
    """Map existing visit ids to their patient ids (unknown ids left out); one query."""
    ids = list(set(visit_ids))
    if not ids:
        return {}
    return dict(session.execute(select(Visit.id, Visit.patient_id).where(any_of(Visit.id, ids))).all())


def search_visits(
    session: Session,
    patient_ids: Sequence[str],
    *,
    visit_from: date,
    visit_to: date | None,
    car_ids: Sequence[str] = (),
    units: Sequence[str] = (),
    confirmation_statuses: Sequence[str] = (),
    limit: int,
) -> list[tuple[str, str, datetime]]:
    """(visit id, patient id, start) of these patients' live visits (not cancelled, still listed by the latest
    export) from `visit_from` to `visit_to`, of the given cars (ids), unit codes and confirmation statuses
    when given; ordered by start, at most `limit`."""
    if not patient_ids:
        return []
    stmt = (
        select(Visit.id, Visit.patient_id, Visit.start_at)
        .where(
            any_of(Visit.patient_id, patient_ids),
            Visit.status != "cancelled",
            Visit.missing_from_latest_export.is_(False),
            Visit.visit_date >= visit_from,
        )
        .order_by(Visit.start_at, Visit.id)
        .limit(limit)
    )
    if visit_to is not None:
        stmt = stmt.where(Visit.visit_date <= visit_to)
    if car_ids:
        stmt = stmt.where(any_of(Visit.car_id, list(car_ids)))
    if units:
        stmt = stmt.where(any_of(Visit.unit_code, list(units)))
    if confirmation_statuses:
        stmt = stmt.where(any_of(Visit.confirmation_status, confirmation_statuses))
    return [tuple(row) for row in session.execute(stmt)]


def visit_export_rows(session: Session, visit_ids: Sequence[str]) -> dict[str, Row]:
    """Visit id -> the row an export writes (visit, car label, patient name, CPF, phones); one query."""
    if not visit_ids:
        return {}
    rows = session.execute(
        select(
            Visit.id, Visit.start_at, Visit.end_at, Visit.visit_date, Visit.status, Visit.confirmation_status,
            Visit.confirmation_channel, Visit.exam_codes, Visit.exam_names, Visit.street, Visit.number,
            Visit.complement, Visit.neighborhood, Visit.city, Visit.state, Visit.zip_code, Visit.address_text,
            Visit.notes, Visit.payers, Car.label.label("car_label"), Car.base.label("car_base"),
            Patient.id.label("patient_id"), Patient.name.label("patient_name"), Patient.cpf, Patient.phones,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(Car, Car.id == Visit.car_id)
        .where(any_of(Visit.id, list(visit_ids)))
    )
    return {row.id: row for row in rows}


def patient_export_rows(session: Session, patient_ids: Sequence[str]) -> dict[str, Row]:
    """Patient id -> the registry columns an export writes; one query."""
    if not patient_ids:
        return {}
    rows = session.execute(select(Patient.__table__).where(any_of(Patient.id, list(patient_ids))))
    return {row.id: row for row in rows}


def next_visits(session: Session, patient_ids: Sequence[str], today: date) -> dict[str, date]:
    """Patient id -> the day of their next live visit from `today`; one query."""
    if not patient_ids:
        return {}
    rows = session.execute(
        select(Visit.patient_id, func.min(Visit.visit_date))
        .where(
            any_of(Visit.patient_id, list(patient_ids)), Visit.visit_date >= today, Visit.status != "cancelled",
            Visit.missing_from_latest_export.is_(False),
        )
        .group_by(Visit.patient_id)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class TargetRow:
    """One target of a job, for people to read: the patient, and the visit (start, car) for visit actions."""

    patient_id: str | None
    patient_name: str | None
    visit_id: str | None
    start: datetime | None
    car_id: str | None
    car_label: str | None
    car_base: str | None


def visit_targets(session: Session, visit_ids: Sequence[str]) -> list[TargetRow]:
    """The visits (in the order given, unknown ids left out) with their patient's name, start and car."""
    if not visit_ids:
        return []
    found = {
        row.id: row
        for row in session.execute(
            select(Visit.id, Visit.start_at, Visit.patient_id, Patient.name, Car.id.label("car_id"), Car.label, Car.base)
            .join(Patient, Patient.id == Visit.patient_id)
            .outerjoin(Car, Car.id == Visit.car_id)
            .where(any_of(Visit.id, list(visit_ids)))
        )
    }
    return [
        TargetRow(r.patient_id, r.name, r.id, r.start_at.astimezone(LOCAL_TZ), r.car_id, r.label, r.base)
        for r in (found[v] for v in visit_ids if v in found)
    ]


def patient_targets(session: Session, patient_ids: Sequence[str]) -> list[TargetRow]:
    """The patients (in the order given, unknown ids left out) with their names."""
    if not patient_ids:
        return []
    names = dict(session.execute(select(Patient.id, Patient.name).where(any_of(Patient.id, list(patient_ids)))).all())
    return [TargetRow(p, names[p], None, None, None, None, None) for p in patient_ids if p in names]
