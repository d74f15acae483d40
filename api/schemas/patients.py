"""Patient bodies: PatientCreate, PatientUpdate, PatientRead, PatientSummary, PatientPage, PatientSuggestions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from api.masking import Masking, for_role
from api.schemas.messages import MessageRead
from api.schemas.types import IsoDate, Strict
from storage.patients.models import Patient

Gender = Literal["female", "male", "other", "unknown"]
Channel = Literal["phone", "sms", "whatsapp", "email"]
Priority = Literal["low", "normal", "high", "urgent"]
PhoneKind = Literal["mobile", "landline", "residential", "commercial", "whatsapp", "other"]
PatientStatus = Literal["active", "inactive"]
# A record merged into another (POST /patients/{id}/merge) reads as "merged" with `merged_into`; never set by PATCH.
PatientReadStatus = Literal["active", "inactive", "merged"]
# How a visit's confirmation came: by staff (phone, sms, whatsapp, email) or, from the agenda export, app/site/other.
ConfirmationChannel = Literal["phone", "sms", "whatsapp", "email", "app", "site", "other"]
ConfirmationStatus = Literal["confirmed", "pending", "declined"]
VisitStatus = Literal["scheduled", "cancelled", "collected", "no_show"]
AttemptChannel = Literal["phone", "sms", "whatsapp", "email"]
AttemptOutcome = Literal["confirmed", "no_answer", "declined", "reschedule_requested", "wrong_number"]
AttemptSource = Literal["staff", "inbound_message", "bulk"]
MessageChannel = Literal["sms", "whatsapp"]
# patients.tags is varchar(60)[]: a longer tag would be cut to 60 characters without a word.
Tag = Annotated[str, Field(max_length=60)]
FacetName = Literal["confirmation_status", "car", "unit", "neighborhood", "health_plan", "tag"]
_FULL = for_role("admin")


class PhoneIn(Strict):
    number: str = Field(max_length=40)
    kind: PhoneKind | None = None


class Address(Strict):
    street: str | None = Field(default=None, max_length=200)
    number: str | None = Field(default=None, max_length=30)
    complement: str | None = Field(default=None, max_length=200)
    neighborhood: str | None = Field(default=None, max_length=120)
    city: str | None = Field(default=None, max_length=120)
    state: str | None = Field(default=None, max_length=2)
    zip_code: str | None = Field(default=None, max_length=12)
    reference: str | None = Field(default=None, max_length=300)


class HealthPlan(Strict):
    code: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, max_length=120)
    plan: str | None = Field(default=None, max_length=120)
    card_number: str | None = Field(default=None, max_length=30)
    valid_until: IsoDate | None = None
    authorization_notes: str | None = Field(default=None, max_length=2000)


class PatientFields(Strict):
    cpf: str | None = Field(default=None, max_length=20)
    birth_date: IsoDate | None = None
    gender: Gender | None = None
    phones: list[Annotated[str, Field(max_length=40)] | PhoneIn] | None = Field(default=None, max_length=10)
    email: Annotated[EmailStr, Field(max_length=254)] | None = None
    preferred_channel: Channel | None = None
    preferred_contact_time: str | None = Field(default=None, max_length=100)
    address: Address | None = None
    health_plan: HealthPlan | None = None
    tags: list[Tag] | None = Field(default=None, max_length=30)
    priority: Priority | None = None
    special_needs: str | None = Field(default=None, max_length=2000)
    collection_preferences: str | None = Field(default=None, max_length=2000)
    notes: str | None = Field(default=None, max_length=4000)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, as plain data for the storage service."""
        return self.model_dump(exclude_unset=True)


class PatientCreate(PatientFields):
    name: str = Field(min_length=1, max_length=200)


class PatientUpdate(PatientFields):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: PatientStatus | None = None


class Phone(BaseModel):
    number: str
    kind: PhoneKind


class VisitAttempt(BaseModel):
    """A confirmation attempt of one of the patient's visits."""

    id: str
    channel: AttemptChannel
    outcome: AttemptOutcome
    notes: str | None
    actor_id: str | None
    source: AttemptSource
    at: datetime


