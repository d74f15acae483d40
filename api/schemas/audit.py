"""Audit trail bodies: AuditEventRead, AuditPage."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from storage.audit.service import ACTIONS


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_id: str | None
    # "system": the workers and the command line (storage.audit.service.SYSTEM, `python -m workers`).
    actor_role: Literal["admin", "operator", "viewer", "driver", "system"] | None
    action: Literal[tuple(sorted(ACTIONS))]  # type: ignore[valid-type]
    entity_type: str
    entity_id: str | None
    ip: str | None
    request_id: str | None
    user_agent: str | None
    details: dict[str, Any]
    # The actor's name (null for the system, or a user no longer on record).
    actor_name: str | None = None

    @classmethod
    def from_row(cls, event, names: dict[str, str]) -> "AuditEventRead":
        """Shape an AuditEvent row, its actor named from `names` (storage.users.repo.names)."""
        return cls.model_validate(event).model_copy(update={"actor_name": names.get(event.actor_id)})


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    # Pass as `before` for the next (older) page; null when there is none.
    next_cursor: str | None
