"""Import commands: register an upload, apply it in committed batches, report on it.

`register_upload` runs in the caller's transaction (the API request), like every
storage command. `apply_import` is the one place in storage that opens its own
units of work: a 100k-row file must never sit in one transaction, so each batch of
a few hundred rows commits together with its issues, its counters and the
checkpoint (the spreadsheet row it reached). A run killed anywhere resumes after
the last committed batch; the counters, moved only inside those transactions,
end exactly as after one clean run (the life of resumable work: `storage.resumable`).
"""

from __future__ import annotations

import logging
import queue
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import IO, Any

from sqlalchemy import func
from sqlalchemy.orm import Session

from storage import resumable
from storage.sql import copy_rows
from storage.db import unit_of_work
from storage.errors import Invalid, NotFound
from storage.imports import applying, repo, uploads
from storage.imports.parsing import dasaexp
from storage.imports.parsing import process as parsing_process
from storage.imports.parsing.dasaexp import RowIssue
from storage.imports import report as report_queries
from storage.imports.models import COUNTERS, FILE_CHUNK_BYTES, Import, ImportIssue
from storage.imports.parsing.sources import DEFAULT_LIMITS, Limits, expanded_size
from storage.imports.settings import get_settings

log = logging.getLogger(__name__)

ENTITY = "import"
FINAL_STATUSES = ("succeeded", "failed")
WORK = resumable.Work(Import, running="processing", created="uploaded_at")
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f]+")


