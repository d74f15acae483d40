"""Reindex job queries. Never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import paging
from storage.reindex.models import ReindexJob


def get(session: Session, job_id: str) -> ReindexJob | None:
    """Return the job with this id, or None."""
    return session.get(ReindexJob, job_id)


def page(session: Session, *, index: str | None, cursor: str | None, limit: int) -> paging.Page[ReindexJob]:
    """The latest jobs (optionally of one index), newest first."""
    stmt = select(ReindexJob)
    if index is not None:
        stmt = stmt.where(ReindexJob.index == index)
    return paging.keyset(session, stmt, [ReindexJob.created_at, ReindexJob.id], cursor=cursor, limit=limit,
                         descending=True)
