"""Administration: sync status of the index."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import SessionDep
from api.security import ADMIN, allow
from indexing import lifecycle
from storage import outbox

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class IndexCounts(BaseModel):
    postgres: int
    index: int | None


class SyncStatus(BaseModel):
    outbox_pending: int
    oldest_pending_seconds: float | None
    documents: dict[str, IndexCounts]


@router.get("/sync", response_model=SyncStatus, **allow(*ADMIN))
def sync_status(session: SessionDep) -> SyncStatus:
    """Outbox backlog, age of the oldest pending change, rows in PostgreSQL vs documents in the index."""
    pending, oldest = outbox.backlog(session)
    documents = {}
    for index in lifecycle.INDICES:
        rows, indexed = lifecycle.document_counts(index)
        documents[index] = IndexCounts(postgres=rows, index=indexed)
    return SyncStatus(outbox_pending=pending, oldest_pending_seconds=oldest, documents=documents)
