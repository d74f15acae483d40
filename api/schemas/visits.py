"""Visit bodies: VisitCreate, VisitUpdate, VisitRead, AttemptCreate, AttemptRead, Schedule, DriverSchedule.

The read shapes build themselves, as every schema here does (`from_row`, `from_document`): from a
visit's PostgreSQL detail (`VisitRead.from_detail`, `DriverVisit.from_detail`) or from the schedule's
index documents (`Schedule.from_result`, `DriverSchedule.from_result`), contacts and identifiers as the
reader's `Masking` shows them. Documents of mapping v1 (before `display`) are still read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, Field

from api.masking import Masking, for_role
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
from indexing.queries import visits as visit_queries
from storage.clock import LOCAL_TZ
from storage.visits.models import Visit
from storage.visits.repo import VisitDetail

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

    @classmethod
    def from_document(
        cls, doc: dict[str, Any], patient: dict[str, Any] | None, phones: list[dict] | None, mask: Masking
    ) -> "PatientContact":
        """The patient of a schedule document (its patient document; phone kinds from PostgreSQL)."""
        patient = patient or {}
        return cls(
            id=doc["patient_id"],
            name=patient.get("name") or doc.get("patient_name"),
            birth_date=patient.get("birth_date"),
            phones=_phones(phones or [], mask),
            email=mask.email(patient.get("email")),
            preferred_channel=patient.get("preferred_channel"),
            tags=patient.get("tags") or [],
            priority=patient.get("priority"),
            opted_out=bool(patient.get("opted_out")),
        )


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

    @classmethod
    def from_row(cls, visit: Visit) -> "VisitAddress":
        """The address of a Visit row."""
        return cls(
            street=visit.street, number=visit.number, complement=visit.complement, neighborhood=visit.neighborhood,
            city=visit.city, state=visit.state, zip_code=visit.zip_code, reference=visit.address_reference,
            text=visit.address_text,
        )

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "VisitAddress":
        """The address of a visit document (a v1 document has only the searchable parts and the text)."""
        address = (doc.get("display") or {}).get("address")
        if address is None:
            return cls(neighborhood=doc.get("neighborhood"), city=doc.get("city"), state=doc.get("state"),
                       zip_code=doc.get("zip_code"), text=doc.get("address"))
        return cls(**address)


class Exams(BaseModel):
    codes: list[str] = []
    names: list[str] = []
    total: int = 0

    @classmethod
    def from_row(cls, visit: Visit) -> "Exams":
        """The exams of a Visit row."""
        return cls(codes=list(visit.exam_codes or []), names=list(visit.exam_names or []), total=visit.total_exams)

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "Exams":
        """The exams of a visit document."""
        return cls(codes=doc.get("exam_codes") or [], names=(doc.get("display") or {}).get("exam_names") or [],
                   total=doc.get("total_exams") or 0)


class Payer(BaseModel):
    code: str | None = None
    name: str | None = None
    card_number: str | None = None

    @classmethod
    def from_stored(cls, payer: dict[str, Any], mask: Masking) -> "Payer":
        """A payer as stored (row or document), the card number as `mask` shows it."""
        return cls(code=payer.get("code"), name=payer.get("name"), card_number=mask.card_number(payer.get("card_number")))


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

    @classmethod
    def from_detail(cls, found: VisitDetail, mask: Masking, warnings: list[dict] | None = None) -> "VisitRead":
        """Shape a visit's detail (storage.visits.repo.detail), the patient's contacts as `mask` shows them."""
        visit, patient = found.visit, found.patient
        last = found.attempts[-1] if found.attempts else None
        return cls(
            id=visit.id,
            row_version=visit.row_version,
            date=visit.visit_date,
            start=visit.start_at.astimezone(LOCAL_TZ),
            end=visit.end_at.astimezone(LOCAL_TZ),
            status=visit.status,
            booking_status=visit.booking_status,
            patient=PatientContact(
                id=patient.id, name=patient.name, birth_date=patient.birth_date,
                phones=_phones(list(patient.phones or []), mask),
                email=mask.email(patient.email),
                preferred_channel=patient.preferred_channel, tags=list(patient.tags or []), priority=patient.priority,
                opted_out=getattr(patient, "opted_out_at", None) is not None,
            ),
            car=CarRef(id=found.car.id, label=found.car.label, base=found.car.base) if found.car else None,
            address=VisitAddress.from_row(visit),
            exams=Exams.from_row(visit),
            payers=[Payer.from_stored(p, mask) for p in visit.payers or []],
            notes=visit.notes,
            confirmation=Confirmation(
                status=visit.confirmation_status, channel=visit.confirmation_channel, confirmed_at=visit.confirmed_at,
                attempts=len(found.attempts),
                last_attempt=LastAttempt(at=last.at, channel=last.channel, outcome=last.outcome) if last else None,
            ),
            unit_code=visit.unit_code,
            unit_name=visit.unit_name,
            source_ids=found.source_ids,
            missing_from_latest_export=visit.missing_from_latest_export,
            created_at=visit.created_at,
            updated_at=visit.updated_at,
            history=[
                HistoryRead(
                    kind=h.kind, from_status=h.from_status, to_status=h.to_status, old_start=h.old_start_at,
                    new_start=h.new_start_at, old_end=h.old_end_at, new_end=h.new_end_at, old_car_id=h.old_car_id,
                    new_car_id=h.new_car_id, actor_id=h.actor_id, reason=h.reason, at=h.at,
                )
                for h in found.history
            ],
            confirmation_attempts=[AttemptRead.model_validate(a, from_attributes=True) for a in found.attempts],
            warnings=warnings or [],
        )


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

    @classmethod
    def from_document(
        cls, doc: dict[str, Any], patient: dict[str, Any] | None, phones: list[dict] | None, mask: Masking
    ) -> "ScheduleVisit":
        """Shape a visit document with its patient's document and phones (with kinds), as `mask` shows them."""
        display = doc.get("display") or {}
        payers = display.get("payers")
        if payers is None:  # a v1 document: the payers' names only
            payers = [{"name": name} for name in doc.get("health_plan") or []]
        last = None
        if doc.get("last_attempt_at"):
            last = LastAttempt(at=doc["last_attempt_at"], channel=doc.get("last_attempt_channel"),
                               outcome=doc.get("last_attempt_outcome"))
        return cls(
            id=doc["id"],
            start=doc["start"],
            end=doc["end"],
            status=doc["status"],
            booking_status=doc.get("booking_status"),
            patient=PatientContact.from_document(doc, patient, phones, mask),
            address=VisitAddress.from_document(doc),
            exams=Exams.from_document(doc),
            payers=[Payer.from_stored(p, mask) for p in payers],
            notes=display.get("notes"),
            confirmation=Confirmation(
                status=doc.get("confirmation_status") or "pending",
                channel=doc.get("confirmation_channel"),
                confirmed_at=doc.get("confirmed_at"),
                attempts=doc.get("confirmation_attempts") or 0,
                last_attempt=last,
            ),
            source_ids=doc.get("source_ids") or [],
            missing_from_latest_export=bool(doc.get("missing_from_latest_export")),
            unit_code=doc.get("unit_code"),
        )


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

    @classmethod
    def from_result(
        cls, day: date, found: visit_queries.Schedule, phones: dict[str, list[dict]], mask: Masking
    ) -> "Schedule":
        """Shape the index's schedule of a day; `phones` (with kinds, from PostgreSQL) by patient id."""
        return cls(
            date=day,
            total=found.total,
            cars=[
                ScheduleCar(
                    car_id=group.car_id, car=group.car, car_base=group.car_base,
                    visits=[
                        ScheduleVisit.from_document(
                            doc, found.patients.get(doc["patient_id"]), phones.get(doc["patient_id"]), mask
                        )
                        for doc in group.visits
                    ],
                )
                for group in found.cars
            ],
        )


