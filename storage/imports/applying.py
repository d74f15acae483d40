"""Apply parsed agenda rows to the registry, one batch per call, inside the caller's transaction.

Per batch, in bulk: cars created on first sight; patients matched (valid CPF, else
folded name + birth date) and enriched; visits found by source id (else by their
split-visit group key), composed from all their active source rows and written
only when something changed; the outbox rows of every changed visit and patient;
the batch's issues and counter deltas. Nothing here commits: the service wraps
each batch in its own unit of work with the checkpoint, so a batch is all or
nothing and a re-run resumes exactly where the last commit left off.

Patient data follows the freshest visit: a field empty in the registry is always
filled, and a known field is changed only by a row whose visit starts after every
visit the registry already holds for that patient. Re-importing a file therefore
changes nothing, whatever order its rows come in, and an older agenda imported
after a newer one never overwrites newer data. An empty cell never erases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from storage import indexed, outbox
from storage.sql import copy_rows
from storage.cars import service as car_service
from storage.duplicates import service as duplicate_service
from storage.imports import report, repo, visit_rows, visit_writer
from storage.imports.parsing.dasaexp import (
    KIND_DUPLICATE,
    KIND_ERROR,
    KIND_SKIPPED,
    LEVEL_WARNING,
    SKIP_MESSAGES,
    ParsedRow,
    RowIssue,
)
from storage.imports.models import ImportPatient
from storage.patients.models import Patient, new_id as new_patient_id
from storage.visits.models import VisitSource
from storage.visits.models import new_id as new_visit_id

LEVEL_SKIPPED = "skipped"

# One lock for every import's batches: two files naming the same new patient never race to create it.
ADVISORY_LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtext('coleta.imports.apply'))")

_ADDRESS_FIELDS = ("street", "number", "complement", "neighborhood", "city", "state", "zip_code", "address_reference")
_PLAN_FIELDS = ("health_plan_code", "health_plan_name", "health_plan_card_number")
_SCALAR_FIELDS = ("name", "birth_date", "email")
_PATIENT_WRITE_FIELDS = ("name", "name_folded", "cpf", "birth_date", "phones", "email", *_ADDRESS_FIELDS, *_PLAN_FIELDS)
_PATIENT_LENGTHS = {
    name: column.type.length
    for name, column in Patient.__table__.c.items()
    if name in _PATIENT_WRITE_FIELDS and getattr(column.type, "length", None)
}


@dataclass
class BatchOutcome:
    """What one batch did: counter deltas and the issues to store."""

    deltas: Counter = field(default_factory=Counter)
    issues: list[RowIssue] = field(default_factory=list)
    visit_ids: list[str] = field(default_factory=list)


@dataclass
class _Group:
    """The rows of one stop within a batch (two for a split visit), with their source ids."""

    key: str
    rows: list[tuple[ParsedRow, str]]

    @property
    def first(self) -> ParsedRow:
        return self.rows[0][0]


class Applier:
    """Applies the batches of one import run (keeps only small per-file state between batches)."""

    def __init__(self, import_id: str, layout: str, learned_at: datetime) -> None:
        self.import_id = import_id
        self.layout = layout
        self.learned_at = learned_at
        self._car_ids: dict[str, str] = {}

    # ------------------------------------------------------------ one batch

    def apply(self, session: Session, batch: Sequence[tuple[ParsedRow, str | None]]) -> BatchOutcome:
        """Apply one batch of rows (in file order) inside the caller's transaction."""
        outcome = BatchOutcome()
        groups: dict[str, _Group] = {}
        error_sources: list[str] = []
        seen_sources: dict[str, int] = {}
        known = visit_rows.sources_by_id(session, [sid for _, sid in batch if sid])
        for row, sid in batch:
            outcome.issues.extend(row.issues)
            if row.kind == KIND_SKIPPED:
                outcome.deltas["skipped"] += 1
                # Kept with its reason, so the report can list and count skipped rows (never an error or warning).
                reason = row.skip_reason or ""
                outcome.issues.append(RowIssue(row.row_number, LEVEL_SKIPPED, reason,
                                               SKIP_MESSAGES.get(reason, "Linha ignorada.")))
            elif row.kind == KIND_DUPLICATE:
                outcome.deltas["duplicates"] += 1
            elif row.kind == KIND_ERROR:
                outcome.deltas["errors"] += 1
                if row.source_id:
                    error_sources.append(row.source_id)
            else:
                assert sid is not None
                earlier = seen_sources.get(sid)
                source = known.get(sid)
                if earlier is None and source and source.last_import_id == self.import_id and source.row_number != row.row_number:
                    earlier = source.row_number
                if earlier is not None:
                    # The same appointment id twice with different content: the first row wins.
                    outcome.deltas["duplicates"] += 1
                    outcome.issues.append(RowIssue(
                        row.row_number, LEVEL_WARNING, "duplicate_appointment_id",
                        f"Mesmo “Id do agendamento” da linha {earlier}; linha ignorada.",
                    ))
                    continue
                seen_sources[sid] = row.row_number
                key = visit_writer.group_key(row.car_key, row.start, row.patient_name_folded, row.agenda_id)
                groups.setdefault(key, _Group(key, [])).rows.append((row, sid))

        if groups:
            self._ensure_cars(session, groups.values())
            patient_of = self._apply_patients(session, list(groups.values()), outcome)
            self._apply_visits(session, list(groups.values()), known, patient_of, outcome)
        if error_sources:
            # An unreadable row still lists its appointment: its visit is not "missing" from this export.
            session.execute(
                update(VisitSource)
                .where(VisitSource.source_id.in_(error_sources))
                .values(last_import_id=self.import_id)
            )
        outcome.deltas["warnings"] += sum(1 for issue in outcome.issues if issue.level == LEVEL_WARNING)
        outcome.deltas["imported"] = outcome.deltas["visits_created"] + outcome.deltas["visits_updated"]
        return outcome

    # ------------------------------------------------------------ cars

    def _ensure_cars(self, session: Session, groups) -> None:
        wanted = {}
        for group in groups:
            row = group.first
            if row.car_key not in self._car_ids:
                wanted[row.car_key] = {
                    "label": row.car_label, "base": row.car_base, "room_code": row.room_code,
                    "room_name": row.room_name, "unit_code": row.unit_code, "unit_name": row.unit_name,
                    "operational_unit": row.operational_unit,
                }
        if wanted:
            self._car_ids.update(car_service.ensure_by_source_keys(session, wanted))

    # ------------------------------------------------------------ patients

    def _apply_patients(self, session: Session, groups: list[_Group], outcome: BatchOutcome) -> dict[str, str]:
        """Match or create each group's patient and merge its data; return group key -> patient id."""
        identities = {group.key: _identity(group) for group in groups}
        cpfs = {ident.cpf for ident in identities.values() if ident.cpf}
        names = {(ident.name_folded, ident.birth_date) for ident in identities.values()}
        patients: dict[str, dict] = {}
        for found in (*repo.patients_by_cpf(session, cpfs), *repo.patients_by_name(session, names)):
            patients.setdefault(found["id"], found)
        by_cpf = {p["cpf"]: p for p in patients.values() if p["cpf"]}
        by_name: dict[tuple[str, date | None], list[dict]] = defaultdict(list)
        for p in sorted(patients.values(), key=lambda p: (p["created_at"], p["id"])):
            by_name[(p["name_folded"], p["birth_date"])].append(p)
        latest = visit_rows.latest_start_by_patient(session, list(patients))

        created: list[dict] = []
        changed: dict[str, dict] = {}
        patient_of: dict[str, str] = {}
        for group in groups:
            ident = identities[group.key]
            patient = _match(ident, by_cpf, by_name)
            contribution = _contribution(group, ident)
            start = visit_writer.local(contribution["start"])
            if patient is None:
                patient = {"id": new_patient_id(), "row_version": 1, "cpf": None, "phones": [], "_new": True,
                           **{name: None for name in ("name", "name_folded", "birth_date", "email", *_ADDRESS_FIELDS,
                                                      *_PLAN_FIELDS)}}
                created.append(patient)
            old_key = (patient["name_folded"], patient["birth_date"])
            if _merge(patient, contribution, newer=latest.get(patient["id"]) is None or start > latest[patient["id"]]):
                if not patient.get("_new"):
                    changed[patient["id"]] = patient
            if patient["cpf"]:
                by_cpf[patient["cpf"]] = patient
            new_key = (patient["name_folded"], patient["birth_date"])
            if old_key != new_key:  # a new patient got its name, or a newer row changed it: keep the index true
                if old_key in by_name:
                    by_name[old_key] = [p for p in by_name[old_key] if p is not patient]
                by_name[new_key].append(patient)
            if latest.get(patient["id"]) is None or start > latest[patient["id"]]:
                latest[patient["id"]] = start
            patient_of[group.key] = patient["id"]

        if created:
            copy_rows(
                session, Patient.__table__, ("id", "row_version", *_PATIENT_WRITE_FIELDS),
                ((p["id"], 1, *(p[f] for f in _PATIENT_WRITE_FIELDS)) for p in created),
            )
        if changed:
            table = Patient.__table__
            statement = (
                update(table)
                .where(table.c.id == _bind("id"))
                .values(row_version=table.c.row_version + 1, updated_at=func.now(),
                        **{f: _bind(f) for f in _PATIENT_WRITE_FIELDS})
            )
            session.connection().execute(
                statement,
                [{f"b_{f}": p[f] for f in ("id", *_PATIENT_WRITE_FIELDS)} for p in sorted(changed.values(), key=lambda p: p["id"])],
            )
        if created:  # fresh ids: nothing to conflict with
            copy_rows(session, ImportPatient.__table__, ("import_id", "patient_id", "created"),
                      ((self.import_id, p["id"], True) for p in created))
        outcome.deltas["patients_created"] += len(created)
        outcome.deltas["patients_updated"] += self._track_patients(session, list(changed), False)
        self._bumped_patients = {p["id"] for p in created} | set(changed)
        self._report_duplicates(session, groups, patient_of, [p["id"] for p in created] + list(changed), outcome)
        return patient_of

    def _report_duplicates(self, session: Session, groups, patient_of: dict[str, str], patient_ids, outcome) -> None:
        """A `possible_duplicate` warning on the first row of each created or changed patient that may be another."""
        warnings = duplicate_service.check_on_write(session, patient_ids, found_by="import")
        reported: set[str] = set()
        for group in groups:
            patient_id = patient_of[group.key]
            if patient_id in reported or patient_id not in warnings:
                continue
            reported.add(patient_id)
            for warning in warnings[patient_id]:
                outcome.issues.append(RowIssue(
                    group.first.row_number, LEVEL_WARNING, "possible_duplicate",
                    f"Possível cadastro duplicado de um paciente já registrado (escore {warning.score:.2f}); "
                    "confira na fila de duplicados.",
                    patient_id=warning.patient_id, score=warning.score,
                ))

    def _track_patients(self, session: Session, patient_ids: list[str], created: bool) -> int:
        """Remember which patients this import created or changed; return how many were new to the list."""
        if not patient_ids:
            return 0
        statement = (
            pg_insert(ImportPatient.__table__)
            .values([{"import_id": self.import_id, "patient_id": pid, "created": created} for pid in sorted(patient_ids)])
            .on_conflict_do_nothing()
            .returning(ImportPatient.__table__.c.patient_id)
        )
        return len(session.execute(statement).all())

    # ------------------------------------------------------------ visits

    def _apply_visits(self, session, groups: list[_Group], known, patient_of: dict[str, str], outcome) -> None:
        batch_sources = {sid for group in groups for _, sid in group.rows}
        by_key = visit_rows.visit_ids_by_group_key(
            session, [g.key for g in groups if not any(known.get(sid) for _, sid in g.rows)]
        )
        visit_of: dict[str, str | None] = {}
        claimed: set[str] = set()
        for group in groups:
            candidates = [known[sid].visit_id for _, sid in group.rows if sid in known] + [by_key.get(group.key)]
            visit_id = next((v for v in candidates if v and v not in claimed), None)
            if visit_id:
                claimed.add(visit_id)
            visit_of[group.key] = visit_id
        existing = visit_rows.content_rows(session, claimed)
        others = visit_rows.active_sources(session, claimed)

        new_rows: list[dict] = []
        changed_rows: list[dict] = []
        sources: list[dict] = []
        left_patients: set[str] = set()
        first_row: dict[str, int] = {}
        for group in groups:
            visit_id = visit_of[group.key]
            fresh = [(row.row_number, sid, _source_data(row, group.key)) for row, sid in group.rows]
            kept = [(s.row_number, s.source_id, s.data) for s in others.get(visit_id, ()) if s.source_id not in batch_sources]
            ordered = [data for _, _, data in sorted(fresh + kept, key=lambda item: (item[0], item[1]))]
            current = existing.get(visit_id) if visit_id else None
            content = visit_writer.compose(
                ordered,
                patient_id=patient_of[group.key],
                car_id=self._car_ids[group.first.car_key],
                existing=current,
                learned_at=self.learned_at,
            )
            if current is None:
                visit_id = new_visit_id()
                new_rows.append({"id": visit_id, **content})
                outcome.deltas["visits_created"] += 1
            elif visit_writer.changed(content, current):
                changed_rows.append({"id": visit_id, **content})
                if current["import_id"] != self.import_id:
                    outcome.deltas["visits_updated"] += 1
                if current["patient_id"] != content["patient_id"]:
                    left_patients.add(current["patient_id"])
            first_row[visit_id] = group.first.row_number
            for (row_number, sid, data), (row, _) in zip(fresh, group.rows):
                sources.append({"visit_id": visit_id, "source_id": sid, "agenda_id": row.agenda_id,
                                "row_number": row_number, "data": data, "raw": row.raw})

        visit_writer.insert_many(session, new_rows, self.import_id)
        visit_writer.update_many(session, changed_rows, self.import_id)
        report.record_visits(session, self.import_id, "created", [r["id"] for r in new_rows])
        report.record_visits(session, self.import_id, "updated", [r["id"] for r in changed_rows])
        active_data = {s.source_id: s.data for group in others.values() for s in group}
        visit_writer.write_sources(session, sources, known, active_data, self.import_id)
        changed_ids = [r["id"] for r in new_rows] + [r["id"] for r in changed_rows]
        # A visit that moved to another patient (a corrected CPF) leaves a stale document behind.
        indexed.mark_changed(
            session, visits=changed_ids, patients=self._bumped_patients, stale_patients=left_patients
        )
        outcome.visit_ids = list(first_row)


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Identity:
    cpf: str | None
    name_folded: str
    birth_date: date | None


