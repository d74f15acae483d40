"""The master patient index: the review queue of possible duplicates, decisions, merge and unmerge.

Staff (admin, operator) decide and merge; viewers read the queue with CPFs and phones masked;
drivers see none of it. Every read of the queue is audited as a read of the patients listed,
every decision and (un)merge on both patients.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.deps import SessionDep, commit
from api.paging import Cursor
from api.schemas.duplicates import (
    DecisionBody,
    DuplicatePage,
    DuplicatePairRead,
    DuplicatePatient,
    FieldComparison,
    MergeBody,
    MergeRead,
)
from api.schemas.patients import PatientRead
from api.security import READERS, STAFF, AuditActor, allow
from storage.duplicates import merging
from storage.duplicates import service as duplicate_service
from storage.duplicates.models import DuplicatePair, PatientMerge
from storage.patients import repo as patient_repo

router = APIRouter(prefix="/api/v1/duplicates", tags=["duplicates"])
merges = APIRouter(prefix="/api/v1/patients", tags=["duplicates"])


def _pair_read(session: Session, pair: DuplicatePair, masked: bool) -> DuplicatePairRead:
    patients = {p.id: p for p in patient_repo.get_many(session, [pair.patient_a_id, pair.patient_b_id])}
    return DuplicatePairRead(
        id=pair.id, score=pair.score, band=pair.band, status=pair.status, found_by=pair.found_by,
        created_at=pair.created_at, updated_at=pair.updated_at, decided_at=pair.decided_at, decided_by=pair.decided_by,
        patients=[DuplicatePatient.from_row(patients[pid], masked)
                  for pid in (pair.patient_a_id, pair.patient_b_id) if pid in patients],
        explanation=[FieldComparison(**item) for item in pair.explanation or []],
    )


@router.get("", response_model=DuplicatePage, **allow(*READERS))
def list_duplicates(
    session: SessionDep,
    actor: AuditActor,
    status: Literal["pending", "same", "different"] | None = "pending",
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    patient_id: Annotated[str | None, Query(max_length=36)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DuplicatePage:
    """Possible duplicates, best score first, each with both patients and the field-by-field explanation.

    Filters: `status` (default `pending`), `min_score` (0–1), `patient_id` (pairs of one patient).
    Pending pairs whose patient was merged away are left out. Audited as a read of every patient listed.
    """
    page = duplicate_service.page(session, actor, status=status, min_score=min_score, patient_id=patient_id,
                                  cursor=cursor, limit=limit)
    items = [_pair_read(session, pair, masked=actor.role == "viewer") for pair in page.items]
    commit(session)
    return DuplicatePage(items=items, next_cursor=page.next_cursor)


@router.post("/{pair_id}/decision", response_model=DuplicatePairRead, **allow(*STAFF))
def decide_duplicate(pair_id: str, body: DecisionBody, session: SessionDep, actor: AuditActor) -> DuplicatePairRead:
    """Decide a pair: `same` (one person: merge next) or `different` (never proposed again). Audited on both patients."""
    pair = duplicate_service.decide(session, pair_id, body.decision, actor)
    result = _pair_read(session, pair, masked=False)
    commit(session)
    return result


def _merge_read(session: Session, merge: PatientMerge) -> MergeRead:
    survivor = patient_repo.get_many(session, [merge.survivor_id])[0]
    record = merge.record
    moved = record.get("moved", {})
    return MergeRead(
        id=merge.id, survivor_id=merge.survivor_id, merged_id=merge.merged_id, status=merge.status,
        created_at=merge.created_at, undone_at=merge.undone_at, changed_fields=record.get("changed_fields", []),
        moved={table: len(ids) for table, ids in moved.items()}, patient=PatientRead.from_row(survivor),
    )


@merges.post("/{survivor_id}/merge", response_model=MergeRead, **allow(*STAFF))
def merge_patients(survivor_id: str, body: MergeBody, session: SessionDep, actor: AuditActor) -> MergeRead:
    """Merge `other_id` into this patient: visits, attempts and messages move here, the best value of each field
    is kept (README: golden record), the other becomes a redirect (`merged_into`). Undo with /unmerge.

    409 `patient_merged` (either is already merged), `duplicate_decided_different`; 422 `merge_same_patient`.
    """
    merge = merging.merge(session, survivor_id, body.other_id, actor)
    result = _merge_read(session, merge)
    commit(session)
    return result


@merges.post("/{patient_id}/unmerge", response_model=MergeRead, **allow(*STAFF))
def unmerge_patient(patient_id: str, session: SessionDep, actor: AuditActor) -> MergeRead:
    """Undo the merge that took this (merged-away) patient: both records, their visits and documents come back.

    409 `patient_not_merged`, `merge_not_latest` (a later merge into the same survivor must be undone first).
    """
    merge = merging.unmerge(session, patient_id, actor)
    result = _merge_read(session, merge)
    commit(session)
    return result
