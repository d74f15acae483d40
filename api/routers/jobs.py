"""Bulk actions: one action over many visits or over a patient search, run by a worker (202, then poll)."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from api.errors import ApiError
from api.deps import SearchDep, SessionDep, commit
from api.paging import Cursor
from api.schemas.jobs import (
    BulkAction,
    BulkCreate,
    BulkJobPage,
    BulkJobRead,
    BulkJobSummary,
    BulkPreview,
    BulkPreviewItem,
    BulkQueued,
    BulkStatus,
    PreviewCar,
)
from api.security import STAFF, AuditActor, allow
from indexing.queries import bulk_targets
from storage.errors import Invalid
from storage.jobs import cancelling as job_cancelling
from storage.jobs import export as job_export
from storage.jobs import listing as job_listing
from storage.jobs import service as job_service
from storage.users import repo as user_repo
from workers import enqueue

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/bulk", tags=["bulk"])


@router.post("", response_model=BulkQueued, status_code=status.HTTP_202_ACCEPTED, **allow(*STAFF))
def create_bulk_job(body: BulkCreate, session: SessionDep, client: SearchDep, actor: AuditActor) -> BulkQueued:
    """Validate the action, its parameters and its target up front (422 with a stable code), store the job and
    queue it. A search is counted now (over 50,000 patients: `too_many_targets`; none: `no_targets`) and
    resolved by the worker."""
    search = body.stored_search()
    job = job_service.create(
        session, body.action, body.params, actor=actor, visit_ids=body.visit_ids, search=search,
        patient_ids=body.patient_ids,
    )
    if job.search is not None:
        _check_search_count(client, job.search)
    job_id = job.id
    commit(session)
    try:
        enqueue.enqueue_bulk(job_id)
    except Exception as error:  # stored and committed: the stalled-job sweep picks it up
        log.warning("could not queue a bulk job", extra={"job_id": job_id, "error": type(error).__name__})
    return BulkQueued(id=job_id, status="queued")


def _check_search_count(client, search: dict) -> int:
    """How many patients a job's search matches now; 422 `too_many_targets` over the cap, `no_targets` for none."""
    matched = bulk_targets.count(client, search)
    if matched > job_service.MAX_TARGETS:
        raise job_service.too_many_targets(matched)
    if matched == 0:
        raise Invalid("no_targets", "A busca não encontrou nenhum paciente: nada a fazer.", field="search")
    return matched


@router.get("", response_model=BulkJobPage, **allow(*STAFF))
def list_bulk_jobs(
    session: SessionDep,
    actor: AuditActor,
    job_status: Annotated[BulkStatus | None, Query(alias="status")] = None,
    action: BulkAction | None = None,
    owner: Annotated[Literal["me", "all"], Query(alias="actor", description="me: as suas; all: de todos (admin)")] = "me",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> BulkJobPage:
    """Bulk jobs newest first, without their items. Operators see their own; admins may ask `actor=all`
    (an operator asking for all gets 403)."""
    if owner == "all" and actor.role != "admin":
        raise ApiError(403, "forbidden", "Só administradores veem as ações em lote de todos.")
    page = job_listing.page(
        session, actor_id=actor.user_id if owner == "me" else None, status=job_status, action=action,
        cursor=cursor, limit=limit,
    )
    names = user_repo.names(session, (job.actor_id for job in page.items))
    return BulkJobPage(
        items=[BulkJobSummary.model_validate({**job_service.summary(job), "actor_name": names.get(job.actor_id)})
               for job in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("/preview", response_model=BulkPreview, **allow(*STAFF))
def preview_bulk_job(body: BulkCreate, session: SessionDep, client: SearchDep) -> BulkPreview:
    """What a job would touch if created now, nothing stored: patients and (live) visits, whether it passes the
    cap and the first 5 targets. The same 4xx as creating it, except that `params` may be empty."""
    search = body.stored_search()
    matched = None
    if search is not None:
        clean, _, normalised, _ = job_service.validate(session, body.action, body.params, search=search,
                                                       params_optional=True)
        _check_search_count(client, normalised)
        kind = job_service.item_kind(job_service.BulkJob(action=body.action, params=clean))
        matched = bulk_targets.patient_ids(
            client, job_service.target_search(normalised, kind), limit=job_service.MAX_TARGETS + 1
        )
    found = job_listing.preview(
        session, body.action, body.params, visit_ids=body.visit_ids, search=search, patient_ids=body.patient_ids,
        matched_patient_ids=matched,
    )
    return BulkPreview(
        target=found.target, item_kind=found.item_kind, patients=found.patients, visits=found.visits,
        too_many=found.too_many,
        sample=[
            BulkPreviewItem(
                patient_id=row.patient_id, patient_name=row.patient_name, visit_id=row.visit_id, start=row.start,
                car=PreviewCar(id=row.car_id, label=row.car_label, base=row.car_base) if row.car_id else None,
            )
            for row in found.sample
        ],
    )


@router.post("/{job_id}/cancel", response_model=BulkJobSummary, status_code=status.HTTP_202_ACCEPTED,
             **allow(*STAFF))
def cancel_bulk_job(job_id: Annotated[str, Path(max_length=36)], session: SessionDep, actor: AuditActor) -> BulkJobSummary:
    """Stop a job (its creator or an admin; 403 `not_your_job`): queued → `cancelled` at once; running →
    `cancelling`, and the worker stops before its next batch (items not done stay `pending`), then
    `cancelled`. 409 `bulk_job_finished` once done, failed or cancelled."""
    job = job_cancelling.cancel(session, job_id, actor)
    commit(session)
    names = user_repo.names(session, [job.actor_id])
    return BulkJobSummary.model_validate({**job_service.summary(job), "actor_name": names.get(job.actor_id)})


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
    report = job_service.report(session, job_id, outcome=outcome, cursor=cursor, limit=limit)
    report["actor_name"] = user_repo.names(session, [report["actor_id"]]).get(report["actor_id"])
    return BulkJobRead.model_validate(report)


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
