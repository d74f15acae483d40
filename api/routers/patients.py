"""Patients: the canonical record (PostgreSQL) and the search (OpenSearch)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.orm import Session

from api import masking
from api.deps import SearchDep, SessionDep, commit
from api.paging import Cursor
from api.schemas.audit import AuditEventRead, AuditPage
from api.schemas.messages import MessageRead
from api.schemas.patients import (
    FacetName,
    FacetPage,
    PatientCreate,
    PatientPage,
    PatientRead,
    PatientSearch,
    PatientSuggestion,
    PatientSuggestions,
    PatientSummary,
    PatientUpdate,
    PatientVisit,
    PatientWarning,
    SearchFacets,
    VisitAttempt,
)
from api.security import ADMIN, READERS, STAFF, AuditActor, CurrentUser, allow
from indexing.queries import patients as patient_queries
from storage import paging
from storage.audit import repo as audit_repo
from storage.cars import service as car_service
from storage.clock import LOCAL_TZ
from storage.duplicates import service as duplicate_service
from storage.messages import repo as message_repo
from storage.patients import service as patient_service
from storage.users import repo as user_repo
from storage.visits import repo as visit_repo

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


ENTITY = "patient"
# How many of the latest messages the profile shows (the full log: GET /api/v1/messages?patient_id=).
PROFILE_MESSAGES = 50
# Audit ids are bigint: a larger `before` is refused as input, never sent to PostgreSQL.
MAX_BIGINT = 2**63 - 1


SearchQuery = Annotated[PatientSearch, Query()]
Sort = Annotated[Literal["relevance", "name", "next_visit", "-last_visit"], Query()]
FacetSize = Annotated[int, Query(ge=1, le=patient_queries.MAX_FACET_SIZE, description="Valores por faceta (padrão 20)")]


def _query(session: Session, search: PatientSearch, **extra: Any) -> patient_queries.PatientQuery:
    """The index query of a search, car labels resolved to ids (within the units asked for, if any)."""
    stored = search.stored()
    if stored.get("car"):
        stored["car"] = car_service.resolve_refs(session, stored["car"], units=stored.get("unit", ()))
    return patient_queries.PatientQuery.from_search(stored, **extra)


@router.get("", response_model=PatientPage, **allow(*READERS))
def search_patients(
    client: SearchDep,
    session: SessionDep,
    user: CurrentUser,
    search: SearchQuery,
    sort: Sort = "relevance",
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    facet_size: FacetSize = patient_queries.FACET_SIZE,
    facets: Annotated[bool, Query(description="false: sem facetas (`facets` nulo), para pedi-las à parte "
                                              "em GET /api/v1/patients/facets")] = True,
) -> PatientPage:
    """Search patients in the index (free text, filters, facets, cursor paging); inactive patients come last."""
    mask = masking.for_role(user.role)
    query = _query(session, search, sort=sort, page_size=page_size, cursor=cursor, facet_size=facet_size)
    session.rollback()  # the car lookup is done: no connection held while the index answers
    hits = patient_queries.search(client, query, facets=facets)
    return PatientPage(
        total=hits.total,
        items=[PatientSummary.from_document(item, mask) for item in hits.items],
        facets=hits.facets if facets else None,
        next_cursor=hits.next_cursor,
    )


# Declared before /{patient_id}, which would otherwise take this for an id.
@router.get("/facets", response_model=SearchFacets, **allow(*READERS))
def search_facets(
    client: SearchDep,
    session: SessionDep,
    search: SearchQuery,
    # Taken so the search's own URL parameters serve here too; facets depend neither on the order nor the page.
    sort: Sort = "relevance",
    facet_size: FacetSize = patient_queries.FACET_SIZE,
) -> SearchFacets:
    """Every facet of a search (same parameters as the search), as the search's own `facets`, without its hits:
    the web app asks for the results with `facets=false` and for these beside them."""
    query = _query(session, search, facet_size=facet_size)
    session.rollback()
    return SearchFacets(facets=patient_queries.search_facets(client, query))


# Declared before /{patient_id}, which would otherwise take these for an id.
@router.get("/facets/{name}", response_model=FacetPage, **allow(*READERS))
def list_facet_values(
    name: FacetName,
    client: SearchDep,
    session: SessionDep,
    search: SearchQuery,
    # Taken so the search's own URL parameters serve here too; facets do not depend on the order.
    sort: Sort = "relevance",
    prefix: Annotated[str | None, Query(max_length=100, description="Valores com uma palavra que começa assim")] = None,
    size: Annotated[int, Query(ge=1, le=patient_queries.MAX_FACET_SIZE)] = patient_queries.FACET_SIZE,
) -> FacetPage:
    """One facet of a search (same parameters as the search), up to `size` values, searchable by word prefix."""
    query = _query(session, search)
    session.rollback()
    return FacetPage(name=name, items=patient_queries.facet(client, query, name, prefix=prefix, size=size))


@router.get("/suggest", response_model=PatientSuggestions, **allow(*READERS))
def suggest_patients(
    client: SearchDep, user: CurrentUser, q: Annotated[str, Query(max_length=200)] = ""
) -> PatientSuggestions:
    """Autocomplete from the index: name or CPF prefixes → at most 10 {id, name, cpf_masked, status}."""
    found = patient_queries.suggest(client, q)
    # Autocomplete never shows a whole CPF, whoever asks: the masked form, by the one rule.
    mask = masking.for_role(None)
    return PatientSuggestions(items=[
        PatientSuggestion(id=item["id"], name=item["name"], cpf_masked=mask.cpf(item["cpf"]), status=item["status"])
        for item in found
    ])


@router.post("", response_model=PatientRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_patient(body: PatientCreate, session: SessionDep, actor: AuditActor) -> PatientRead:
    """Register a patient (audited: patient.create with the names of the fields given).

    `warnings` lists registered patients this one may be (`possible_duplicate`, with the score); they
    also enter the review queue (GET /api/v1/duplicates). A valid CPF already registered is 409.
    """
    patient = patient_service.create(session, body.changes(), actor=actor)
    warnings = duplicate_service.check_on_write(session, [patient.id], found_by="create").get(patient.id, [])
    commit(session)
    profile = PatientRead.from_row(patient)
    profile.warnings = [PatientWarning(code=w.code, patient_id=w.patient_id, score=w.score) for w in warnings]
    return profile


@router.get("/{patient_id}", response_model=PatientRead, **allow(*READERS))
def get_patient(patient_id: str, session: SessionDep, actor: AuditActor) -> PatientRead:
    """Return the full profile from PostgreSQL (audited: every read commits a patient.read row)."""
    patient = patient_service.read(session, patient_id, actor)
    mask = masking.for_role(actor.role)
    profile = _with_visits(session, PatientRead.from_row(patient, mask))
    profile.messages = [
        MessageRead.from_row(m, mask)
        for m in message_repo.list_for_patient(session, patient.id, limit=PROFILE_MESSAGES)
    ]
    commit(session)
    return profile


@router.patch("/{patient_id}", response_model=PatientRead, **allow(*STAFF))
def update_patient(patient_id: str, body: PatientUpdate, session: SessionDep, actor: AuditActor) -> PatientRead:
    """Change the fields sent; the others stay as they are (audited: the names of the fields that changed)."""
    patient = patient_service.update(session, patient_id, body.changes(), actor=actor)
    profile = _with_visits(session, PatientRead.from_row(patient))
    commit(session)
    return profile


@router.delete("/{patient_id}", status_code=status.HTTP_204_NO_CONTENT, **allow(*ADMIN))
def delete_patient(patient_id: str, session: SessionDep, actor: AuditActor) -> Response:
    """Remove a patient from the registry (and, through the outbox, from search); audited, admins only."""
    patient_service.delete(session, patient_id, actor=actor)
    commit(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{patient_id}/audit", response_model=AuditPage, **allow(*ADMIN))
def list_patient_audit(
    patient_id: str,
    session: SessionDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_BIGINT, deprecated=True, description="Use `cursor`; o id do último evento visto.")
    ] = None,
) -> AuditPage:
    """Who read or changed this patient, newest first (also for a patient since deleted)."""
    if cursor is None and before is not None:
        cursor = paging.encode([before])
    page = audit_repo.page_for_entity(session, ENTITY, patient_id, cursor=cursor, limit=limit)
    names = user_repo.names(session, (e.actor_id for e in page.items))
    return AuditPage(items=[AuditEventRead.from_row(e, names) for e in page.items], next_cursor=page.next_cursor)


def _with_visits(session: Session, profile: PatientRead) -> PatientRead:
    """Add the patient's visit history (newest first) with each visit's confirmation attempts."""
    attempts = visit_repo.patient_attempts(session, profile.id)
    profile.visits = [
        PatientVisit(
            id=v.id, date=v.visit_date, start=v.start_at.astimezone(LOCAL_TZ), end=v.end_at.astimezone(LOCAL_TZ),
            status=v.status, car_id=v.car_id, car=v.car_label, confirmation_status=v.confirmation_status,
            confirmation_channel=v.confirmation_channel, confirmed_at=v.confirmed_at, exam_codes=list(v.exam_codes or []),
            missing_from_latest_export=v.missing_from_latest_export,
            confirmation_attempts=[VisitAttempt.model_validate(a, from_attributes=True) for a in attempts.get(v.id, [])],
        )
        for v in visit_repo.patient_visits(session, profile.id)
    ]
    return profile

