"""Merge two records of one person, and undo it exactly. Never commits.

A merge keeps the survivor with the golden record (`golden`), moves the other's visits,
confirmation attempts, messages and inbound messages to it, and leaves the other as a
redirect (status `merged`, `merged_into_id`, no CPF, no match keys, no search document).
The audit trail is append-only, so the other's audit events stay under its id; the
merge record lists them, and both ids get a `patient.merge` event.

Everything moved or changed is written in the merge record; unmerge replays it backwards:
the other's row comes back as it was, the moved rows go back (those still on the
survivor), the survivor's fields go back to their values before the merge unless someone
changed them since (that later change is kept). Merges into one survivor are undone last
first. Row versions only grow, so documents come back equal but with a higher version.
Both indices follow through the outbox: both patients and every moved visit.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Date, DateTime, select, text
from sqlalchemy.orm import Session

from storage import indexed
from storage.audit import service as audit_service
from storage.audit.models import AuditEvent
from storage.duplicates import golden, repo
from storage.duplicates.models import PatientMerge
from storage.duplicates.service import ensure_not_different
from storage.errors import Conflict, Invalid, NotFound
from storage.linkage import features
from storage.patients import repo as patient_repo
from storage.patients.models import Patient

ENTITY = "patient"
# Bookkeeping columns never copied by a merge or an unmerge.
_NOT_FIELDS = {"id", "row_version", "created_at", "updated_at"}
FIELDS = tuple(c.name for c in Patient.__table__.columns if c.name not in _NOT_FIELDS)
# The tables whose patient_id moves with a merge.
MOVED = ("visits", "confirmation_attempts", "messages", "inbound_messages")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def snapshot(patient: Patient) -> dict[str, Any]:
    """Every field of a patient row as JSON-ready values."""
    return {field: _plain(getattr(patient, field)) for field in FIELDS}


def _typed(field: str, value: Any) -> Any:
    """A snapshot value back in its column's Python type."""
    if value is None:
        return None
    column_type = Patient.__table__.c[field].type
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, Date):
        return date.fromisoformat(value)
    return value


def _values(patient: Patient) -> dict[str, Any]:
    return {field: getattr(patient, field) for field in FIELDS}


def _lock_both(session: Session, first_id: str, second_id: str) -> dict[str, Patient]:
    """Lock two patients in id order (two merges of crossed pairs never deadlock); NotFound if one is missing."""
    found = {}
    for patient_id in sorted((first_id, second_id)):
        patient = patient_repo.get_for_update(session, patient_id)
        if patient is None:
            raise NotFound(ENTITY, patient_id)
        found[patient_id] = patient
    return found


def _already_merged(patient: Patient) -> Conflict:
    return Conflict("patient_merged", "Este cadastro já foi unificado a outro paciente.",
                    patient_id=patient.id, merged_into=patient.merged_into_id)


def _move(session: Session, table: str, from_id: str, to_id: str, ids: list | None = None) -> list:
    """Point rows of `table` at another patient; return the ids moved (visits get a new row_version)."""
    bump = ", row_version = row_version + 1, updated_at = now()" if table == "visits" else ""
    only = " AND id = ANY(:ids)" if ids is not None else ""
    statement = text(f"UPDATE {table} SET patient_id = :to_id{bump} WHERE patient_id = :from_id{only} RETURNING id")
    params: dict[str, Any] = {"to_id": to_id, "from_id": from_id}
    if ids is not None:
        params["ids"] = ids
    return sorted(row[0] for row in session.execute(statement, params))


def _refresh_keys(session: Session, patients: list[Patient]) -> None:
    keys = {}
    for patient in patients:
        person = features.person_from_row(patient)
        keys[patient.id] = features.blocking_keys(person)
    repo.save_keys(session, keys)


