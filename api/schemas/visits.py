"""Visit bodies: VisitCreate, VisitUpdate, VisitRead, AttemptCreate, AttemptRead, Schedule, DriverSchedule."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field

from api.schemas.patients import (
    Address,
    AttemptChannel,
    AttemptOutcome,
    AttemptSource,
    Channel,
    ConfirmationChannel,
    ConfirmationStatus,
    Phone,
    Priority,
    VisitStatus,
)
from api.schemas.types import IsoDateTime, Strict

# The agenda export's own booking status of a visit (None for visits booked here).
BookingStatus = Literal["scheduled", "squeezed_in", "cancelled", "other"]
HistoryKind = Literal["created", "status", "rescheduled"]


class PayerIn(Strict):
    code: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, max_length=120)
    card_number: str | None = Field(default=None, max_length=30)


class VisitCreate(Strict):
    """A visit booked by hand. Times with an offset, or local (America/Sao_Paulo) without one.

    `address` defaults to the patient's, `payers` to the patient's health plan.
    """

    patient_id: str = Field(min_length=1, max_length=36)
    car_id: str = Field(min_length=1, max_length=40, validation_alias=AliasChoices("car_id", "car"),
                        description="Id do carro, ou o rótulo (`CARRO 3`) quando um só carro o usa")
    start: IsoDateTime
    end: IsoDateTime
    exam_codes: list[Annotated[str, Field(max_length=60)]] = Field(default_factory=list, max_length=100)
    exam_names: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=100)
    payers: list[PayerIn] | None = Field(default=None, max_length=5)
    notes: str | None = Field(default=None, max_length=4000)
    address: Address | None = None
    reason: str | None = Field(default=None, max_length=500)


class VisitUpdate(Strict):
    """Reschedule (`start`, `end`, `car_id`; api.md's `car` is accepted too, an id or a unique label) and/or
    change the status.

    `reason` goes to the history.
    """

    start: IsoDateTime | None = None
    end: IsoDateTime | None = None
    car_id: str | None = Field(default=None, min_length=1, max_length=40, validation_alias=AliasChoices("car_id", "car"),
                               description="Id do carro, ou o rótulo (`CARRO 9`) quando um só carro o usa")
    status: VisitStatus | None = None
    reason: str | None = Field(default=None, max_length=500)


class AttemptCreate(Strict):
    channel: AttemptChannel
    outcome: AttemptOutcome
    notes: str | None = Field(default=None, max_length=2000)


class AttemptRead(BaseModel):
    id: str
    visit_id: str
    channel: AttemptChannel
    outcome: AttemptOutcome
    notes: str | None
    actor_id: str | None
    source: AttemptSource
    at: datetime


class HistoryRead(BaseModel):
    """One history row: `created`, `status` (from → to) or `rescheduled` (old → new slot and car)."""

    kind: HistoryKind
    from_status: VisitStatus | None
    to_status: VisitStatus | None
    old_start: datetime | None
    new_start: datetime | None
    old_end: datetime | None
    new_end: datetime | None
    old_car_id: str | None
    new_car_id: str | None
    actor_id: str | None
    reason: str | None
    at: datetime


class VisitWarning(BaseModel):
    code: str
    message: str


class PatientContact(BaseModel):
    """Who to call. Phones and e-mail in full for staff and drivers, masked for viewers."""

    id: str
    name: str | None = None
    birth_date: date | None = None
    phones: list[Phone] = Field(default=[], description="Telefones com o tipo, na ordem do cadastro")
    email: str | None = None
    preferred_channel: Channel | None = None
    tags: list[str] = []
    priority: Priority | None = None
    opted_out: bool = False


class VisitAddress(BaseModel):
    street: str | None = None
    number: str | None = None
    complement: str | None = None
    neighborhood: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    reference: str | None = None
    text: str | None = None


class Exams(BaseModel):
    codes: list[str] = []
    names: list[str] = []
    total: int = 0


class Payer(BaseModel):
    code: str | None = None
    name: str | None = None
    card_number: str | None = None


class LastAttempt(BaseModel):
    at: datetime
    channel: AttemptChannel | None = None
    outcome: AttemptOutcome | None = None


class Confirmation(BaseModel):
    status: ConfirmationStatus
    channel: ConfirmationChannel | None = None
    confirmed_at: datetime | None = None
    attempts: int = 0
    last_attempt: LastAttempt | None = None


class CarRef(BaseModel):
    id: str
    label: str | None = None
    base: str | None = None


class VisitRead(BaseModel):
    """A visit from PostgreSQL, with its history and confirmation attempts; `warnings` after a change."""

    id: str
    row_version: int
    date: date
    start: datetime
    end: datetime
    status: VisitStatus
    booking_status: BookingStatus | None
    patient: PatientContact
    car: CarRef | None
    address: VisitAddress
    exams: Exams
    payers: list[Payer]
    notes: str | None
    confirmation: Confirmation
    unit_code: str | None
    unit_name: str | None
    source_ids: list[str]
    missing_from_latest_export: bool
    created_at: datetime
    updated_at: datetime
    history: list[HistoryRead] = []
    confirmation_attempts: list[AttemptRead] = []
    warnings: list[VisitWarning] = []


class ScheduleVisit(BaseModel):
    """A visit of the schedule (from the index)."""

    id: str
    start: datetime
    end: datetime
    status: VisitStatus
    booking_status: BookingStatus | None = None
    patient: PatientContact
    address: VisitAddress
    exams: Exams
    payers: list[Payer]
    notes: str | None = None
    confirmation: Confirmation
    source_ids: list[str] = []
    missing_from_latest_export: bool = False
    unit_code: str | None = None


class ScheduleCar(BaseModel):
    car_id: str | None
    car: str | None
    car_base: str | None
    visits: list[ScheduleVisit]


class Schedule(BaseModel):
    """The day by car (natural label order, visits without a car last) and time."""

    date: date
    total: int
    cars: list[ScheduleCar]


class DriverPatient(BaseModel):
    name: str | None = None
    phones: list[str] = []


class DriverVisit(BaseModel):
    """What a driver needs at the door: time, patient, address, contacts, exams, notes (no payers)."""

    id: str
    start: datetime
    end: datetime
    status: VisitStatus
    patient: DriverPatient
    address: VisitAddress
    exams: Exams
    notes: str | None = None


class DriverCarDay(BaseModel):
    car_id: str | None
    car: str | None
    car_base: str | None
    visits: list[DriverVisit]


class DriverSchedule(BaseModel):
    """A driver's own car and day."""

    date: date
    total: int
    cars: list[DriverCarDay]