class Upload:
    """An upload being stored (see `begin_upload`): `write` its bytes as they arrive, then `finish`."""

    def __init__(self, session: Session, item: Import, max_bytes: int) -> None:
        self.item = item
        self._session = session
        self._writer = uploads.UploadWriter(session, item.id, max_bytes)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Store the next bytes (a full chunk goes to the database at once); Invalid `file_too_large` past the
        limit, `unsupported_file_type` once the first bytes show it is no spreadsheet."""
        self._writer.write(data)

    def finish(self) -> Import:
        """Store the rest, vet the stored file by its content and complete the import row (still queued).

        Raises Invalid like `register_upload`; the caller then rolls back, and nothing stays.
        """
        self._writer.close()
        item = self.item
        item.content_type = dasaexp.file_type(uploads.StoredFile(self._session, item.id, self._writer.size))
        item.size = self._writer.size
        item.sha256 = self._writer.sha256
        self._session.flush()
        return item


def begin_upload(
    session: Session, filename: str | None, uploaded_by: str | None = None, max_bytes: int | None = None
) -> Upload:
    """Start storing an uploaded agenda in the caller's transaction, a chunk at a time (never held whole).

    The caller writes the bytes, calls `finish()`, commits, then enqueues.
    """
    limit = max_bytes if max_bytes is not None else get_settings().import_max_bytes
    item = Import(
        filename=_clean_filename(filename), content_type=None, size=0, sha256="", uploaded_by=uploaded_by,
        status="queued",
    )
    session.add(item)
    session.flush()
    return Upload(session, item, limit)


def register_upload(
    session: Session,
    filename: str | None,
    data: bytes | IO[bytes],
    uploaded_by: str | None = None,
    max_bytes: int | None = None,
) -> Import:
    """Store an uploaded agenda (bytes kept for audit) as a queued import; the caller commits, then enqueues.

    Raises Invalid: `file_too_large` (the API answers 413), `unsupported_file_type`
    (415), and `empty_file`, `encrypted_file`, `corrupt_file`, `file_too_complex`
    for files the content check can already refuse.
    """
    upload = begin_upload(session, filename, uploaded_by, max_bytes)
    if isinstance(data, (bytes, bytearray)):
        view = memoryview(data)
        for start in range(0, len(view), FILE_CHUNK_BYTES):
            upload.write(view[start : start + FILE_CHUNK_BYTES])
    else:
        while chunk := data.read(FILE_CHUNK_BYTES):
            upload.write(chunk)
    return upload.finish()


def apply_import(
    import_id: str,
    batch_size: int | None = None,
    on_batch_committed: Callable[[], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    before_batch: Callable[[], None] | None = None,
) -> str:
    """Parse and apply an import in committed batches; return its final status. Idempotent and resumable.

    A finished import is left alone; an interrupted one resumes after its checkpoint.
    A file the parser refuses ends `failed` with the parser's code and pt-BR
    message and nothing applied. Commits its own batches (see the module docstring).
    `before_batch` runs before each batch, outside any transaction: a background import waits
    there while staff are busy (workers/staff_load.py).
    """
    size = batch_size or get_settings().import_batch_size
    with unit_of_work() as session:
        item = repo.get_for_update(session, import_id)
        if item is None:
            raise NotFound(ENTITY, import_id)
        if item.status in FINAL_STATUSES:
            return item.status
        item.status = "processing"
        item.started_at = item.started_at or func.now()
        item.attempts += 1
        filename, learned_at, checkpoint = item.filename, item.uploaded_at, item.checkpoint_row
        spool = _spool(session, import_id)  # the stream closes it
    settings = get_settings()
    try:
        stream = parsing_process.open_stream(
            spool, filename, after=checkpoint, size=size, limits=limits,
            # By what parsing reads, not by the upload's size: a small zip may inflate to a lot.
            in_child=expanded_size(spool) >= settings.import_parse_in_child_bytes,
        )
    except Invalid as error:
        return _fail(import_id, error)
    with stream:
        with unit_of_work() as session:
            item = repo.get_for_update(session, import_id)
            if item is None or item.status != "processing":
                return item.status if item else "failed"
            item.layout, item.sheet_name = stream.layout, (stream.sheet_name or None)
            # An estimate while the rows stream (exact for CSV); made exact when the import finishes.
            item.total_rows = max(stream.row_estimate, item.processed_rows)

        applier = applying.Applier(import_id, stream.layout, learned_at)
        # Small files are parsed on a second thread while this one waits on PostgreSQL (waiting
        # releases the GIL); big ones in a child process. Either way a few batches ahead at most.
        batches = _prefetch(stream.batches(), depth=2)
        try:
            for batch in batches:
                if before_batch is not None:
                    before_batch()
                with unit_of_work() as session:
                    item = repo.get_for_update(session, import_id)
                    if item is None or item.status != "processing" or item.checkpoint_row != checkpoint:
                        # Another run of the same import got here first (a redelivered task): let it finish.
                        log.warning("import superseded by another run", extra={"import_id": import_id})
                        return item.status if item else "failed"
                    applying.begin_batch(session)
                    outcome = applier.apply(session, batch)
                    _store_issues(session, import_id, outcome.issues)
                    checkpoint = batch[-1][0].row_number
                    repo.add_progress(session, import_id, outcome.deltas, len(batch), checkpoint)
                if on_batch_committed is not None:
                    on_batch_committed()
        except Invalid as error:
            # The whole sheet is validated before the first batch, so this is a file that changed under us.
            return _fail(import_id, error)
        finally:
            stream.close()  # first: a parsing child stops at once, so the prefetch thread ends quickly
            batches.close()

    with unit_of_work() as session:
        item = repo.get_for_update(session, import_id)
        if item is None or item.status != "processing":
            return item.status if item else "failed"
        applying.begin_batch(session)
        result = applying.finish(session, import_id, learned_at)
        _store_issues(session, import_id, result.issues)
        item.warnings += len(result.issues)
        item.visits_updated += result.visits_updated
        item.imported += result.visits_updated
        item.visits_missing = result.visits_missing
        item.visits_unchanged = max(result.visits_listed - item.visits_created - item.visits_updated, 0)
        item.total_rows = item.processed_rows
        item.status = "succeeded"
        item.finished_at = func.now()
    if on_batch_committed is not None:
        on_batch_committed()
    return "succeeded"


def _spool(session: Session, import_id: str) -> IO[bytes]:
    """The import's upload copied, a chunk at a time, into an unlinked temporary file (gone even if this
    process is killed): the parser reads it from there, here or in a parsing child that inherits it."""
    spool = tempfile.TemporaryFile(prefix="coleta-import-")
    try:
        uploads.copy_to(session, import_id, spool)
    except BaseException:
        spool.close()
        raise
    return spool


class _Failed:
    """An exception raised on the parsing thread, carried to the applying one."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


def _prefetch(items: Iterator, depth: int) -> Iterator:
    """Run an iterator on a background thread, `depth` items ahead; errors re-raised in the caller."""
    channel: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                channel.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="import-parser", daemon=True)
    thread.start()
    try:
        while True:
            item = channel.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)


def _store_issues(session: Session, import_id: str, issues: list[RowIssue]) -> None:
    if issues:
        copy_rows(
            session, ImportIssue.__table__,
            ("import_id", "row", "level", "code", "message", "field", "patient_id", "score"),
            ((import_id, i.row, i.level, i.code, i.message, i.field, i.patient_id, i.score) for i in issues),
        )


