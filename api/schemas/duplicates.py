"""Duplicate review bodies: DuplicatePair (with both patients and the explanation), decisions, merges."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.patients import PatientRead, PatientReadStatus
from storage.identifiers import mask_cpf, mask_phone
from storage.patients.models import Patient

PairStatus = Literal["pending", "same", "different"]
Decision = Literal["same", "different"]
Band = Literal["review", "auto"]
FoundBy = Literal["scan", "create", "import"]
Field_ = Literal["given_name", "surname", "other_names", "birth_date", "cpf", "phone", "address", "gender"]


class DuplicatePatient(BaseModel):
    """One side of a pair: what a reviewer compares. Viewers see the CPF and phones masked."""

    id: str
    name: str
    cpf: str | None
    birth_date: date | None
    phones: list[str]
    zip_code: str | None
    city: str | None
    neighborhood: str | None
    status: PatientReadStatus
    merged_into: str | None = None

    @classmethod
    def from_row(cls, patient: Patient, masked: bool) -> "DuplicatePatient":
        """Shape a patient row for the queue, masked for viewers."""
        phones = [p["number"] for p in patient.phones or []]
        return cls(
            id=patient.id, name=patient.name, cpf=mask_cpf(patient.cpf) if masked else patient.cpf,
            birth_date=patient.birth_date, phones=[mask_phone(p) or "" for p in phones] if masked else phones,
            zip_code=patient.zip_code, city=patient.city, neighborhood=patient.neighborhood, status=patient.status,
            merged_into=patient.merged_into_id,
        )


class FieldComparison(BaseModel):
    """How one field of the two records compares: the level (`missing` when one side lacks it) and its weight in bits."""

    field: Field_
    level: str
    weight: float


class DuplicatePairRead(BaseModel):
    """A candidate pair: score = probability that both records are one person (0–1), with the reasons."""

    id: str
    score: float
    band: Band
    status: PairStatus
    found_by: FoundBy
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    patients: list[DuplicatePatient]
    explanation: list[FieldComparison]


class DuplicatePage(BaseModel):
    items: list[DuplicatePairRead]
    next_cursor: str | None


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision


class MergeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_id: str = Field(min_length=1, max_length=36)


class MergeRead(BaseModel):
    """A merge: who survived, who was merged, what moved; `patient` is the survivor after the change."""

    id: str
    survivor_id: str
    merged_id: str
    status: Literal["active", "undone"]
    created_at: datetime
    undone_at: datetime | None
    changed_fields: list[str]
    moved: dict[str, int]
    patient: PatientRead
