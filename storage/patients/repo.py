"""Patient queries. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.sql import any_of, records
from storage.patients.models import Patient
from storage.visits.models import Visit


def get(session: Session, patient_id: str) -> Patient | None:
    """Return the patient with this id, or None."""
    return session.get(Patient, patient_id)


def get_for_update(session: Session, patient_id: str) -> Patient | None:
    """Return the patient locked for this transaction, or None."""
    return session.scalars(select(Patient).where(Patient.id == patient_id).with_for_update()).first()


def get_many(session: Session, patient_ids: Sequence[str]) -> list[Patient]:
    """Return the patients among these ids that exist (fresh from the database)."""
    if not patient_ids:
        return []
    stmt = select(Patient).where(Patient.id.in_(list(patient_ids))).execution_options(populate_existing=True)
    return list(session.scalars(stmt))


def document_rows(session: Session, patient_ids: Sequence[str]) -> list[NamedTuple]:
    """Fresh patient rows (named tuples of every column, no ORM objects) among these ids; one query.

    A merged-away patient has no search document: it is left out, so the drain deletes its document.
    """
    if not patient_ids:
        return []
    table = Patient.__table__
    return records(session, select(table).where(any_of(table.c.id, patient_ids), table.c.status != "merged"))


def find_by_cpf(session: Session, cpf: str) -> Patient | None:
    """Return the patient with this CPF (11 digits), or None."""
    return session.scalars(select(Patient).where(Patient.cpf == cpf)).first()


def has_merged_records(session: Session, patient_id: str) -> bool:
    """True when some record was merged into this patient (and not unmerged since)."""
    stmt = select(Patient.id).where(Patient.merged_into_id == patient_id, Patient.status == "merged").limit(1)
    return session.execute(stmt).first() is not None


def count(session: Session) -> int:
    """Return how many patients are stored and searchable (merged-away records are redirects, not patients)."""
    return session.execute(select(func.count(Patient.id)).where(Patient.status != "merged")).scalar_one()


def ids_after(session: Session, after_id: str | None, limit: int) -> list[str]:
    """Return up to `limit` patient ids in key order after `after_id` (for key-ordered backfills)."""
    stmt = select(Patient.id).order_by(Patient.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(Patient.id > after_id)
    return list(session.scalars(stmt))


def has_visits(session: Session, patient_id: str) -> bool:
    """Tell whether any visit belongs to this patient."""
    return session.scalar(select(select(Visit.id).where(Visit.patient_id == patient_id).exists())) or False


def phones_by_id(session: Session, patient_ids: Sequence[str]) -> dict[str, list[dict]]:
    """Patient id -> their phones `[{number, kind}]` (the registry's order) for these ids; one query."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    rows = session.execute(select(Patient.id, Patient.phones).where(any_of(Patient.id, ids)))
    return {patient_id: list(phones or []) for patient_id, phones in rows}
