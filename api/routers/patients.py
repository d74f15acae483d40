"""Patients: the canonical record (PostgreSQL) and the search (OpenSearch)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from api.deps import SearchDep, SessionDep, commit
from api.schemas.patients import PatientCreate, PatientPage, PatientRead, PatientUpdate
from indexing.queries import patients as patient_queries
from storage.errors import NotFound
from storage.patients import repo as patient_repo
from storage.patients import service as patient_service

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


@router.get("", response_model=PatientPage)
def search_patients(
    client: SearchDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    neighborhood: Annotated[list[str] | None, Query()] = None,
    city: Annotated[list[str] | None, Query()] = None,
    health_plan: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    priority: Annotated[list[str] | None, Query()] = None,
    sort: Literal["relevance", "name", "next_visit", "-last_visit"] = "relevance",
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PatientPage:
    """Search patients in the index (free text, filters, facets, cursor paging)."""
    filters = {
        "neighborhood": neighborhood or [],
        "city": city or [],
        "health_plan": health_plan or [],
        "tag": tag or [],
        "priority": priority or [],
    }
    query = patient_queries.PatientQuery(q=q, filters=filters, sort=sort, page_size=page_size, cursor=cursor)
    hits = patient_queries.search(client, query)
    return PatientPage.model_validate(hits, from_attributes=True)


@router.post("", response_model=PatientRead, status_code=status.HTTP_201_CREATED)
def create_patient(body: PatientCreate, session: SessionDep) -> PatientRead:
    """Register a patient."""
    patient = patient_service.create(session, body.changes())
    commit(session)
    return PatientRead.from_row(patient)


@router.get("/{patient_id}", response_model=PatientRead)
def get_patient(patient_id: str, session: SessionDep) -> PatientRead:
    """Return the full profile from PostgreSQL."""
    patient = patient_repo.get(session, patient_id)
    if patient is None:
        raise NotFound("patient", patient_id)
    return PatientRead.from_row(patient)


@router.patch("/{patient_id}", response_model=PatientRead)
def update_patient(patient_id: str, body: PatientUpdate, session: SessionDep) -> PatientRead:
    """Change the fields sent; the others stay as they are."""
    patient = patient_service.update(session, patient_id, body.changes())
    commit(session)
    return PatientRead.from_row(patient)


@router.delete("/{patient_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_patient(patient_id: str, session: SessionDep) -> Response:
    """Remove a patient from the registry (and, through the outbox, from search)."""
    patient_service.delete(session, patient_id)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