def _identity(group: _Group) -> _Identity:
    rows = [row for row, _ in group.rows]
    cpf = next((row.cpf for row in rows if row.cpf), None)
    birth = next((row.birth_date for row in rows if row.birth_date), None)
    return _Identity(cpf, rows[0].patient_name_folded, birth)


def _match(ident: _Identity, by_cpf: dict, by_name: dict) -> dict | None:
    """The registry's patient for a row: by valid CPF; else by folded name + birth date."""
    if ident.cpf:
        found = by_cpf.get(ident.cpf)
        if found is not None:
            return found
        # A patient first seen without a CPF gets it now.
        return next((p for p in by_name.get((ident.name_folded, ident.birth_date), ()) if not p["cpf"]), None)
    candidates = by_name.get((ident.name_folded, ident.birth_date), ())
    return candidates[0] if candidates else None


def _contribution(group: _Group, ident: _Identity) -> dict[str, Any]:
    """What a stop's rows tell about its patient (first non-empty value per field, phones merged)."""
    rows = [row for row, _ in group.rows]
    phones: list[dict] = []
    for row in rows:
        for phone in row.phones:
            if all(p["number"] != phone.digits for p in phones):
                phones.append({"number": phone.digits, "kind": phone.kind})
    address_row = next((row for row in rows if row.address and row.address.street), None)
    plan_row = next((row for row in rows if row.health_plan_card), None) or next(
        (row for row in rows if row.health_plan_code or row.health_plan_name), None
    )
    address = address_row.address if address_row else None
    return {
        "start": rows[0].start.isoformat(),
        "name": rows[0].patient_name,
        "name_folded": ident.name_folded,
        "cpf": ident.cpf,
        "birth_date": ident.birth_date,
        "email": next((row.email for row in rows if row.email), None),
        "phones": phones,
        "address": None if address is None else {
            "street": address.street, "number": address.number, "complement": address.complement,
            "neighborhood": address.neighborhood, "city": address.city, "state": address.state,
            "zip_code": address.zip_code, "address_reference": address.reference,
        },
        "plan": None if plan_row is None else {
            "health_plan_code": plan_row.health_plan_code,
            "health_plan_name": plan_row.health_plan_name,
            "health_plan_card_number": plan_row.health_plan_card,
        },
    }


