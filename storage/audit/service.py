"""Writing the audit trail. Rows are added to the caller's transaction (a change and its row commit
together); nothing here commits, updates or deletes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from storage.audit.models import AuditEvent

ACTIONS = frozenset(
    {
        "patient.read",
        "patient.create",
        "patient.update",
        "patient.delete",
        "patient.export",
        "patient.bulk",
        "patient.merge",
        "patient.unmerge",
        "duplicate.decide",
        "user.create",
        "user.update",
    }
)
USER_AGENT_MAX = 200


@dataclass(frozen=True)
class Actor:
    """Who acts and from where: the user, its role, the client address, the request id and user agent."""

    user_id: str | None
    role: str | None
    ip: str | None = None
    request_id: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(user_id=None, role="system")


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str | None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit row to the caller's transaction; `details` must hold names, never personal data."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_role=actor.role,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        ip=(actor.ip or None) and actor.ip[:45],
        request_id=(actor.request_id or None) and actor.request_id[:64],
        user_agent=(actor.user_agent or None) and actor.user_agent[:USER_AGENT_MAX],
        details=dict(details or {}),
    )
    session.add(event)
    return event


def record_reads(
    session: Session, actor: Actor, patient_ids: Iterable[str], details: Mapping[str, Any] | None = None
) -> None:
    """Add one `patient.read` row per patient (in the order given, each once) to the caller's transaction."""
    for patient_id in dict.fromkeys(patient_ids):
        record(session, actor, "patient.read", "patient", patient_id, details)


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Names (dotted for nested objects) of the fields whose values differ, sorted; never the values."""
    changed: list[str] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changed.extend(changed_fields(old, new, f"{prefix}{key}."))
        elif old != new:
            changed.append(f"{prefix}{key}")
    return changed