def _fail(import_id: str, error: Invalid) -> str:
    """Mark an import failed with the parser's code and message (nothing of it was applied)."""
    with unit_of_work() as session:
        item = repo.get_for_update(session, import_id)
        if item is None or item.status in FINAL_STATUSES:
            return item.status if item else "failed"
        item.status = "failed"
        item.failure_code = error.code
        item.failure_message = error.message
        item.finished_at = func.now()
    log.info("import failed", extra={"import_id": import_id, "code": error.code})
    return "failed"


def mark_failed(session: Session, import_id: str, code: str, message: str) -> None:
    """Give up on an import (e.g. a task that kept crashing); rows already committed stay applied."""
    item = repo.get_for_update(session, import_id)
    if item is None:
        raise NotFound(ENTITY, import_id)
    if item.status not in FINAL_STATUSES:
        item.status, item.failure_code, item.failure_message = "failed", code, message
        item.finished_at = func.now()


def report(session: Session, import_id: str, issue_limit: int | None = 5000) -> dict[str, Any]:
    """The import as `GET /api/v1/imports/{id}` shows it (api.md): status, progress, counters, the days it
    touched, skipped rows by reason, issues by code, visits by car and day, and its errors and warnings."""
    item = repo.get(session, import_id)
    if item is None:
        raise NotFound(ENTITY, import_id)
    result = summary(item)
    result["dates"] = report_queries.dates(session, import_id)
    result["skipped_by_reason"] = report_queries.skipped_by_reason(session, import_id)
    result["issue_codes"] = report_queries.issue_codes(session, import_id)
    result["by_car_day"] = report_queries.by_car_day(session, import_id)
    result["issues"] = [
        {"row": i.row, "level": i.level, "code": i.code, "message": i.message,
         **({"patient_id": i.patient_id, "score": i.score} if i.patient_id else {})}
        for i in repo.issues(session, import_id, limit=issue_limit)
    ]
    return result


def summary(item: Import) -> dict[str, Any]:
    """An import without its issues (for lists)."""
    return {
        "id": item.id,
        "filename": item.filename,
        "status": item.status,
        "layout": item.layout,
        "size": item.size,
        "sha256": item.sha256,
        "uploaded_by": item.uploaded_by,
        "uploaded_at": item.uploaded_at,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
        "total_rows": item.total_rows,
        "processed_rows": item.processed_rows,
        **{name: getattr(item, name) for name in COUNTERS},
        "visits_unchanged": item.visits_unchanged,
        "visits_missing": item.visits_missing,
        "failure": {"code": item.failure_code, "message": item.failure_message} if item.failure_code else None,
    }


def issues_page(
    session: Session, import_id: str, *, level: str | None, code: str | None, q: str | None, cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of an import's issues (errors, warnings and skipped rows) in row order, with the filtered total
    and the sheet's name; NotFound for an unknown import."""
    item = repo.get(session, import_id)
    if item is None:
        raise NotFound(ENTITY, import_id)
    items, next_cursor, total = report_queries.issues_page(session, import_id, level=level, code=code, q=q,
                                                           cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor, "total": total, "sheet": item.sheet_name}


def visits_page(
    session: Session, import_id: str, *, change: str | None, day: Any, car_id: str | None, cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """A page of the visits an import created, updated, left unchanged or found missing; NotFound for an
    unknown import."""
    if repo.get(session, import_id) is None:
        raise NotFound(ENTITY, import_id)
    page = report_queries.visits_page(session, import_id, change=change, day=day, car_id=car_id, cursor=cursor,
                                      limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


def page_imports(session: Session, *, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A page of past imports, newest first, without their issues; and the next page's cursor."""
    page = repo.page_recent(session, cursor=cursor, limit=limit)
    return [summary(item) for item in page.items], page.next_cursor


def heartbeat(session: Session, import_id: str) -> None:
    """Mark a processing import's task alive (the running task calls it every few seconds)."""
    resumable.touch(session, WORK, import_id)


def resume_stalled(
    session: Session, *, quiet: timedelta, max_attempts: int, dead_after: timedelta | None = None
) -> list[str]:
    """Imports whose task was lost or whose worker died, turned back to `queued` for another run (the caller
    enqueues them after the commit); those that already died `max_attempts` times are marked failed."""
    swept = resumable.sweep(session, WORK, quiet=quiet, max_attempts=max_attempts, dead_after=dead_after)
    for import_id, attempts in swept.exhausted.items():
        mark_failed(
            session, import_id, "import_keeps_crashing",
            f"A importação parou {attempts} vezes sem concluir. As linhas já aplicadas foram mantidas; "
            "verifique o arquivo e envie-o novamente.",
        )
    return swept.resumed


def _clean_filename(filename: str | None) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub(" ", name).strip()
    return (name or "planilha")[:255]