def _merge(patient: dict, data: dict[str, Any], newer: bool) -> bool:
    """Fill empty fields; change known ones only with data from a newer visit. Return whether anything changed."""
    before = {f: patient[f] for f in _PATIENT_WRITE_FIELDS}
    for name in _SCALAR_FIELDS:
        value = _clip(name, data[name])
        if value in (None, ""):
            continue
        if patient[name] in (None, "") or (newer and patient[name] != value):
            patient[name] = value
            if name == "name":
                patient["name_folded"] = _clip("name_folded", data["name_folded"])
    if data["cpf"] and not patient["cpf"]:
        patient["cpf"] = data["cpf"]
    phones = list(patient["phones"] or [])
    for phone in data["phones"]:
        if all(p.get("number") != phone["number"] for p in phones):
            phones.append(phone)
    if len(phones) != len(patient["phones"] or []):
        patient["phones"] = phones
    _merge_unit(patient, data["address"], _ADDRESS_FIELDS, ("street", "number", "zip_code"), newer)
    _merge_unit(patient, data["plan"], _PLAN_FIELDS, ("health_plan_code",), newer)
    return any(patient[f] != before[f] for f in _PATIENT_WRITE_FIELDS)


def _merge_unit(patient: dict, values: dict | None, fields: tuple[str, ...], identity: tuple[str, ...], newer: bool):
    """Merge a group of fields that belong together (an address, a health plan).

    A different address (street, number or CEP) from a newer visit replaces the whole
    address, so an old apartment number never sticks to a new street; the same
    address only gains the parts it was missing (or newer spellings).
    """
    if not values or all(values[f] in (None, "") for f in identity):
        return
    values = {f: _clip(f, values[f]) for f in fields}
    known = any(patient[f] not in (None, "") for f in identity)
    same = all(values[f] in (None, "") or patient[f] in (None, "") or values[f] == patient[f] for f in identity)
    if not known:
        for f in fields:
            if values[f] not in (None, ""):
                patient[f] = values[f]
    elif not same:
        if newer:
            for f in fields:
                patient[f] = values[f] if values[f] not in (None, "") else None
    else:
        for f in fields:
            if values[f] not in (None, "") and (patient[f] in (None, "") or (newer and patient[f] != values[f])):
                patient[f] = values[f]


