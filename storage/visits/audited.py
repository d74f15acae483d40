"""The visit commands as a person runs them (through the API): each one recorded in the audit trail.

A visit's reads and changes are audited on behalf of its patient: `patient.read` / `patient.update`
rows with the visit id in the details (and, for a change, what changed: `visit.create`,
`visit.update` with the fields, `visit.confirmation_attempt`). The audit row joins the caller's
transaction, so a change and its row commit together. Imports and the workers change visits through
`service` and `confirmations` directly: they are the lab's own bookkeeping, not a person's act.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from storage.audit import service as audit_service
from storage.audit.service import Actor
from storage.cars import service as car_service
from storage.errors import NotFound
from storage.visits import confirmations, repo, service
from storage.visits.models import ConfirmationAttempt, Visit

PATIENT = "patient"
RESLOT_FIELDS = ("start", "end", "car_id")


def create(session: Session, data: Mapping[str, Any], actor: Actor) -> tuple[Visit, list[dict]]:
    """Book a visit by hand (`service.create`; `car_id` may be a car's unique label); audited as `visit.create`."""
    data = {**data, "car_id": car_service.resolve_ref(session, data["car_id"])}
    visit, warnings = service.create(session, data, actor_id=actor.user_id)
    _record_change(session, actor, visit.patient_id, visit.id, "visit.create")
    return visit, warnings


def read(session: Session, visit_id: str, actor: Actor) -> repo.VisitDetail:
    """A visit with its patient, car, history and attempts; audited as a read of the patient."""
    found = repo.detail(session, visit_id)
    if found is None:
        raise NotFound("visit", visit_id)
    audit_service.record(session, actor, "patient.read", PATIENT, found.patient.id, {"visit_id": visit_id})
    return found


def update(session: Session, visit_id: str, changes: Mapping[str, Any], actor: Actor) -> tuple[Visit, list[dict]]:
    """Reschedule (`start`, `end`, `car_id`) and/or change the `status` (with an optional `reason`).

    With both, reinstating (`status: scheduled`) happens before the new slot is checked, any
    other status after it. Audited as `visit.update` with the fields that changed.
    """
    reslot = {name: changes[name] for name in RESLOT_FIELDS if name in changes}
    if "car_id" in reslot:
        reslot["car_id"] = car_service.resolve_ref(session, reslot["car_id"])
    new_status, reason = changes.get("status"), changes.get("reason")
    visit = repo.get(session, visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    fields: list[str] = []
    warnings: list[dict] = []
    if new_status == "scheduled":
        _change_status(session, visit, new_status, actor, reason, fields)
    if reslot:
        _, warnings = service.reschedule(session, visit_id, **reslot, actor_id=actor.user_id, reason=reason)
        fields.extend(sorted(reslot))
    if new_status is not None and new_status != "scheduled":
        _change_status(session, visit, new_status, actor, reason, fields)
    _record_change(session, actor, visit.patient_id, visit_id, "visit.update", fields=fields)
    return visit, warnings


def record_attempt(
    session: Session, visit_id: str, *, channel: str, outcome: str, notes: str | None, actor: Actor
) -> ConfirmationAttempt:
    """Record a staff confirmation attempt (`confirmations.record_attempt`); audited as `visit.confirmation_attempt`."""
    attempt = confirmations.record_attempt(
        session, visit_id, channel=channel, outcome=outcome, notes=notes, actor_id=actor.user_id,
    )
    _record_change(session, actor, attempt.patient_id, visit_id, "visit.confirmation_attempt")
    return attempt


def _change_status(session: Session, visit: Visit, status: str, actor: Actor, reason: str | None,
                   fields: list[str]) -> None:
    if visit.status != status:
        fields.append("status")
    service.change_status(session, visit.id, status, actor_id=actor.user_id, reason=reason)


def _record_change(session: Session, actor: Actor, patient_id: str, visit_id: str, change: str,
                   **extra: Any) -> None:
    audit_service.record(session, actor, "patient.update", PATIENT, patient_id,
                         {"visit_id": visit_id, "change": change, **extra})
