"""Imports of DasaExp agenda spreadsheets: upload (202, applied by a worker), progress and report."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api import etag
from api.deps import SessionDep, commit
from api.multipart import FileField
from api.openapi import errors_for
from api.paging import Cursor
from api.schemas.imports import (
    ImportIssueItem,
    ImportIssuePage,
    ImportPage,
    ImportQueued,
    ImportRead,
    ImportVisitItem,
    ImportVisitPage,
    IssueLevel,
    VisitChange,
)
from api.schemas.types import IsoDate
from storage.clock import LOCAL_TZ
from api.security import READERS, STAFF, CurrentUser, allow
from storage.imports import service as import_service
from storage.imports.settings import get_settings as get_import_settings
from storage.imports.uploads import file_too_large
from workers import enqueue

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])

# Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024
_CHUNK = 1024 * 1024
# The request body as the OpenAPI document shows it: the route reads the multipart stream itself.
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "A planilha (.xlsx ou .csv)."}
            },
        }}},
    }
}
_UPLOAD_ROUTE = allow(*STAFF)
_UPLOAD_ROUTE["openapi_extra"] = {**_UPLOAD_ROUTE["openapi_extra"], **_UPLOAD_BODY}


@router.post("", response_model=ImportQueued, status_code=status.HTTP_202_ACCEPTED,
             responses=errors_for(400, 413, 415), **_UPLOAD_ROUTE)
async def upload_import(request: Request, session: SessionDep, user: CurrentUser) -> ImportQueued:
    """Store the spreadsheet a chunk at a time as it arrives (bytes kept for audit, never held whole) and queue it;
    413 over the size limit, 415 if not a spreadsheet."""
    limit = get_import_settings().import_max_bytes
    too_large = file_too_large(limit)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise too_large
    field = FileField(request, "file", limit + _MULTIPART_OVERHEAD, too_large)
    upload = None
    pending = bytearray()
    async for data in field.chunks():
        if upload is None:
            upload = await run_in_threadpool(import_service.begin_upload, session, field.filename, user.id, limit)
        pending += data
        if len(pending) >= _CHUNK:
            await run_in_threadpool(upload.write, bytes(pending))
            pending.clear()
    if upload is None:  # the file part was empty
        upload = await run_in_threadpool(import_service.begin_upload, session, field.filename, user.id, limit)
    if pending:
        await run_in_threadpool(upload.write, bytes(pending))
    import_id = (await run_in_threadpool(upload.finish)).id
    await run_in_threadpool(commit, session)
    try:
        enqueue.enqueue_import(import_id)
    except Exception as error:  # stored and committed: the stalled-import sweep picks it up
        log.warning("could not queue an import", extra={"import_id": import_id, "error": type(error).__name__})
    return ImportQueued(id=import_id, status="queued")


@router.get("", response_model=ImportPage, **allow(*READERS))
def list_imports(
    session: SessionDep, cursor: Cursor = None, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> ImportPage:
    """Past imports, newest first (no issues)."""
    items, next_cursor = import_service.page_imports(session, cursor=cursor, limit=limit)
    return ImportPage(items=items, next_cursor=next_cursor)


@router.get("/{import_id}", response_model=ImportRead, responses=etag.NOT_MODIFIED, **allow(*READERS))
def get_import(import_id: str, request: Request, session: SessionDep) -> Response:
    """Status, live progress (`processed_rows` of `total_rows`) and, when done, the report with its issues.
    Weak `ETag` of the body; 304 on a matching `If-None-Match`."""
    return etag.respond(request, ImportRead.model_validate(import_service.report(session, import_id)))


@router.get("/{import_id}/issues", response_model=ImportIssuePage, **allow(*READERS))
def list_import_issues(
    import_id: str,
    session: SessionDep,
    level: IssueLevel | None = None,
    code: Annotated[str | None, Query(max_length=60, description="Código estável, ex.: missing_patient_name")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Trecho da mensagem ou número da linha")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ImportIssuePage:
    """An import's issues in row order: errors, warnings and skipped rows (`level=skipped`: rows that are not
    home visits, each with its reason code), paged, with the total under the filters; 404 `import_not_found`."""
    page = import_service.issues_page(session, import_id, level=level, code=code, q=q, cursor=cursor, limit=limit)
    sheet = page["sheet"]
    return ImportIssuePage(
        items=[
            ImportIssueItem(row=i.row, level=i.level, code=i.code, message=i.message, sheet=sheet,
                            patient_id=i.patient_id, score=i.score)
            for i in page["items"]
        ],
        next_cursor=page["next_cursor"],
        total=page["total"],
    )


@router.get("/{import_id}/visits", response_model=ImportVisitPage, **allow(*READERS))
def list_import_visits(
    import_id: str,
    session: SessionDep,
    change: VisitChange | None = None,
    day: Annotated[IsoDate | None, Query(alias="date", description="Dia da visita (como em `by_car_day`)")] = None,
    car_id: Annotated[str | None, Query(max_length=36, description="Carro (como em `by_car_day`)")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ImportVisitPage:
    """The visits the import created, updated, left unchanged or found missing (optionally of one day and car),
    by start time; patient names shown as in `GET /visits`; 404 `import_not_found`."""
    page = import_service.visits_page(session, import_id, change=change, day=day, car_id=car_id, cursor=cursor,
                                      limit=limit)
    items = []
    for item in page["items"]:
        items.append(ImportVisitItem(**{**item, "start": item["start"].astimezone(LOCAL_TZ),
                                        "end": item["end"].astimezone(LOCAL_TZ)}))
    return ImportVisitPage(items=items, next_cursor=page["next_cursor"])