class PatientVisit(BaseModel):
    """One visit of the patient's history."""

    id: str
    date: date
    start: datetime
    end: datetime
    status: VisitStatus
    car_id: str | None
    car: str | None
    confirmation_status: ConfirmationStatus
    confirmation_channel: ConfirmationChannel | None
    confirmed_at: datetime | None
    exam_codes: list[str]
    missing_from_latest_export: bool
    confirmation_attempts: list[VisitAttempt] = []


class PatientWarning(BaseModel):
    """Something to look at about a saved patient: `possible_duplicate` of `patient_id` with `score` (0–1)."""

    code: Literal["possible_duplicate"]
    patient_id: str
    score: float


class PatientRead(BaseModel):
    """The full profile from PostgreSQL."""

    id: str
    name: str
    cpf: str | None
    birth_date: date | None
    gender: Gender | None
    phones: list[Phone]
    email: str | None
    preferred_channel: Channel | None
    preferred_contact_time: str | None
    address: Address
    health_plan: HealthPlan
    tags: list[str]
    priority: Priority
    special_needs: str | None
    collection_preferences: str | None
    notes: str | None
    status: PatientReadStatus
    # The patient this record was merged into (status "merged"): follow it for the person's record.
    merged_into: str | None = None
    row_version: int
    created_at: datetime
    updated_at: datetime
    # The visit history, newest first, each with its confirmation attempts (GET and PATCH fill it).
    visits: list[PatientVisit] = []
    # Set when the patient answered SAIR: no message is sent to them any more.
    opted_out_at: datetime | None = None
    opted_out_channel: MessageChannel | None = None
    # The latest 50 messages sent to the patient, newest first (GET fills it; viewers see phones masked).
    messages: list[MessageRead] = []
    # POST only: registered patients this one may be (`possible_duplicate`), best score first.
    warnings: list[PatientWarning] = []

    @classmethod
    def from_row(cls, patient: Patient, mask: Masking = _FULL) -> "PatientRead":
        """Shape a Patient row as the API profile, identifiers and contacts as `mask` shows them (api.masking)."""
        return cls(
            id=patient.id,
            name=patient.name,
            cpf=mask.cpf(patient.cpf),
            birth_date=patient.birth_date,
            gender=patient.gender,
            phones=[Phone(number=shown, kind=p["kind"]) for p in patient.phones or []
                    if (shown := mask.phone(p["number"]))],
            email=mask.email(patient.email),
            preferred_channel=patient.preferred_channel,
            preferred_contact_time=patient.preferred_contact_time,
            address=Address(
                street=patient.street,
                number=patient.number,
                complement=patient.complement,
                neighborhood=patient.neighborhood,
                city=patient.city,
                state=patient.state,
                zip_code=patient.zip_code,
                reference=patient.address_reference,
            ),
            health_plan=HealthPlan(
                code=patient.health_plan_code,
                name=patient.health_plan_name,
                plan=patient.health_plan_plan,
                card_number=mask.card_number(patient.health_plan_card_number),
                valid_until=patient.health_plan_valid_until,
                authorization_notes=patient.health_plan_authorization_notes,
            ),
            tags=list(patient.tags or []),
            priority=patient.priority,
            special_needs=patient.special_needs,
            collection_preferences=patient.collection_preferences,
            notes=patient.notes,
            status=patient.status,
            merged_into=patient.merged_into_id,
            row_version=patient.row_version,
            created_at=patient.created_at,
            updated_at=patient.updated_at,
            opted_out_at=patient.opted_out_at,
            opted_out_channel=patient.opted_out_channel,
        )


# One filter value (a car, a neighbourhood…) and how many values one filter takes.
SearchValue = Annotated[str, Field(max_length=200)]
SearchValues = Annotated[list[SearchValue], Field(max_length=100)]
_SEARCH_LISTS = ("confirmation_status", "car", "unit", "neighborhood", "city", "health_plan", "tag", "priority", "status")