def _source_data(row: ParsedRow, key: str) -> dict[str, Any]:
    """What one export row contributes to its visit, as JSON (times as local ISO strings)."""
    payer = None
    if row.health_plan_code or row.health_plan_name or row.health_plan_card:
        payer = {"code": row.health_plan_code, "name": row.health_plan_name, "card_number": row.health_plan_card}
    return {
        "group_key": key,
        "car_key": row.car_key,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "status": row.status,
        "confirmation_status": row.confirmation_status,
        "confirmation_channel": row.confirmation_channel,
        "confirmation_time": row.confirmation_time.isoformat() if row.confirmation_time else None,
        "exam_codes": list(row.exam_codes),
        "exam_names": row.exam_names,
        "payer": payer,
        "physician": row.physician_text,
        "booking_channel": row.booking_channel,
        "booked_at": row.booked_at.isoformat() if row.booked_at else None,
        "notes": row.notes,
        "address": None if row.address is None else {
            "street": row.address.street, "number": row.address.number, "neighborhood": row.address.neighborhood,
            "city": row.address.city, "state": row.address.state, "zip_code": row.address.zip_code,
            "complement": row.address.complement, "reference": row.address.reference,
        },
        "address_text": row.address_text,
        "unit_code": row.unit_code,
        "unit_name": row.unit_name,
        "agenda_id": row.agenda_id,
    }


