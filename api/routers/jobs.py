"""Bulk actions: one action over many visits or over a patient search, run by a worker (202, then poll)."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from api.deps import SearchDep, SessionDep, commit
from api.paging import Cursor
from api.schemas.jobs import BulkCreate, BulkJobRead, BulkQueued
from api.security import STAFF, AuditActor, allow
from indexing.queries import bulk_targets
from storage.errors import Invalid
from storage.jobs import export as job_export
from storage.jobs import service as job_service
from workers import enqueue

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/bulk", tags=["bulk"])


@router.post("", response_model=BulkQueued, status_code=status.HTTP_202_ACCEPTED, **allow(*STAFF))
def create_bulk_job(body: BulkCreate, session: SessionDep, client: SearchDep, actor: AuditActor) -> BulkQueued:
    """Validate the action, its parameters and its target up front (422 with a stable code), store the job and
    queue it. A search is counted now (over 50,000 patients: `too_many_targets`; none: `no_targets`) and
    resolved by the worker."""
    search = body.search.stored() if body.search is not None else None
    job = job_service.create(session, body.action, body.params, actor=actor, visit_ids=body.visit_ids, search=search)
    if job.search is not None:
        matched = bulk_targets.count(client, job.search)
        if matched > job_service.MAX_TARGETS:
            raise job_service.too_many_targets(matched)
        if matched == 0:
            raise Invalid("no_targets", "A busca não encontrou nenhum paciente: nada a fazer.", field="search")
    job_id = job.id
    commit(session)
    try:
        enqueue.enqueue_bulk(job_id)
    except Exception as error:  # stored and committed: the stalled-job sweep picks it up
        log.warning("could not queue a bulk job", extra={"job_id": job_id, "error": type(error).__name__})
    return BulkQueued(id=job_id, status="queued")


@router.get("/{job_id}", response_model=BulkJobRead, **allow(*STAFF))
def get_bulk_job(
    job_id: str,
    session: SessionDep,
    outcome: Literal["pending", "ok", "error", "skipped"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
) -> BulkJobRead:
    """Status, progress (`processed` of `total`), counters and a page of item results (`outcome=error` for the
    failures; the next page with `cursor` = `next_cursor`)."""
    return BulkJobRead.model_validate(job_service.report(session, job_id, outcome=outcome, cursor=cursor, limit=limit))


@router.get(
    "/{job_id}/download",
    response_class=Response,
    responses={200: {"content": {m: {} for m in job_export.MEDIA_TYPES.values()}}},
    **allow(*STAFF),
)
def download_bulk_export(job_id: str, session: SessionDep) -> Response:
    """The file of a finished export (CSV for Excel pt-BR or XLSX); 409 while it is running or if it failed."""
    filename, fmt, data = job_service.result_file(session, job_id)
    return Response(
        content=data,
        media_type=job_export.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
