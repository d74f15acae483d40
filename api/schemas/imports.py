"""Import bodies: ImportQueued, ImportSummary, ImportRead (the report of api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

ImportStatus = Literal["queued", "processing", "succeeded", "failed"]


class ImportQueued(BaseModel):
    id: str
    status: ImportStatus


class ImportFailure(BaseModel):
    code: str
    message: str


class ImportIssueRead(BaseModel):
    row: int
    level: Literal["error", "warning"]
    code: str
    message: str
    # `possible_duplicate` only: the registered patient the row's patient may be, and the score (0–1).
    patient_id: str | None = None
    score: float | None = None


class ImportSummary(BaseModel):
    """An import with its progress and totals, without the row issues."""

    id: str
    filename: str
    status: ImportStatus
    layout: Literal["dasaexp", "simplified"] | None
    size: int
    sha256: str
    uploaded_by: str | None
    uploaded_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    total_rows: int | None
    processed_rows: int
    imported: int
    skipped: int
    duplicates: int
    warnings: int
    errors: int
    patients_created: int
    patients_updated: int
    visits_created: int
    visits_updated: int
    visits_unchanged: int
    visits_missing: int
    failure: ImportFailure | None


class ImportRead(ImportSummary):
    """The report: totals and every issue with the spreadsheet's own row number."""

    issues: list[ImportIssueRead]


class ImportPage(BaseModel):
    items: list[ImportSummary]
    next_cursor: str | None
