"""Schedule commands: book a visit by hand, reschedule it, change its status. Never commits.

Rules:
- A car, or a patient, with another *live* visit (not cancelled, still listed by its
  export) whose [start, end) overlaps the new slot → `Conflict("visit_overlap_car" |
  "visit_overlap_patient")` naming the other visit (`details.visit_id`). Adjacent slots
  (07:20–08:00 then 08:00–08:40) do not overlap. The check runs with the car rows and
  the patient row locked (`FOR NO KEY UPDATE`, cars in id order, then the patient), so
  two concurrent bookings of one car or one patient cannot both pass.
- A car with more live visits on the local day than its `daily_capacity` is a warning
  (`car_over_capacity`), never an error; so is a car in maintenance or inactive
  (`car_not_active`).
- Status transitions: scheduled → cancelled | collected | no_show; cancelled →
  scheduled (reinstated, overlaps checked again); collected and no_show → scheduled
  only, to correct a mistaken mark (overlaps checked again). Anything else →
  `Conflict("visit_status_transition")`. Asking for the current status changes nothing.
- Only a scheduled visit can be rescheduled; a new start resets the confirmation to
  pending (the patient confirmed the old time). A new start without an end keeps the
  duration.
- An inactive patient is not booked: a new visit, a reschedule or a reinstatement of one
  of their visits → `Conflict("patient_inactive")` (reactivate the patient first). Imports
  are the lab's own bookings and are not refused.
- Every change bumps the visit's row_version, writes a history row
  (`VisitStatusChange`) and marks the visit changed (`storage.indexed`: its document and
  its patient's are rewritten).

Visits made here have no source rows; `visit_date` is the America/Sao_Paulo day of
the start. Times may be aware datetimes or ISO strings; naive ones are local time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from storage import indexed
from storage.clock import LOCAL_TZ
from storage.errors import Conflict, Invalid, NotFound
from storage.visits import repo
from storage.visits.models import STATUSES, Visit, VisitStatusChange

VISIT = "visit"

# Allowed status moves (see the module docstring).
TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"cancelled", "collected", "no_show"}),
    "cancelled": frozenset({"scheduled"}),
    "collected": frozenset({"scheduled"}),
    "no_show": frozenset({"scheduled"}),
}
STATUS_NAMES = {"scheduled": "agendada", "cancelled": "cancelada", "collected": "coletada", "no_show": "não compareceu"}
CAR_STATUS_NAMES = {"maintenance": "em manutenção", "inactive": "inativo"}

_ADDRESS = ("street", "number", "complement", "neighborhood", "city", "state", "zip_code")
_LENGTHS = {name: column.type.length for name, column in Visit.__table__.c.items() if getattr(column.type, "length", None)}
_MAX_EXAMS = 100


def create(session: Session, data: Mapping[str, Any], *, actor_id: str | None) -> tuple[Visit, list[dict]]:
    """Book a visit by hand; returns it and the warnings. Conflict on an overlapping car or patient booking.

    `data`: patient_id, car_id, start, end (required); exam_codes, exam_names, payers,
    notes; address (a mapping with street…zip_code, reference) or the same keys flat
    — by default the patient's address; payers default to the patient's health plan.
    """
    patient_id = _required_id(data.get("patient_id"), "patient_id", "Informe o paciente.")
    car_id = _required_id(data.get("car_id"), "car_id", "Informe o carro.")
    start = _when(data.get("start"), "start")
    end = _when(data.get("end"), "end")
    _check_range(start, end)

    cars = repo.lock_cars(session, [car_id])
    if car_id not in cars:
        raise NotFound("car", car_id)
    patient = repo.lock_patient(session, patient_id)
    if patient is None:
        raise NotFound("patient", patient_id)
    _check_active(patient)
    car = cars[car_id]
    _check_overlaps(session, start=start, end=end, car=car, patient_id=patient_id, exclude_id=None)

    exam_codes = _text_list(data.get("exam_codes"), "exam_codes")
    visit = Visit(
        patient_id=patient_id,
        car_id=car_id,
        start_at=start,
        end_at=end,
        visit_date=start.astimezone(LOCAL_TZ).date(),
        status="scheduled",
        confirmation_status="pending",
        exam_codes=exam_codes,
        exam_names=_exam_names(data.get("exam_names")),
        total_exams=len(exam_codes),
        payers=_payers(data.get("payers"), patient),
        notes=_clip("notes", _text(data.get("notes"))),
        unit_code=car.unit_code,
        unit_name=car.unit_name,
        missing_from_latest_export=False,
        **_address(data, patient),
    )
    session.add(visit)
    session.flush()
    session.add(VisitStatusChange(
        visit_id=visit.id, kind="created", to_status="scheduled", new_start_at=start, new_end_at=end,
        new_car_id=car_id, actor_id=actor_id, reason=_text(data.get("reason")),
    ))
    indexed.mark_changed(session, visits=[visit.id])
    session.flush()
    return visit, _warnings(session, car, visit.visit_date)


def reschedule(
    session: Session,
    visit_id: str,
    *,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    car_id: str | None = None,
    actor_id: str | None,
    reason: str | None = None,
) -> tuple[Visit, list[dict]]:
    """Move a scheduled visit to another slot and/or car; same conflict rules and warnings as `create`.

    Nothing to change → the visit as it is, no history row, no warnings.
    """
    visit = repo.get_for_update(session, visit_id)
    if visit is None:
        raise NotFound(VISIT, visit_id)
    if visit.status != "scheduled":
        raise Conflict(
            "visit_not_scheduled",
            f"Só visitas agendadas podem ser reagendadas; esta está {STATUS_NAMES[visit.status]}.",
            visit_id=visit.id,
        )
    new_start = _when(start, "start") if start is not None else visit.start_at
    if end is not None:
        new_end = _when(end, "end")
    elif start is not None:
        new_end = new_start + (visit.end_at - visit.start_at)
    else:
        new_end = visit.end_at
    new_car_id = car_id if car_id is not None else visit.car_id
    if car_id is not None and not str(car_id).strip():
        raise Invalid("missing_car_id", "Informe o carro.", field="car_id")
    _check_range(new_start, new_end)
    if (new_start, new_end, new_car_id) == (visit.start_at, visit.end_at, visit.car_id):
        return visit, []

    cars = repo.lock_cars(session, [c for c in (visit.car_id, new_car_id) if c])
    if new_car_id is not None and new_car_id not in cars:
        raise NotFound("car", new_car_id)
    _check_active(repo.lock_patient(session, visit.patient_id))
    car = cars.get(new_car_id) if new_car_id else None
    _check_overlaps(session, start=new_start, end=new_end, car=car, patient_id=visit.patient_id, exclude_id=visit.id)

    change = VisitStatusChange(
        visit_id=visit.id, kind="rescheduled", from_status=visit.status, to_status=visit.status,
        old_start_at=visit.start_at, new_start_at=new_start, old_end_at=visit.end_at, new_end_at=new_end,
        old_car_id=visit.car_id, new_car_id=new_car_id, actor_id=actor_id, reason=_text(reason),
    )
    if new_start != visit.start_at:
        # The patient confirmed the old time: the new one needs its own confirmation.
        visit.confirmation_status = "pending"
        visit.confirmed_at = None
    visit.start_at, visit.end_at, visit.car_id = new_start, new_end, new_car_id
    visit.visit_date = new_start.astimezone(LOCAL_TZ).date()
    if car is not None and car.unit_code and not visit.unit_code:
        visit.unit_code, visit.unit_name = car.unit_code, car.unit_name
    session.add(change)
    indexed.mark_changed(session, visits=[visit.id])
    session.flush()
    return visit, _warnings(session, car, visit.visit_date) if car is not None else []


def change_status(session: Session, visit_id: str, status: str, *, actor_id: str | None, reason: str | None = None) -> Visit:
    """Move a visit to another status (see TRANSITIONS); reinstating re-checks overlaps. Same status → no change."""
    if status not in STATUSES:
        raise Invalid(
            "invalid_status", "Situação inválida: use scheduled, cancelled, collected ou no_show.", field="status"
        )
    visit = repo.get_for_update(session, visit_id)
    if visit is None:
        raise NotFound(VISIT, visit_id)
    if visit.status == status:
        return visit
    if status not in TRANSITIONS[visit.status]:
        raise Conflict(
            "visit_status_transition",
            f"Uma visita {STATUS_NAMES[visit.status]} não pode passar a {STATUS_NAMES[status]}.",
            visit_id=visit.id, status=visit.status,
        )
    if status == "scheduled":
        cars = repo.lock_cars(session, [visit.car_id] if visit.car_id else [])
        _check_active(repo.lock_patient(session, visit.patient_id))
        _check_overlaps(
            session, start=visit.start_at, end=visit.end_at, car=cars.get(visit.car_id) if visit.car_id else None,
            patient_id=visit.patient_id, exclude_id=visit.id,
        )
    session.add(VisitStatusChange(
        visit_id=visit.id, kind="status", from_status=visit.status, to_status=status, actor_id=actor_id,
        reason=_text(reason),
    ))
    visit.status = status
    indexed.mark_changed(session, visits=[visit.id])
    session.flush()
    return visit


# ---------------------------------------------------------------- rules


def _check_overlaps(
    session: Session, *, start: datetime, end: datetime, car: Row | None, patient_id: str, exclude_id: str | None
) -> None:
    if car is not None:
        other = repo.overlapping(session, start=start, end=end, car_id=car.id, exclude_id=exclude_id)
        if other is not None:
            raise Conflict(
                "visit_overlap_car",
                f"O {_car_name(car.label, car.base)} já tem uma visita {_slot(other)} nesse horário.",
                visit_id=other.id,
            )
    other = repo.overlapping(session, start=start, end=end, patient_id=patient_id, exclude_id=exclude_id)
    if other is not None:
        where = f" ({other.car_label})" if other.car_label else ""
        raise Conflict(
            "visit_overlap_patient",
            f"O paciente já tem uma visita {_slot(other)}{where} nesse horário.",
            visit_id=other.id,
        )


def _check_active(patient: Row | None) -> None:
    if patient is not None and patient.status == "merged":
        raise Conflict("patient_merged", "Este cadastro foi unificado a outro paciente; agende no cadastro unificado.",
                       merged_into=patient.merged_into_id)
    if patient is not None and patient.status == "inactive":
        raise Conflict(
            "patient_inactive",
            "Paciente inativo: reative o cadastro antes de agendar, reagendar ou reativar uma visita.",
            patient_id=patient.id,
        )


def _warnings(session: Session, car: Row, day) -> list[dict]:
    warnings: list[dict] = []
    booked = repo.live_count_on_day(session, car.id, day)
    if booked > car.daily_capacity:
        warnings.append({
            "code": "car_over_capacity",
            "message": (
                f"O {_car_name(car.label, car.base)} tem {booked} visitas em {day:%d/%m/%Y}, "
                f"acima da capacidade diária de {car.daily_capacity}."
            ),
        })
    if car.status in CAR_STATUS_NAMES:
        warnings.append({
            "code": "car_not_active",
            "message": f"O {_car_name(car.label, car.base)} está {CAR_STATUS_NAMES[car.status]}.",
        })
    return warnings


# ---------------------------------------------------------------- input


def _slot(other: repo.OtherVisit) -> str:
    start, end = other.start_at.astimezone(LOCAL_TZ), other.end_at.astimezone(LOCAL_TZ)
    return f"das {start:%H:%M} às {end:%H:%M} de {start:%d/%m/%Y}"


def _car_name(label: str | None, base: str | None) -> str:
    label = label or "carro"
    return f"{label} ({base})" if base else label


def _required_id(value: Any, field: str, message: str) -> str:
    if value is None or not str(value).strip():
        raise Invalid(f"missing_{field}", message, field=field)
    return str(value).strip()


def _when(value: Any, field: str) -> datetime:
    """An aware datetime from a datetime or an ISO string; naive means America/Sao_Paulo."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise Invalid("invalid_datetime", "Data e hora inválidas: use AAAA-MM-DDTHH:MM.", field=field) from None
    if not isinstance(value, datetime):
        raise Invalid("invalid_datetime", "Informe a data e a hora.", field=field)
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value


