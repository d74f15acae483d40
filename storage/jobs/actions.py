"""What a bulk job does to one item, through the owners' commands (never their tables).

Each handler runs inside the item's SAVEPOINT (see service.process_batch), returns an
`Outcome` (`ok`, or `skipped` when there is nothing to do) and raises a domain error
for the rest; it writes the item's audit row (one per item, on its patient, with the
job id) only when it did something.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from storage.audit import service as audit_service
from storage.audit.service import Actor
from storage.clock import LOCAL_TZ
from storage.errors import NotFound
from storage.messages import service as message_service
from storage.patients import repo as patient_repo
from storage.patients import service as patient_service
from storage.visits import confirmations as visit_confirmations
from storage.visits import repo as visit_repo
from storage.visits import service as visit_service


@dataclass(frozen=True)
class Context:
    """The job an item belongs to: its id, action, normalised params, who asked, and today's date."""

    job_id: str
    action: str
    params: dict[str, Any]
    actor: Actor
    today: date


@dataclass(frozen=True)
class Outcome:
    """An item's result: outcome, stable code and pt-BR message (errors and skips), details, a queued message."""

    outcome: str
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = None
    message_id: str | None = None


def run(session: Session, context: Context, item: Any) -> Outcome:
    """Apply the job's action to one item (a repo.PendingItem); raises domain errors for the item's failure."""
    if item.item_kind == "visit" and item.patient_id is None:
        # Resolution found no such visit (an id sent by the client that does not exist).
        raise NotFound("visit", item.item_id)
    return _HANDLERS[context.action](session, context, item)


def _visit(session: Session, visit_id: str):
    visit = visit_repo.get(session, visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    return visit


def _audit(session: Session, context: Context, patient_id: str | None, item: Any, action: str = "patient.bulk",
           **details: Any) -> None:
    if patient_id is None:
        return
    extra = {"visit_id": item.item_id} if item.item_kind == "visit" else {}
    audit_service.record(
        session, context.actor, action, "patient", patient_id,
        {"job_id": context.job_id, "bulk_action": context.action, **extra, **details},
    )


def _confirm(session: Session, context: Context, item: Any) -> Outcome:
    visit = _visit(session, item.item_id)
    if visit.confirmation_status == "confirmed":
        return Outcome("skipped", "already_confirmed", "A visita já estava confirmada.")
    # Only a scheduled visit takes attempts: record_attempt refuses the others (visit_not_scheduled).
    visit_confirmations.record_attempt(
        session, visit.id, channel=context.params["channel"], outcome="confirmed",
        notes="Confirmação em lote", actor_id=context.actor.user_id, source="bulk",
    )
    _audit(session, context, visit.patient_id, item)
    return Outcome("ok")


def _send_message(session: Session, context: Context, item: Any) -> Outcome:
    visit = _visit(session, item.item_id)
    message = message_service.request(
        session, template=context.params["template"], channel=context.params["channel"], visit_id=visit.id,
        patient_id=visit.patient_id, actor_id=context.actor.user_id, reason="bulk",
    )
    _audit(session, context, visit.patient_id, item, message_id=str(message.id))
    return Outcome("ok", details={"message_id": str(message.id)}, message_id=str(message.id))


def _reschedule(session: Session, context: Context, item: Any) -> Outcome:
    visit = _visit(session, item.item_id)
    start, end = visit.start_at, visit.end_at
    if "date" in context.params:
        day = date.fromisoformat(context.params["date"])
        local = start.astimezone(LOCAL_TZ)
        new_start = datetime.combine(day, local.time(), tzinfo=LOCAL_TZ)
        new_end = new_start + (end - start)
    else:
        shift = timedelta(minutes=context.params["shift_minutes"])
        new_start, new_end = start + shift, end + shift
    if new_start == start and new_end == end:
        return Outcome("skipped", "unchanged", "A visita já estava nesse horário.")
    return _apply_reschedule(session, context, item, visit, start=new_start, end=new_end)


def _move_car(session: Session, context: Context, item: Any) -> Outcome:
    visit = _visit(session, item.item_id)
    if visit.car_id == context.params["car_id"]:
        return Outcome("skipped", "already_in_car", "A visita já estava neste carro.")
    return _apply_reschedule(session, context, item, visit, car_id=context.params["car_id"])


def _apply_reschedule(session: Session, context: Context, item: Any, visit: Any, **change: Any) -> Outcome:
    _, warnings = visit_service.reschedule(
        session, visit.id, **change, actor_id=context.actor.user_id, reason=f"Ação em lote {context.job_id}"
    )
    _audit(session, context, visit.patient_id, item)
    return Outcome("ok", details={"warnings": json_safe(list(warnings))} if warnings else None)


def _tags(session: Session, context: Context, item: Any) -> Outcome:
    patient = patient_repo.get(session, item.item_id)
    if patient is None:
        raise NotFound("patient", item.item_id)
    current = set(patient.tags or [])
    wanted = set(context.params["tags"])
    tags = current | wanted if context.action == "add_tags" else current - wanted
    if tags == current:
        return Outcome("skipped", "tags_unchanged", "As etiquetas do paciente já estavam assim.")
    patient_service.update(session, patient.id, {"tags": sorted(tags)})
    _audit(session, context, patient.id, item, fields=["tags"])
    return Outcome("ok")


def _export(session: Session, context: Context, item: Any) -> Outcome:
    """An export reads each item now (it must exist) and audits the read; the file is built at the end."""
    if item.item_kind == "visit":
        patient_id = _visit(session, item.item_id).patient_id
    else:
        if patient_repo.get(session, item.item_id) is None:
            raise NotFound("patient", item.item_id)
        patient_id = item.item_id
    _audit(session, context, patient_id, item, action="patient.export", format=context.params["format"])
    return Outcome("ok")


_HANDLERS: Mapping[str, Callable[[Session, Context, Any], Outcome]] = {
    "confirm": _confirm,
    "send_message": _send_message,
    "reschedule": _reschedule,
    "move_car": _move_car,
    "add_tags": _tags,
    "remove_tags": _tags,
    "export": _export,
}


def json_safe(value: Any) -> Any:
    """A JSON-serialisable copy (dates and other objects as strings)."""
    return json.loads(json.dumps(value, default=str))
