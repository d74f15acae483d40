"""Import bodies: ImportQueued, ImportSummary, ImportRead (the report of api.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

ImportStatus = Literal["queued", "processing", "succeeded", "failed"]
IssueLevel = Literal["error", "warning", "skipped"]
VisitChange = Literal["created", "updated", "unchanged", "missing"]


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


class SkippedReason(BaseModel):
    code: str = Field(description="not_a_car_room | empty_room | repeated_header")
    message: str
    count: int


class IssueCode(BaseModel):
    code: str
    level: Literal["error", "warning"]
    count: int


class CarDayCount(BaseModel):
    """What the import did to the visits of one car on one day (the day and car it left each visit with)."""

    date: date
    car_id: str | None
    label: str | None
    base: str | None
    unit: str | None
    created: int
    updated: int
    unchanged: int
    missing: int


class ImportRead(ImportSummary):
    """The report: totals, the days it touched, skipped rows by reason, issues by code, visits by car and day,
    and its errors and warnings with the spreadsheet's own row number (at most 5,000; page them with
    `GET /imports/{id}/issues`)."""

    dates: list[date] = Field(description="Dias das visitas que a importação tocou (listadas ou ausentes)")
    skipped_by_reason: list[SkippedReason]
    issue_codes: list[IssueCode]
    by_car_day: list[CarDayCount] = Field(
        description="Vazio para importações anteriores a este registro (os totais continuam nos contadores)"
    )
    issues: list[ImportIssueRead]


class ImportIssueItem(BaseModel):
    """One issue of a row: an error, a warning, or why a row was skipped."""

    row: int
    level: IssueLevel
    code: str
    message: str
    sheet: str | None = Field(description="Nome da planilha do arquivo")
    patient_id: str | None = None
    score: float | None = None


class ImportIssuePage(BaseModel):
    items: list[ImportIssueItem]
    next_cursor: str | None
    total: int = Field(description="Quantos problemas atendem aos filtros")


class ImportVisitCar(BaseModel):
    id: str
    label: str | None
    base: str | None


class ImportVisitItem(BaseModel):
    """A visit the import created, updated, left unchanged or found missing (as the visit is now)."""

    visit_id: str
    patient_id: str
    patient_name: str | None
    date: date
    start: datetime
    end: datetime
    car: ImportVisitCar | None
    change: VisitChange


class ImportVisitPage(BaseModel):
    items: list[ImportVisitItem]
    next_cursor: str | None


class ImportPage(BaseModel):
    items: list[ImportSummary]
    next_cursor: str | None