def _check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise Invalid("invalid_time_range", "O fim da visita deve ser depois do início.", field="end")
    if end - start > timedelta(hours=12):
        raise Invalid("invalid_time_range", "Uma visita não pode durar mais de 12 horas.", field="end")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _clip(name: str, value: Any) -> Any:
    length = _LENGTHS.get(name)
    if length and isinstance(value, str) and len(value) > length:
        return value[:length]
    return value


def _text_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise Invalid("invalid_list", "Informe uma lista.", field=field)
    items: list[str] = []
    for item in value:
        text = _text(item)
        if text and text not in items:
            items.append(text)
    if len(items) > _MAX_EXAMS:
        raise Invalid("too_many_exams", f"No máximo {_MAX_EXAMS} exames por visita.", field=field)
    return items


def _exam_names(value: Any) -> list[str]:
    # Names may hold commas (see the import): kept as the texts given, never split.
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    return [text for text in (_text(item) for item in value or ()) if text]


def _payers(value: Any, patient: Row) -> list[dict]:
    if value is None:
        if not (patient.health_plan_code or patient.health_plan_name):
            return []
        return [{"code": patient.health_plan_code, "name": patient.health_plan_name,
                 "card_number": patient.health_plan_card_number}]
    payers: list[dict] = []
    for item in value:
        if not isinstance(item, Mapping):
            raise Invalid("invalid_payer", "Convênio inválido.", field="payers")
        payer = {"code": _text(item.get("code")), "name": _text(item.get("name")),
                 "card_number": _text(item.get("card_number"))}
        if (payer["code"] or payer["name"]) and payer not in payers:
            payers.append(payer)
    return payers


def _address(data: Mapping[str, Any], patient: Row) -> dict[str, Any]:
    given = data.get("address")
    if given is None and any(name in data for name in (*_ADDRESS, "reference")):
        given = data
    if given is None:
        values = {name: getattr(patient, name) for name in _ADDRESS}
        values["address_reference"] = patient.address_reference
        return values
    values = {name: _text(given.get(name)) for name in _ADDRESS}
    if values["state"]:
        values["state"] = values["state"].upper()
    if values["zip_code"]:
        digits = "".join(c for c in values["zip_code"] if c.isdigit())
        if len(digits) != 8:
            raise Invalid("invalid_zip_code", "CEP deve ter 8 dígitos.", field="address.zip_code")
        values["zip_code"] = digits
    values = {name: _clip(name, value) for name, value in values.items()}
    values["address_reference"] = _text(given.get("reference"))
    return values
