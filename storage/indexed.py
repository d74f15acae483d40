"""Which search documents a change rewrites: the one owner of the index's row_version bumps and outbox rows.

A document is rewritten when an outbox row names it, and the index keeps it only when its
`row_version` is higher than the one it holds. Commands say what changed; the rules live here:

- a changed visit or patient row already carries its new row_version (the ORM's version
  counter, or the UPDATE of a bulk writer): `visits=` and `patients=` only queue them;
- a visit change rewrites its patient's document (it summarises the patient's live visits):
  the patients of `visits` are bumped and queued here;
- a row that did not change but whose document derives from something that did (a message
  sent, the day turning, a visit that left the patient) is stale: `stale_visits=` and
  `stale_patients=` are bumped and queued here, and a stale visit brings no patient along;
- a car's label and base are in its visits' documents and in their patients': `cars=` makes
  all of those stale.

storage.outbox is the table and what the drain does with it; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage import outbox
from storage.sql import any_of, copy_rows
from storage.patients.models import Patient
from storage.visits.models import Visit

VISIT = "visit"
PATIENT = "patient"


def mark_changed(
    session: Session,
    *,
    visits: Iterable[str] = (),
    patients: Iterable[str] = (),
    stale_visits: Iterable[str] = (),
    stale_patients: Iterable[str] = (),
    cars: Iterable[str] = (),
) -> None:
    """Queue every document these changes rewrite (see the module docstring); flushed with the caller's transaction."""
    changed_visits, changed_patients = set(visits), set(patients)
    stale_v, stale_p = set(stale_visits), set(stale_patients)
    for car_id in cars:
        for visit_id, patient_id in session.execute(select(Visit.id, Visit.patient_id).where(Visit.car_id == car_id)):
            stale_v.add(visit_id)
            stale_p.add(patient_id)
    if changed_visits:
        stale_p.update(session.scalars(
            select(Visit.patient_id).where(any_of(Visit.id, sorted(changed_visits))).distinct()
        ))
    stale_v -= changed_visits
    stale_p -= changed_patients
    _bump(session, Visit, stale_v)
    _bump(session, Patient, stale_p)
    _queue(session, VISIT, changed_visits | stale_v)
    _queue(session, PATIENT, changed_patients | stale_p)


def mark_deleted(session: Session, entity_type: str, entity_id: str, version: int) -> None:
    """Queue the removal of a deleted row's document; `version` (above the row's last) guards the delete."""
    outbox.record(session, entity_type, entity_id, deleted_version=version)


def _bump(session: Session, model: type[Visit] | type[Patient], ids: set[str]) -> None:
    """row_version + 1 (the row's own clock left alone); a loaded object reloads its version when next used."""
    if not ids:
        return
    table = model.__table__
    values = {"row_version": table.c.row_version + 1}
    if "updated_at" in table.c:
        values["updated_at"] = table.c.updated_at
    ordered = sorted(ids)
    session.execute(update(table).where(any_of(table.c.id, ordered)).values(**values))
    for entity_id in ordered:
        loaded = session.identity_map.get(identity_key(model, entity_id))
        if loaded is not None:
            session.expire(loaded, [name for name in ("row_version", "updated_at") if name in table.c])


def _queue(session: Session, entity_type: str, ids: set[str]) -> None:
    """One outbox row per entity, in one COPY."""
    if not ids:
        return
    bulk = outbox.is_bulk(session)
    copy_rows(session, outbox.OutboxEntry.__table__, ("entity_type", "entity_id", "attempts", "bulk"),
              ((entity_type, str(i), 0, bulk) for i in sorted(ids)))
    session.info[outbox.OUTBOX_DIRTY] = True
