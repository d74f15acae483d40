"""Writing the audit trail. Rows are added to the caller's transaction (a change and its row commit
together); nothing here commits, updates or deletes."""

from __future__ import annotations

from collections.abc import Mapping
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