class PatientSearch(BaseModel):
    """The patient search: the query parameters of GET /api/v1/patients (and of its facets), and a bulk
    job's `search` (repeated parameters are lists; in a JSON body a single string is taken too).

    Visit filters (`visit_from`, `visit_to`, `car`, `unit`, `confirmation_status`) must all hold on
    one live visit of the patient. `car` takes car ids (a label is accepted where it names one car:
    else 422 `ambiguous_car` with the candidates, or `unknown_car`). Neighbourhood, city, health
    plan and tag match ignoring case, accents and spaces. Filters OR within, AND across.
    """

    q: str | None = Field(default=None, max_length=200)
    confirmation_status: Annotated[list[ConfirmationStatus], Field(max_length=3)] | None = None
    visit_from: IsoDate | None = None
    visit_to: IsoDate | None = None
    car: SearchValues | None = Field(default=None, description="Id do carro (ou rótulo, se único); repetível")
    unit: SearchValues | None = Field(default=None, description="Código da unidade da visita; repetível")
    neighborhood: SearchValues | None = None
    city: SearchValues | None = None
    health_plan: SearchValues | None = None
    tag: SearchValues | None = None
    priority: Annotated[list[Priority], Field(max_length=4)] | None = None
    status: Annotated[list[PatientStatus], Field(max_length=2)] | None = Field(
        default=None, description="active | inactive; repetível"
    )
    recurring: bool | None = None

    @field_validator(*_SEARCH_LISTS, mode="before")
    @classmethod
    def _one_value(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def stored(self) -> dict[str, Any]:
        """The search as a job stores it and the index query takes it: only what was given, the text and
        values stripped, lists without blanks or repeats, dates in ISO."""
        result: dict[str, Any] = {}
        if self.q and self.q.strip():
            result["q"] = self.q.strip()
        for name in _SEARCH_LISTS:
            values = [v for v in dict.fromkeys(v.strip() for v in getattr(self, name) or ()) if v]
            if values:
                result[name] = values
        for name in ("visit_from", "visit_to"):
            if getattr(self, name) is not None:
                result[name] = getattr(self, name).isoformat()
        if self.recurring is not None:
            result["recurring"] = self.recurring
        return result


class PatientSummary(BaseModel):
    """A search hit, from the index. Viewers get the CPF and phones masked (api.masking)."""

    id: str
    name: str
    cpf: str | None = None
    birth_date: date | None = None
    phones: list[str] = []
    neighborhood: str | None = None
    city: str | None = None
    health_plan: str | None = None
    tags: list[str] = []
    priority: Priority | None = None
    status: PatientStatus | None = Field(default=None, description="active | inactive (inactive patients come last)")
    next_visit: date | None = None
    last_visit: date | None = None
    visit_count: int = 0
    highlight: dict[str, list[str]] = {}

    @classmethod
    def from_document(cls, document: dict[str, Any], mask: Masking) -> "PatientSummary":
        """Shape a search hit, identifiers and contacts as `mask` shows them."""
        return cls.model_validate(
            {**document, "cpf": mask.cpf(document.get("cpf")), "phones": mask.phones(document.get("phones") or [])}
        )


class FacetValue(BaseModel):
    """One value of a facet: `value` is what the filter takes, `label` what to show, `count` the patients.

    Neighbourhood, health plan and tag values are folded keys (lower case, no accents, single
    spaces); the label is their most common spelling (on a tie, one in mixed case). Car buckets
    (`value` = car id) add `car_id`, `base`, `unit` (the car's unit code) and `unit_name`; unit
    buckets are unit codes labelled with the unit's name; confirmation statuses are labelled in pt-BR.
    """

    value: str
    label: str
    count: int
    car_id: str | None = None
    base: str | None = None
    unit: str | None = None
    unit_name: str | None = None


class PatientFacets(BaseModel):
    """Every facet of a search, up to `facet_size` values each (most patients first)."""

    confirmation_status: list[FacetValue]
    car: list[FacetValue]
    unit: list[FacetValue]
    neighborhood: list[FacetValue]
    health_plan: list[FacetValue]
    tag: list[FacetValue]


class PatientPage(BaseModel):
    total: int
    items: list[PatientSummary]
    # null when asked with `facets=false` (then GET /api/v1/patients/facets gives them).
    facets: PatientFacets | None
    next_cursor: str | None


class SearchFacets(BaseModel):
    """Every facet of a search (GET /api/v1/patients/facets), the same as the search's own `facets`."""

    facets: PatientFacets


class FacetPage(BaseModel):
    """One facet of a search (GET /api/v1/patients/facets/{name})."""

    name: FacetName
    items: list[FacetValue]


class PatientSuggestion(BaseModel):
    """An autocomplete entry: never the whole CPF."""

    id: str
    name: str
    cpf_masked: str | None = None
    status: PatientStatus | None = None


class PatientSuggestions(BaseModel):
    items: list[PatientSuggestion]