def merge(session: Session, survivor_id: str, other_id: str, actor: audit_service.Actor) -> PatientMerge:
    """Merge `other_id` into `survivor_id` (audited on both); returns the merge record."""
    if survivor_id == other_id:
        raise Invalid("merge_same_patient", "Escolha dois pacientes diferentes para unificar.", field="other_id")
    locked = _lock_both(session, survivor_id, other_id)
    survivor, other = locked[survivor_id], locked[other_id]
    for patient in (survivor, other):
        if patient.status == repo.MERGED:
            raise _already_merged(patient)
    pair = ensure_not_different(session, survivor_id, other_id)

    survivor_before, other_before = snapshot(survivor), snapshot(other)
    survivor_is_newer = (survivor.updated_at or datetime.min.replace(tzinfo=timezone.utc)) >= (
        other.updated_at or datetime.min.replace(tzinfo=timezone.utc))
    changes = golden.golden(_values(survivor), _values(other), survivor_is_newer)

    # The other gives up its CPF first: the unique index must never see it twice.
    other.cpf = None
    other.status = repo.MERGED
    other.merged_into_id = survivor.id
    session.flush()
    for field, value in changes.items():
        setattr(survivor, field, value)
    session.flush()

    moved = {table: _move(session, table, other.id, survivor.id) for table in MOVED}
    audit_ids = list(session.scalars(
        select(AuditEvent.id).where(AuditEvent.entity_type == ENTITY, AuditEvent.entity_id == other.id)
        .order_by(AuditEvent.id)
    ))
    pair_before = None
    if pair is not None:
        pair_before = {"id": pair.id, "status": pair.status, "decided_at": _plain(pair.decided_at),
                       "decided_by": pair.decided_by}
        pair.status, pair.decided_at, pair.decided_by = "same", datetime.now(timezone.utc), actor.user_id

    repo.delete_keys(session, [other.id])
    _refresh_keys(session, [survivor])
    # The survivor's document now summarises the moved visits (and messages) even when none of its fields changed.
    indexed.mark_changed(session, visits=moved["visits"], stale_patients=[survivor.id])
    # The other's document goes: the drain deletes it with this version (its row is kept as a redirect).
    indexed.mark_deleted(session, ENTITY, other.id, other.row_version)

    record = PatientMerge(
        survivor_id=survivor.id, merged_id=other.id, status="active", actor_id=actor.user_id,
        record={
            "survivor_before": survivor_before, "survivor_after": snapshot(survivor), "other_before": other_before,
            "changed_fields": sorted(changes), "moved": moved, "audit_event_ids": audit_ids, "pair": pair_before,
        },
    )
    session.add(record)
    session.flush()
    details = {"merge_id": record.id, "survivor_id": survivor.id, "merged_id": other.id,
               "fields": sorted(changes), "moved": {table: len(ids) for table, ids in moved.items()}}
    for patient_id in (survivor.id, other.id):
        audit_service.record(session, actor, "patient.merge", ENTITY, patient_id, details)
    return record


def unmerge(session: Session, merged_id: str, actor: audit_service.Actor) -> PatientMerge:
    """Undo the merge that took `merged_id` away, exactly (audited on both); returns the merge record."""
    other = patient_repo.get_for_update(session, merged_id)
    if other is None:
        raise NotFound(ENTITY, merged_id)
    merge_row = repo.active_merge_of(session, merged_id) if other.status == repo.MERGED else None
    if merge_row is None:
        raise Conflict("patient_not_merged", "Este cadastro não foi unificado a outro paciente.", patient_id=merged_id)
    if repo.later_merges_into(session, merge_row):
        raise Conflict("merge_not_latest",
                       "Desfaça antes as unificações mais recentes no mesmo paciente.", survivor_id=merge_row.survivor_id)
    survivor = patient_repo.get_for_update(session, merge_row.survivor_id)
    if survivor is None:
        raise NotFound(ENTITY, merge_row.survivor_id)
    record = merge_row.record
    before, after, other_before = record["survivor_before"], record["survivor_after"], record["other_before"]

    # The survivor's fields go back where nobody changed them since; the CPF first, so the other can take it back.
    current = snapshot(survivor)
    restore = {f: before[f] for f in FIELDS if current[f] == after[f] and current[f] != before[f]}
    restored_fields = sorted(restore)
    if "cpf" in restore:
        survivor.cpf = _typed("cpf", restore.pop("cpf"))
        session.flush()
    for field, value in restore.items():
        setattr(survivor, field, _typed(field, value))
    for field in FIELDS:
        setattr(other, field, _typed(field, other_before[field]))
    session.flush()

    moved_back = {table: _move(session, table, survivor.id, other.id, ids)
                  for table, ids in record["moved"].items() if ids}
    pair_before = record.get("pair")
    if pair_before is not None:
        pair = repo.get_pair(session, pair_before["id"], lock=True)
        if pair is not None:
            pair.status, pair.decided_by = pair_before["status"], pair_before["decided_by"]
            pair.decided_at = datetime.fromisoformat(pair_before["decided_at"]) if pair_before["decided_at"] else None

    _refresh_keys(session, [survivor, other])
    indexed.mark_changed(session, visits=moved_back.get("visits", []), stale_patients=[survivor.id, other.id])
    merge_row.status, merge_row.undone_at, merge_row.undone_by = "undone", datetime.now(timezone.utc), actor.user_id
    session.flush()
    details = {"merge_id": merge_row.id, "survivor_id": survivor.id, "merged_id": other.id,
               "fields": restored_fields,
               "moved": {table: len(ids) for table, ids in moved_back.items()}}
    for patient_id in (survivor.id, other.id):
        audit_service.record(session, actor, "patient.unmerge", ENTITY, patient_id, details)
    return merge_row
