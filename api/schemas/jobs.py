"""Bulk action bodies: BulkCreate (the request), BulkQueued (202), BulkJobRead (status, counters, item results)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.patients import PatientSearch

BulkAction = Literal["confirm", "send_message", "reschedule", "move_car", "add_tags", "remove_tags", "export"]
BulkStatus = Literal["queued", "running", "cancelling", "done", "failed", "cancelled"]
BulkTarget = Literal["visit_ids", "patient_search", "patient_ids"]


class BulkSearch(PatientSearch):
    """The patient search of GET /api/v1/patients as a job's target (`PatientSearch`); unknown keys are refused.

    `car` takes ids, or labels that name one car (422 `ambiguous_car` / `unknown_car` otherwise):
    the job stores the ids.
    """

    model_config = ConfigDict(extra="forbid")


class BulkCreate(BaseModel):
    """An action over explicit visits (`visit_ids`), explicit patients (`patient_ids`: for visit actions, their
    live visits from today) or a patient search (`search`), with its parameters.

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
    patient_ids: list[Annotated[str, Field(max_length=36)]] | None = Field(default=None, max_length=50_000)
    search: BulkSearch | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    def stored_search(self) -> dict[str, Any] | None:
        """The search as the job stores it (`PatientSearch.stored`), or None."""
        return self.search.stored() if self.search is not None else None


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


class PreviewCar(BaseModel):
    id: str
    label: str | None
    base: str | None


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
    # For people to read the results: the patient's name; for visit items the visit's start and car.
    patient_name: str | None = None
    start: datetime | None = None
    car: PreviewCar | None = None


class BulkJobSummary(BaseModel):
    """A job without its items: what, over what, who asked, status, progress (`processed` of `total`), counters."""

    id: str
    action: BulkAction
    target: BulkTarget
    params: dict[str, Any]
    search: dict[str, Any] | None
    visit_count: int | None
    patient_count: int | None = None
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
    actor_name: str | None = None


class BulkJobRead(BulkJobSummary):
    """A job and a page of its item results (`pending` until processed; still pending after a cancel)."""

    items: list[BulkItemRead]
    next_cursor: str | None


class BulkJobPage(BaseModel):
    items: list[BulkJobSummary]
    next_cursor: str | None


class BulkPreviewItem(BaseModel):
    """One of the first targets: the patient, and for visit actions the visit (start, car)."""

    patient_id: str | None
    patient_name: str | None
    visit_id: str | None
    start: datetime | None
    car: PreviewCar | None


class BulkPreview(BaseModel):
    """What the job would touch if created now: `patients`, `visits` (live ones), whether it passes the
    50.000 cap (`too_many`: creating it would fail with `too_many_targets`), and the first 5 targets."""

    target: BulkTarget
    item_kind: Literal["visit", "patient"]
    patients: int
    visits: int
    too_many: bool
    sample: list[BulkPreviewItem]
