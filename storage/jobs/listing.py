"""Reading bulk jobs in bulk: the list of jobs, and the preview of a job not created yet. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import paging
from storage.sql import any_of
from storage.cars.models import Car
from storage.clock import local_today
from storage.jobs import repo, service
from storage.jobs.models import BulkJob
from storage.patients.models import Patient
from storage.visits.models import Visit

SAMPLE_SIZE = 5


def page(
    session: Session, *, actor_id: str | None, status: str | None, action: str | None, cursor: str | None, limit: int
) -> paging.Page[BulkJob]:
    """Jobs newest first, optionally of one creator, status and action."""
    stmt = select(BulkJob)
    if actor_id is not None:
        stmt = stmt.where(BulkJob.actor_id == actor_id)
    if status is not None:
        stmt = stmt.where(BulkJob.status == status)
    if action is not None:
        stmt = stmt.where(BulkJob.action == action)
    return paging.keyset(session, stmt, [BulkJob.created_at, BulkJob.id], cursor=cursor, limit=limit, descending=True)


@dataclass(frozen=True)
class Preview:
    """What a job would touch if created now: patients, visits, whether it passes the cap, the first targets."""

    target: str
    item_kind: str
    patients: int
    visits: int
    too_many: bool
    sample: list[repo.TargetRow]


def preview(
    session: Session,
    action: str,
    params: dict[str, Any] | None,
    *,
    visit_ids: Sequence[str] | None = None,
    search: dict[str, Any] | None = None,
    patient_ids: Sequence[str] | None = None,
    matched_patient_ids: Sequence[str] | None = None,
) -> Preview:
    """Resolve a job's targets as the worker would (service.store_targets' own rule), without storing anything.

    The same checks as creating (service.validate), except that `params` may be empty. For a
    search, `matched_patient_ids` are the patients the index matched for
    `service.target_search(search, kind)` (at most MAX_TARGETS + 1). `visits` counts live visits:
    the items of a visit action, the upcoming live visits of the patients of a patient action.
    """
    clean, ids, normalised, patients = service.validate(
        session, action, params, visit_ids=visit_ids, search=search, patient_ids=patient_ids, params_optional=True
    )
    job = BulkJob(
        action=action, params=clean, visit_ids=ids, patient_ids=patients, search=normalised,
        target="visit_ids" if ids is not None else "patient_ids" if patients is not None else "patient_search",
    )
    kind = service.item_kind(job)
    search_used = service.target_search(normalised, kind) if normalised is not None else None
    rows = service.resolve_targets(session, job, kind, matched_patient_ids or [], search_used)
    too_many = len(rows) > service.MAX_TARGETS
    rows = rows[: service.MAX_TARGETS]
    if kind == "visit":
        live = _live_visits(session, [item_id for item_id, _, patient_id in rows if patient_id is not None])
        visit_rows = [row for row in rows if row[0] in live]
        patient_count = len({patient_id for _, _, patient_id in visit_rows})
        visit_count = len(visit_rows)
        sample = repo.visit_targets(session, [row[0] for row in visit_rows[:SAMPLE_SIZE]])
    else:
        patient_rows = [row for row in rows if row[1] == "patient"]
        patient_count = len(patient_rows)
        visit_count = _upcoming_visits(session, [row[0] for row in patient_rows])
        sample = repo.patient_targets(session, [row[0] for row in patient_rows[:SAMPLE_SIZE]])
    return Preview(job.target, kind, patient_count, visit_count, too_many, sample)


def _live(stmt):
    return stmt.where(Visit.status != "cancelled", Visit.missing_from_latest_export.is_(False))


def _live_visits(session: Session, visit_ids: Sequence[str]) -> set[str]:
    if not visit_ids:
        return set()
    return set(session.scalars(_live(select(Visit.id).where(any_of(Visit.id, list(visit_ids))))))


def _upcoming_visits(session: Session, patient_ids: Sequence[str]) -> int:
    if not patient_ids:
        return 0
    stmt = _live(select(func.count()).select_from(Visit).where(
        any_of(Visit.patient_id, list(patient_ids)), Visit.visit_date >= local_today()))
    return session.scalar(stmt) or 0
