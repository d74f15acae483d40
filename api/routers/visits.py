"""Visits: the day's schedule (from the index), booking, rescheduling, status and confirmation attempts.

Reads and changes of a visit are audited on behalf of its patient (`patient.read` /
`patient.update` rows with the visit id in the details), like the patient routes; the
schedule listing, like the patient search, is not. Staff (admin, operator) and drivers
see contacts in full; viewers see them masked. A driver sees only their own car's day,
reduced to what is needed at the door (no payers, no card numbers).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api import etag, masking
from api.deps import SearchDep, SessionDep, commit
from api.errors import ApiError
from api.schemas.types import IsoDate
from api.schemas.visits import (
    AttemptCreate,
    AttemptRead,
    DriverSchedule,
    DriverVisit,
    Schedule,
    VisitCreate,
    VisitRead,
    VisitStatus,
    VisitUpdate,
)
from api.security import READERS, STAFF, AuditActor, CurrentUser, allow, driver_car_on
from indexing.queries import visits as visit_queries
from storage.cars import service as car_service
from storage.clock import local_today
from storage.errors import NotFound
from storage.patients import repo as patient_repo
from storage.visits import audited as audited_visits
from storage.visits import repo as visit_repo

router = APIRouter(prefix="/api/v1/visits", tags=["visits"])


@router.get("", response_model=Schedule | DriverSchedule, responses=etag.NOT_MODIFIED, **allow(*READERS, "driver"))
def get_schedule(
    request: Request,
    client: SearchDep,
    session: SessionDep,
    user: CurrentUser,
    day: Annotated[IsoDate | None, Query(alias="date", description="Dia local (America/Sao_Paulo); padrão: hoje")] = None,
    car: Annotated[list[str] | None, Query(description="Id ou rótulo do carro (`CARRO 3`); repetível")] = None,
    status_: Annotated[list[VisitStatus] | None, Query(alias="status")] = None,
    unit: Annotated[str | None, Query(max_length=20, description="Código da unidade")] = None,
) -> Response:
    """The day's schedule by car and time, from the index; a driver gets their own car's day, reduced.
    Weak `ETag` of the body (`Cache-Control: private, no-cache`); 304 on a matching `If-None-Match`."""
    day = day or local_today()
    if user.role == "driver":
        return etag.respond(request, _driver_schedule(client, session, user, day, status_ or []))
    mask = masking.for_role(user.role)
    cars = car_service.resolve_refs(session, car or [], units=[unit] if unit else [])
    query = visit_queries.ScheduleQuery(day=day, cars=cars, statuses=status_ or [], unit=unit)
    found = visit_queries.schedule(client, query)
    # Phone kinds live in PostgreSQL only (the index keeps bare numbers): one look-up by the day's patient ids.
    phones = patient_repo.phones_by_id(session, [doc["patient_id"] for group in found.cars for doc in group.visits])
    schedule = Schedule.from_result(day, found, phones, mask)
    return etag.respond(request, schedule)


@router.post("", response_model=VisitRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_visit(body: VisitCreate, session: SessionDep, actor: AuditActor) -> VisitRead:
    """Book a visit by hand: 409 naming the other visit on an overlap; capacity → `warnings`."""
    data = body.model_dump(exclude_unset=True)
    data["start"], data["end"] = body.start, body.end
    visit, warnings = audited_visits.create(session, data, actor)
    result = _read(session, visit.id, actor.role, warnings)
    commit(session)
    return result


@router.get("/{visit_id}", response_model=VisitRead, **allow(*READERS))
def get_visit(visit_id: str, session: SessionDep, actor: AuditActor) -> VisitRead:
    """One visit from PostgreSQL with its history and confirmation attempts (audited as a read of the patient)."""
    result = VisitRead.from_detail(audited_visits.read(session, visit_id, actor), masking.for_role(actor.role))
    commit(session)
    return result


@router.patch("/{visit_id}", response_model=VisitRead | DriverVisit, **allow(*STAFF, "driver"))
def update_visit(
    visit_id: str, body: VisitUpdate, session: SessionDep, actor: AuditActor, user: CurrentUser
) -> VisitRead | DriverVisit:
    """Reschedule (`start`, `end`, `car_id`) and/or change the status; 409 on an overlap or a forbidden move.

    With both: reinstating (`status: scheduled`) happens before the new slot is checked,
    any other status after it. A driver may only mark a visit of their car that day `collected` or
    `no_show` (with an optional `reason`), from scheduled: 403 `driver_field_forbidden` for anything
    else, `not_your_car` for another car's visit; they get the visit as the driver's schedule shows it.
    """
    if user.role == "driver":
        return _driver_update(session, user, actor, visit_id, body)
    changes = body.model_dump(exclude_unset=True)
    if any(changes.get(name, "") is None for name in audited_visits.RESLOT_FIELDS):
        raise ApiError(422, "missing_value", "Início, fim e carro não podem ser vazios.")
    _, warnings = audited_visits.update(session, visit_id, changes, actor)
    result = _read(session, visit_id, actor.role, warnings)
    commit(session)
    return result


@router.post("/{visit_id}/confirmation-attempts", response_model=AttemptRead, status_code=status.HTTP_201_CREATED,
             **allow(*STAFF))
def create_confirmation_attempt(visit_id: str, body: AttemptCreate, session: SessionDep, actor: AuditActor) -> AttemptRead:
    """Record a confirmation attempt (channel, outcome, notes; the operator and time are recorded)."""
    attempt = audited_visits.record_attempt(
        session, visit_id, channel=body.channel, outcome=body.outcome, notes=body.notes, actor=actor,
    )
    result = AttemptRead.model_validate(attempt, from_attributes=True)
    commit(session)
    return result


# What a driver may set, and to what.
DRIVER_FIELDS = frozenset({"status", "reason"})
DRIVER_STATUSES = frozenset({"collected", "no_show"})


def _driver_update(session, user, actor, visit_id: str, body: VisitUpdate) -> DriverVisit:
    """A driver marks a visit of their car that day collected or no-show; history and audit name the driver."""
    changes = body.model_dump(exclude_unset=True)
    if set(changes) - DRIVER_FIELDS or changes.get("status") not in DRIVER_STATUSES:
        raise ApiError(403, "driver_field_forbidden",
                       "Motoristas só podem marcar a visita como coletada ou ausente (com um motivo opcional).")
    visit = visit_repo.get(session, visit_id)
    if visit is None:
        raise NotFound("visit", visit_id)
    if visit.car_id is None or driver_car_on(session, user, visit.visit_date) != visit.car_id:
        raise ApiError(403, "not_your_car", "Esta visita não é do carro da sua equipe nesta data.")
    audited_visits.update(session, visit_id, changes, actor)
    result = _driver_read(session, visit_id)
    commit(session)
    return result


def _driver_read(session, visit_id: str) -> DriverVisit:
    found = visit_repo.detail(session, visit_id)
    if found is None:
        raise NotFound("visit", visit_id)
    return DriverVisit.from_detail(found)


# ---------------------------------------------------------------- shaping


def _driver_schedule(client, session, user, day: date, statuses: list[str]) -> DriverSchedule:
    try:
        car_id = driver_car_on(session, user, day)
    except ApiError as error:
        if error.code != "no_car_assigned":
            raise
        # No car that day: nothing to drive to.
        return DriverSchedule(date=day, total=0, cars=[])
    found = visit_queries.schedule(client, visit_queries.ScheduleQuery(day=day, cars=[car_id], statuses=statuses))
    own = [doc["patient_id"] for group in found.cars if group.car_id == car_id for doc in group.visits]
    phones = patient_repo.phones_by_id(session, own)
    return DriverSchedule.from_result(day, found, car_id, phones)


def _read(session, visit_id: str, role: str | None, warnings: list[dict] | None = None) -> VisitRead:
    found = visit_repo.detail(session, visit_id)
    if found is None:
        raise NotFound("visit", visit_id)
    return VisitRead.from_detail(found, masking.for_role(role), warnings)

