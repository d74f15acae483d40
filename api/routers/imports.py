"""Imports of DasaExp agenda spreadsheets: upload (202, applied by a worker), progress and report."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, UploadFile, status

from api.deps import SessionDep, commit
from api.errors import ApiError
from api.openapi import errors_for
from api.paging import Cursor
from api.schemas.imports import ImportPage, ImportQueued, ImportRead
from api.security import READERS, STAFF, CurrentUser, allow
from storage.imports import service as import_service
from storage.imports.settings import get_settings as get_import_settings
from workers import enqueue

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])

# Room for the multipart envelope around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024
_CHUNK = 1024 * 1024


@router.post("", response_model=ImportQueued, status_code=status.HTTP_202_ACCEPTED,
             responses=errors_for(400, 413, 415), **allow(*STAFF))
async def upload_import(request: Request, file: UploadFile, session: SessionDep, user: CurrentUser) -> ImportQueued:
    """Store the spreadsheet (bytes kept for audit) and queue it; 413 over the size limit, 415 if not a spreadsheet."""
    limit = get_import_settings().import_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise _too_large(limit)
    data = await _read_capped(file, limit)
    item = import_service.register_upload(session, file.filename, data, uploaded_by=user.id, max_bytes=limit)
    import_id = item.id
    commit(session)
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


@router.get("/{import_id}", response_model=ImportRead, **allow(*READERS))
def get_import(import_id: str, session: SessionDep) -> ImportRead:
    """Status, live progress (`processed_rows` of `total_rows`) and, when done, the report with its issues."""
    return ImportRead.model_validate(import_service.report(session, import_id))


async def _read_capped(file: UploadFile, limit: int) -> bytes:
    """Read the upload but never more than `limit` bytes (a lying Content-Length cannot fill memory)."""
    chunks, size = [], 0
    while chunk := await file.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "file_too_large",
        f"O arquivo passa do limite de {limit // (1024 * 1024)} MB. Divida a planilha em arquivos menores.",
        max_bytes=limit,
    )