def _clip(name: str, value: Any) -> Any:
    length = _PATIENT_LENGTHS.get(name)
    if length and isinstance(value, str) and len(value) > length:
        return value[:length]
    return value


def _bind(name: str):
    return bindparam(f"b_{name}")


def begin_batch(session: Session) -> None:
    """Start a batch transaction: take the importers' lock (released at commit or rollback), commit
    without waiting for the WAL flush, and record its outbox rows as a bulk writer's.

    `synchronous_commit = off` is safe here: if PostgreSQL itself crashes, the last
    batches may be lost whole (each carries its own checkpoint), and a re-run redoes
    them; nothing half-applied can survive.
    """
    session.execute(ADVISORY_LOCK_SQL)
    session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    outbox.mark_bulk(session)  # its index writes yield to people's (see storage.outbox)


@dataclass
class FinishOutcome:
    """What closing an import did after its last batch."""

    visits_updated: int = 0
    visits_missing: int = 0
    visits_listed: int = 0
    issues: list[RowIssue] = field(default_factory=list)


def finish(session: Session, import_id: str, learned_at: datetime) -> FinishOutcome:
    """Close an import inside the caller's transaction (idempotent with the batches committed).

    1. Rows a newer export dropped from a visit it still lists (a payer removed from a
       split visit) stop counting, and those visits are recomputed.
    2. Visits of the units and days the file covered that it no longer lists are
       flagged `missing_from_latest_export` (never deleted); a listed visit was
       unflagged by its batch. Files without a unit column (the simplified layout)
       flag nothing: their scope is unknown.
    3. A patient booked in two cars at overlapping times is reported on the later row.
    """
    result = FinishOutcome()
    stale = visit_rows.stale_sources(session, import_id)
    if stale:
        visit_writer.deactivate_sources(session, [pk for pk, _ in stale])
        affected = sorted({visit_id for _, visit_id in stale})
        existing = visit_rows.content_rows(session, affected)
        sources = visit_rows.active_sources(session, affected)
        rows = []
        for visit_id in affected:
            current = existing[visit_id]
            content = visit_writer.compose(
                [s.data for s in sources[visit_id]],
                patient_id=current["patient_id"],
                car_id=current["car_id"],
                existing=current,
                learned_at=learned_at,
            )
            if visit_writer.changed(content, current):
                rows.append({"id": visit_id, **content})
                if current["import_id"] != import_id:
                    result.visits_updated += 1
        visit_writer.update_many(session, rows, import_id)
        report.record_visits(session, import_id, "updated", [r["id"] for r in rows])
        indexed.mark_changed(session, visits=[r["id"] for r in rows])

    # Only an export that names its unit (DasaExp) says which agendas it covers: the simplified
    # layout has no unit, and a file of some of a unit's cars must not flag the others' visits.
    units, _ = visit_rows.unit_days(session, import_id)
    missing = visit_rows.not_listed_in_scope(session, import_id, units, set())
    if missing:
        visit_writer.flag_missing(session, [visit_id for visit_id, _ in missing])
        indexed.mark_changed(session, visits=[v for v, _ in missing])
    result.visits_missing = len(missing)
    report.record_visits(session, import_id, "missing", [visit_id for visit_id, _ in missing])
    report.record_listed(session, import_id)

    for row, other_row in visit_rows.double_bookings_in_import(session, import_id):
        where = f" (linha {other_row})" if other_row else ""
        result.issues.append(RowIssue(
            row, LEVEL_WARNING, "patient_double_booked",
            f"Paciente com outra visita em outro carro em horário sobreposto{where}.",
        ))
    result.visits_listed = visit_rows.listed_by_import(session, import_id)
    return result
