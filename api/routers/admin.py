"""Administration: sync status of the indices and their zero-downtime rebuild."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, status
from pydantic import BaseModel

from api.errors import ApiError
from workers import enqueue

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
def get_sync_status(session: SessionDep) -> SyncStatus:
    """Outbox backlog, age of the oldest pending change, rows in PostgreSQL vs documents in the index."""
    pending, oldest = outbox.backlog(session)
    documents = {}
    for index in lifecycle.INDICES:
        rows, indexed = lifecycle.document_counts(index)
        documents[index] = IndexCounts(postgres=rows, index=indexed)
    return SyncStatus(outbox_pending=pending, oldest_pending_seconds=oldest, documents=documents)


class ReindexRequest(BaseModel):
    index: Literal["patients", "visits"] = "patients"


class ReindexQueued(BaseModel):
    index: str
    status: Literal["queued"]


@router.post("/reindex", response_model=ReindexQueued, status_code=status.HTTP_202_ACCEPTED, **allow(*ADMIN))
def request_reindex(body: ReindexRequest | None = None) -> ReindexQueued:
    """Queue a rebuild of an index from PostgreSQL (searches keep answering; the alias swaps in one call)."""
    index = (body or ReindexRequest()).index
    try:
        enqueue.enqueue_reindex(index)
    except Exception:
        raise ApiError(503, "queue_unavailable", "Fila de tarefas indisponível; tente novamente em instantes.") from None
    return ReindexQueued(index=index, status="queued")
