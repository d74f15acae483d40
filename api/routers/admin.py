"""Administration: sync status of the indices and their zero-downtime rebuild."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel

from api.deps import SessionDep, commit
from api.paging import Cursor
from api.security import ADMIN, AuditActor, allow
from indexing import lifecycle
from storage.errors import NotFound
from storage import outbox
from storage.reindex import repo as reindex_repo
from storage.reindex import service as reindex_service
from workers import enqueue

log = logging.getLogger(__name__)

ReindexIndex = Literal["patients", "visits"]
ReindexStatus = Literal["queued", "backfilling", "swapping", "done", "failed"]

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
    index: ReindexIndex = "patients"


class ReindexFailure(BaseModel):
    code: str
    message: str


class ReindexJobRead(BaseModel):
    """A rebuild and how far it got: `processed` of `total` rows while backfilling, then swapping, done or failed."""

    job_id: str
    index: ReindexIndex
    status: ReindexStatus
    processed: int
    total: int | None
    new_index: str | None
    actor_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    failure: ReindexFailure | None

    @classmethod
    def from_row(cls, job) -> "ReindexJobRead":
        """Shape a ReindexJob row."""
        return cls(
            job_id=job.id, index=job.index, status=job.status, processed=job.processed, total=job.total,
            new_index=job.new_index, actor_id=job.actor_id, created_at=job.created_at, started_at=job.started_at,
            finished_at=job.finished_at,
            failure=ReindexFailure(code=job.failure_code, message=job.failure_message or "") if job.failure_code else None,
        )


class ReindexJobPage(BaseModel):
    items: list[ReindexJobRead]
    next_cursor: str | None


@router.post("/reindex", response_model=ReindexJobRead, status_code=status.HTTP_202_ACCEPTED, **allow(*ADMIN))
def request_reindex(session: SessionDep, actor: AuditActor, body: ReindexRequest | None = None) -> ReindexJobRead:
    """Queue a rebuild of an index from PostgreSQL (searches keep answering; the alias swaps in one call) and
    return the job to follow. 409 `reindex_running` (`details.job_id`) while one of the same index is queued
    or running."""
    index = (body or ReindexRequest()).index
    job = reindex_service.request(session, index, actor_id=actor.user_id)
    job_id = job.id
    commit(session)
    try:
        enqueue.enqueue_reindex(job_id)
    except Exception as error:  # stored and committed: the reindex sweep sends it when the broker is back
        log.warning("could not queue a reindex job", extra={"job_id": job_id, "error": type(error).__name__})
    job = reindex_repo.get(session, job_id)
    return ReindexJobRead.from_row(job)


@router.get("/reindex", response_model=ReindexJobPage, **allow(*ADMIN))
def list_reindex_jobs(
    session: SessionDep, index: ReindexIndex | None = None, cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReindexJobPage:
    """The latest rebuilds (optionally of one index), newest first."""
    page = reindex_repo.page(session, index=index, cursor=cursor, limit=limit)
    return ReindexJobPage(items=[ReindexJobRead.from_row(j) for j in page.items], next_cursor=page.next_cursor)


@router.get("/reindex/{job_id}", response_model=ReindexJobRead, **allow(*ADMIN))
def get_reindex_job(job_id: Annotated[str, Path(max_length=36)], session: SessionDep) -> ReindexJobRead:
    """One rebuild's status and progress (`processed` of `total` while backfilling)."""
    job = reindex_repo.get(session, job_id)
    if job is None:
        raise NotFound(reindex_service.ENTITY, job_id)
    return ReindexJobRead.from_row(job)
