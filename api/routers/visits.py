"""Visits: the day's schedule (from the index), booking, rescheduling, status and confirmation attempts.

Reads and changes of a visit are audited on behalf of its patient (`patient.read` /
`patient.update` rows with the visit id in the details), like the patient routes; the
schedule listing, like the patient search, is not. Staff (admin, operator) and drivers
see contacts in full; viewers see them masked. A driver sees only their own car's day,
reduced to what is needed at the door (no payers, no card numbers).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from api import etag, masking
from api.deps import SearchDep, SessionDep, commit
from api.errors import ApiError
from api.schemas.types import IsoDate
from api.schemas.visits import (
    AttemptCreate,
    AttemptRead,
    CarRef,
    Confirmation,
    DriverCarDay,
    DriverPatient,
    DriverSchedule,
    DriverVisit,
    Exams,
    HistoryRead,
    LastAttempt,
    PatientContact,
    Payer,
    Phone,
    Schedule,
    ScheduleCar,
    ScheduleVisit,
    VisitAddress,
    VisitCreate,
    VisitRead,
    VisitStatus,
    VisitUpdate,
)
from api.security import READERS, STAFF, AuditActor, CurrentUser, allow, driver_car_on
from indexing.queries import visits as visit_queries
from storage.audit import service as audit_service
from storage.cars import service as car_service
from storage.clock import LOCAL_TZ, local_today
from storage.errors import NotFound
from storage.patients import repo as patient_repo
from storage.visits import confirmations
from storage.visits import repo as visit_repo
from storage.visits import service as visit_service

router = APIRouter(prefix="/api/v1/visits", tags=["visits"])

PATIENT = "patient"


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
    schedule = Schedule(
        date=day,
        total=found.total,
        cars=[
            ScheduleCar(
                car_id=group.car_id, car=group.car, car_base=group.car_base,
                visits=[
                    _schedule_visit(doc, found.patients.get(doc["patient_id"]), phones.get(doc["patient_id"]), mask)
                    for doc in group.visits
                ],
            )
            for group in found.cars
        ],
    )
    return etag.respond(request, schedule)


@router.post("", response_model=VisitRead, status_code=status.HTTP_201_CREATED, **allow(*STAFF))
def create_visit(body: VisitCreate, session: SessionDep, actor: AuditActor) -> VisitRead:
    """Book a visit by hand: 409 naming the other visit on an overlap; capacity → `warnings`."""
    data = body.model_dump(exclude_unset=True)
    data["start"], data["end"] = body.start, body.end
    data["car_id"] = car_service.resolve_ref(session, body.car_id)
    visit, warnings = visit_service.create(session, data, actor_id=actor.user_id)
    audit_service.record(session, actor, "patient.update", PATIENT, visit.patient_id,
                         {"visit_id": visit.id, "change": "visit.create"})
    result = _read(session, visit.id, actor.role, warnings)
    commit(session)
    return result


@router.get("/{visit_id}", response_model=VisitRead, **allow(*READERS))
def get_visit(visit_id: str, session: SessionDep, actor: AuditActor) -> VisitRead:
    """One visit from PostgreSQL with its history and confirmation attempts (audited as a read of the patient)."""
    result = _read(session, visit_id, actor.role)
    audit_service.record(session, actor, "patient.read", PATIENT, result.patient.id, {"visit_id": visit_id})
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
    reslot = {k: changes[k] for k in ("start", "end", "car_id") if k in changes}
    if any(value is None for value in reslot.values()):
        raise ApiError(422, "missing_value", "Início, fim e carro não podem ser vazios.")
    if "car_id" in reslot:
        # api.md's `car` may be a label (`CARRO 9`): taken where it names one car.
        reslot["car_id"] = car_service.resolve_ref(session, reslot["car_id"])
    new_status = changes.get("status")
    warnings: list[dict] = []
    before = visit_repo.get(session, visit_id)
    if before is None:
        raise NotFound("visit", visit_id)
    fields: list[str] = []
    if new_status == "scheduled":
        _change_status(session, visit_id, new_status, actor, body.reason, fields)
    if reslot:
        visit, warnings = visit_service.reschedule(session, visit_id, **reslot, actor_id=actor.user_id,
                                                    reason=body.reason)
        fields.extend(sorted(reslot))
    if new_status is not None and new_status != "scheduled":
        _change_status(session, visit_id, new_status, actor, body.reason, fields)
    visit = visit_repo.get(session, visit_id)
    assert visit is not None
    audit_service.record(session, actor, "patient.update", PATIENT, visit.patient_id,
                         {"visit_id": visit_id, "change": "visit.update", "fields": fields})
    result = _read(session, visit_id, actor.role, warnings)
    commit(session)
    return result


@router.post("/{visit_id}/confirmation-attempts", response_model=AttemptRead, status_code=status.HTTP_201_CREATED,
             **allow(*STAFF))
def create_confirmation_attempt(visit_id: str, body: AttemptCreate, session: SessionDep, actor: AuditActor) -> AttemptRead:
    """Record a confirmation attempt (channel, outcome, notes; the operator and time are recorded)."""
    attempt = confirmations.record_attempt(
        session, visit_id, channel=body.channel, outcome=body.outcome, notes=body.notes, actor_id=actor.user_id,
    )
    audit_service.record(session, actor, "patient.update", PATIENT, attempt.patient_id,
                         {"visit_id": visit_id, "change": "visit.confirmation_attempt"})
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
    fields: list[str] = []
    _change_status(session, visit_id, changes["status"], actor, body.reason, fields)
    audit_service.record(session, actor, "patient.update", PATIENT, visit.patient_id,
                         {"visit_id": visit_id, "change": "visit.update", "fields": fields})
    result = _driver_read(session, visit_id)
    commit(session)
    return result


def _driver_read(session, visit_id: str) -> DriverVisit:
    found = visit_repo.detail(session, visit_id)
    if found is None:
        raise NotFound("visit", visit_id)
    visit, patient = found.visit, found.patient
    mask = masking.for_role("driver")
    return DriverVisit(
        id=visit.id, start=visit.start_at.astimezone(LOCAL_TZ), end=visit.end_at.astimezone(LOCAL_TZ),
        status=visit.status,
        patient=DriverPatient(name=patient.name, phones=mask.phones([p["number"] for p in patient.phones or []])),
        address=VisitAddress(
            street=visit.street, number=visit.number, complement=visit.complement, neighborhood=visit.neighborhood,
            city=visit.city, state=visit.state, zip_code=visit.zip_code, reference=visit.address_reference,
            text=visit.address_text,
        ),
        exams=Exams(codes=list(visit.exam_codes or []), names=list(visit.exam_names or []), total=visit.total_exams),
        notes=visit.notes,
    )


# ---------------------------------------------------------------- shaping


def _change_status(session, visit_id: str, new_status: str, actor, reason: str | None, fields: list[str]) -> None:
    visit = visit_repo.get(session, visit_id)
    if visit is not None and visit.status != new_status:
        fields.append("status")
    visit_service.change_status(session, visit_id, new_status, actor_id=actor.user_id, reason=reason)


def _driver_schedule(client, session, user, day: date, statuses: list[str]) -> DriverSchedule:
    try:
        car_id = driver_car_on(session, user, day)
    except ApiError as error:
        if error.code != "no_car_assigned":
            raise
        # No car that day: nothing to drive to.
        return DriverSchedule(date=day, total=0, cars=[])
    found = visit_queries.schedule(client, visit_queries.ScheduleQuery(day=day, cars=[car_id], statuses=statuses))
    # `cars` matches ids or labels; a driver's car is matched by id only.
    groups = [group for group in found.cars if group.car_id == car_id]
    cars = [
        DriverCarDay(
            car_id=group.car_id, car=group.car, car_base=group.car_base,
            visits=[_driver_visit(doc, found.patients.get(doc["patient_id"])) for doc in group.visits],
        )
        for group in groups
    ]
    return DriverSchedule(date=day, total=sum(len(c.visits) for c in cars), cars=cars)


def _address(doc: dict[str, Any]) -> VisitAddress:
    display = doc.get("display") or {}
    address = display.get("address")
    if address is None:  # a document from mapping v1 (before `display`)
        return VisitAddress(neighborhood=doc.get("neighborhood"), city=doc.get("city"), state=doc.get("state"),
                            zip_code=doc.get("zip_code"), text=doc.get("address"))
    return VisitAddress(**address)


def _exams(doc: dict[str, Any]) -> Exams:
    display = doc.get("display") or {}
    return Exams(codes=doc.get("exam_codes") or [], names=display.get("exam_names") or [],
                 total=doc.get("total_exams") or 0)


def _schedule_visit(
    doc: dict[str, Any], patient: dict[str, Any] | None, phones: list[dict] | None, mask: masking.Masking
) -> ScheduleVisit:
    display = doc.get("display") or {}
    payers = display.get("payers")
    if payers is None:
        payers = [{"name": name} for name in doc.get("health_plan") or []]
    last = None
    if doc.get("last_attempt_at"):
        last = LastAttempt(at=doc["last_attempt_at"], channel=doc.get("last_attempt_channel"),
                           outcome=doc.get("last_attempt_outcome"))
    return ScheduleVisit(
        id=doc["id"],
        start=doc["start"],
        end=doc["end"],
        status=doc["status"],
        booking_status=doc.get("booking_status"),
        patient=_contact(doc, patient, phones, mask),
        address=_address(doc),
        exams=_exams(doc),
        payers=[_payer(p, mask) for p in payers],
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


def _driver_visit(doc: dict[str, Any], patient: dict[str, Any] | None) -> DriverVisit:
    patient = patient or {}
    shown = masking.for_role("driver").phones(patient.get("phones") or [])
    return DriverVisit(
        id=doc["id"], start=doc["start"], end=doc["end"], status=doc["status"],
        patient=DriverPatient(name=patient.get("name") or doc.get("patient_name"), phones=shown),
        address=_address(doc), exams=_exams(doc), notes=(doc.get("display") or {}).get("notes"),
    )


def _contact(
    doc: dict[str, Any], patient: dict[str, Any] | None, phones: list[dict] | None, mask: masking.Masking
) -> PatientContact:
    patient = patient or {}
    return PatientContact(
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


def _phones(phones: list[dict], mask: masking.Masking) -> list[Phone]:
    """Each phone with its kind, the number as `mask` shows it (numbers too short to mask are left out)."""
    return [Phone(number=shown, kind=p["kind"]) for p in phones if (shown := mask.phone(p.get("number")))]


def _payer(payer: dict[str, Any], mask: masking.Masking) -> Payer:
    return Payer(code=payer.get("code"), name=payer.get("name"), card_number=mask.card_number(payer.get("card_number")))


def _read(session, visit_id: str, role: str | None, warnings: list[dict] | None = None) -> VisitRead:
    found = visit_repo.detail(session, visit_id)
    if found is None:
        raise NotFound("visit", visit_id)
    visit, patient, mask = found.visit, found.patient, masking.for_role(role)
    last = found.attempts[-1] if found.attempts else None
    return VisitRead(
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
        address=VisitAddress(
            street=visit.street, number=visit.number, complement=visit.complement, neighborhood=visit.neighborhood,
            city=visit.city, state=visit.state, zip_code=visit.zip_code, reference=visit.address_reference,
            text=visit.address_text,
        ),
        exams=Exams(codes=list(visit.exam_codes or []), names=list(visit.exam_names or []), total=visit.total_exams),
        payers=[_payer(p, mask) for p in visit.payers or []],
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
