"""Bulk action bodies: BulkCreate (the request), BulkQueued (202), BulkJobRead (status, counters, item results)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.patients import PatientSearch

BulkAction = Literal["confirm", "send_message", "reschedule", "move_car", "add_tags", "remove_tags", "export"]
BulkStatus = Literal["queued", "running", "done", "failed"]


class BulkSearch(PatientSearch):
    """The patient search of GET /api/v1/patients as a job's target (`PatientSearch`); unknown keys are refused.

    `car` takes ids, or labels that name one car (422 `ambiguous_car` / `unknown_car` otherwise):
    the job stores the ids.
    """

    model_config = ConfigDict(extra="forbid")


class BulkCreate(BaseModel):
    """An action over explicit visits (`visit_ids`) or over a patient search (`search`), with its parameters.

    `params` per action: confirm `{"channel": "phone"|"sms"|"whatsapp"|"email"}`; send_message
    `{"template": "confirmation_request"|"reminder"|"reschedule_notice"|"preparation", "channel":
    "sms"|"whatsapp"}`; reschedule `{"date": "YYYY-MM-DD"}` (same local times on a new day) or
    `{"shift_minutes": n}` (earlier when negative); move_car `{"car_id"}`; add_tags/remove_tags
    `{"tags": [...]}`; export `{"format": "csv"|"xlsx", "rows": "visits"|"patients"}` (rows default:
    visits for `visit_ids`, patients for `search`).
    """

    model_config = ConfigDict(extra="forbid")

    action: BulkAction
    # At most MAX_TARGETS (storage.jobs.service) visits; an id is at most 64 characters (bulk_job_items.item_id).
    visit_ids: list[Annotated[str, Field(max_length=64)]] | None = Field(default=None, max_length=50_000)
    search: BulkSearch | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class BulkQueued(BaseModel):
    id: str
    status: BulkStatus


class BulkFailure(BaseModel):
    code: str
    message: str


class BulkDownload(BaseModel):
    filename: str
    format: Literal["csv", "xlsx"]
    size: int
    url: str


class BulkItemRead(BaseModel):
    """One item's result: `pending` until processed; `code` and pt-BR `message` for errors and skips."""

    position: int
    item_id: str
    kind: Literal["visit", "patient"]
    patient_id: str | None
    outcome: Literal["pending", "ok", "error", "skipped"]
    code: str | None
    message: str | None
    details: dict[str, Any] | None


class BulkJobRead(BaseModel):
    """A job: what, over what, status, progress (`processed` of `total`), counters and a page of item results."""

    id: str
    action: BulkAction
    target: Literal["visit_ids", "patient_search"]
    params: dict[str, Any]
    search: dict[str, Any] | None
    visit_count: int | None
    status: BulkStatus
    total: int | None
    processed: int
    succeeded: int
    failed: int
    skipped: int
    progress: float
    actor_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    failure: BulkFailure | None
    download: BulkDownload | None
    items: list[BulkItemRead]
    next_cursor: str | None