class DriverPatient(BaseModel):
    name: str | None = None
    phones: list[Phone] = Field(default=[], description="Telefones com o tipo, na ordem do cadastro")


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

    @classmethod
    def from_document(
        cls, doc: dict[str, Any], patient: dict[str, Any] | None, phones: list[dict] | None
    ) -> "DriverVisit":
        """Shape a visit document with its patient's document and phones (with kinds), as a driver sees it."""
        patient = patient or {}
        return cls(
            id=doc["id"], start=doc["start"], end=doc["end"], status=doc["status"],
            patient=DriverPatient(name=patient.get("name") or doc.get("patient_name"),
                                  phones=_phones(phones or [], _DRIVER)),
            address=VisitAddress.from_document(doc), exams=Exams.from_document(doc),
            notes=(doc.get("display") or {}).get("notes"),
        )

    @classmethod
    def from_detail(cls, found: VisitDetail) -> "DriverVisit":
        """Shape a visit's detail (storage.visits.repo.detail) as a driver sees it."""
        visit, patient = found.visit, found.patient
        return cls(
            id=visit.id, start=visit.start_at.astimezone(LOCAL_TZ), end=visit.end_at.astimezone(LOCAL_TZ),
            status=visit.status,
            patient=DriverPatient(name=patient.name, phones=_phones(list(patient.phones or []), _DRIVER)),
            address=VisitAddress.from_row(visit), exams=Exams.from_row(visit), notes=visit.notes,
        )


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

    @classmethod
    def from_result(
        cls, day: date, found: visit_queries.Schedule, car_id: str, phones: dict[str, list[dict]]
    ) -> "DriverSchedule":
        """Shape the index's schedule of the driver's car (`cars` matches ids or labels: the car by id only);
        `phones` (with kinds, from PostgreSQL) by patient id."""
        cars = [
            DriverCarDay(
                car_id=group.car_id, car=group.car, car_base=group.car_base,
                visits=[
                    DriverVisit.from_document(doc, found.patients.get(doc["patient_id"]), phones.get(doc["patient_id"]))
                    for doc in group.visits
                ],
            )
            for group in found.cars
            if group.car_id == car_id
        ]
        return cls(date=day, total=sum(len(c.visits) for c in cars), cars=cars)


# What a driver sees of contacts (in full, as staff do; no identifiers).
_DRIVER = for_role("driver")


def _phones(phones: list[dict], mask: Masking) -> list[Phone]:
    """Each phone with its kind, the number as `mask` shows it (numbers too short to mask are left out)."""
    return [Phone(number=shown, kind=p["kind"]) for p in phones if (shown := mask.phone(p.get("number")))]
