"""The audit trail, searched as a whole (admins): who read or changed what, when and from where."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.paging import Cursor
from api.schemas.audit import AuditEventRead, AuditPage
from api.schemas.types import IsoDate
from api.security import ADMIN, allow
from storage.audit import repo as audit_repo
from storage.audit.service import ACTIONS
from storage.clock import LOCAL_TZ
from storage.errors import Invalid
from storage.users import repo as user_repo

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

# Days outside these bounds are no bound at all (and never an out-of-range timestamp in PostgreSQL).
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)
AuditAction = Literal[tuple(sorted(ACTIONS))]  # type: ignore[valid-type]


@router.get("", response_model=AuditPage, **allow(*ADMIN))
def search_audit(
    session: SessionDep,
    actor_id: Annotated[str | None, Query(max_length=36)] = None,
    action: AuditAction | None = None,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    date_from: Annotated[IsoDate | None, Query(alias="from", description="Primeiro dia (local), inclusive")] = None,
    date_to: Annotated[IsoDate | None, Query(alias="to", description="Último dia (local), inclusive")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """The audit trail newest first, by actor, action, entity and period (local days, both inclusive); each
    event with its actor's name. 422 `invalid_range` when `to` is before `from`."""
    if date_from and date_to and date_to < date_from:
        raise Invalid("invalid_range", "A data final é anterior à inicial.", field="to")
    page = audit_repo.search(
        session, actor_id=actor_id, action=action, entity_type=entity_type, entity_id=entity_id,
        since=_start_of(max(date_from, EARLIEST)) if date_from else None,
        before=_start_of(min(date_to, LATEST) + timedelta(days=1)) if date_to else None,
        cursor=cursor, limit=limit,
    )
    names = user_repo.names(session, (event.actor_id for event in page.items))
    return AuditPage(
        items=[AuditEventRead.from_row(event, names) for event in page.items],
        next_cursor=page.next_cursor,
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, LOCAL_TZ)
