"""Driver, collector and team commands: create, update, delete, assign. Validate, change rows, never commit.

A car has one team per day, and a driver or a collector is in one team per day:
checked up front (so the 409 names the other team) and guarded by unique constraints
(so two concurrent assignments cannot both win).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.cars import repo as car_repo
from storage.errors import Conflict, Invalid, NotFound
from storage.identifiers import clean_name, normalize_phone
from storage.teams import repo
from storage.teams.models import COUNCILS, STATUSES, Collector, Driver, Team
from storage.users import repo as user_repo

UFS = frozenset(
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)
DRIVER_FIELDS = frozenset({"name", "phone", "status", "user_id"})
COLLECTOR_FIELDS = frozenset({"name", "phone", "status", "registration"})
TEAM_CREATE_FIELDS = frozenset({"car_id", "day", "driver_id", "collector_id", "notes"})
TEAM_UPDATE_FIELDS = frozenset({"driver_id", "collector_id", "notes"})
MAX_NOTES = 1000
_REGISTRATION_NUMBER = re.compile(r"^[0-9]{1,12}(-?[A-Z]{1,4})?$")


# ---------------------------------------------------------------- drivers


def create_driver(session: Session, data: Mapping[str, Any]) -> Driver:
    """Create a driver from {name, phone, status, user_id}; the user (role driver) may be linked to one driver only."""
    _refuse_unknown(data, DRIVER_FIELDS)
    driver = Driver(
        name=_name(data.get("name")),
        phone=_phone(data.get("phone")),
        status=_status(data.get("status", "active")),
        user_id=_user_id(session, data.get("user_id"), None),
    )
    _flush(session, driver)
    return driver


def update_driver(session: Session, driver_id: str, changes: Mapping[str, Any]) -> Driver:
    """Apply a partial update (name, phone, status, user_id)."""
    _refuse_unknown(changes, DRIVER_FIELDS)
    driver = _driver(session, driver_id)
    if "name" in changes:
        driver.name = _name(changes["name"])
    if "phone" in changes:
        driver.phone = _phone(changes["phone"])
    if "status" in changes:
        driver.status = _status(changes["status"])
    if "user_id" in changes:
        driver.user_id = _user_id(session, changes["user_id"], driver.id)
    _flush(session, driver)
    return driver


def delete_driver(session: Session, driver_id: str) -> None:
    """Delete a driver who was never in a team; Conflict `driver_has_teams` otherwise (deactivate instead)."""
    driver = _driver(session, driver_id)
    if repo.driver_has_teams(session, driver.id):
        raise Conflict("driver_has_teams", "O motorista já fez parte de equipes e não pode ser excluído; desative-o.")
    session.delete(driver)
    session.flush()


# ---------------------------------------------------------------- collectors


def create_collector(session: Session, data: Mapping[str, Any]) -> Collector:
    """Create a collector from {name, phone, status, registration: {council, number, state} | None}."""
    _refuse_unknown(data, COLLECTOR_FIELDS)
    collector = Collector(
        name=_name(data.get("name")),
        phone=_phone(data.get("phone")),
        status=_status(data.get("status", "active")),
    )
    _set_registration(session, collector, data.get("registration"))
    _flush(session, collector)
    return collector


def update_collector(session: Session, collector_id: str, changes: Mapping[str, Any]) -> Collector:
    """Apply a partial update (name, phone, status, registration)."""
    _refuse_unknown(changes, COLLECTOR_FIELDS)
    collector = _collector(session, collector_id)
    if "name" in changes:
        collector.name = _name(changes["name"])
    if "phone" in changes:
        collector.phone = _phone(changes["phone"])
    if "status" in changes:
        collector.status = _status(changes["status"])
    if "registration" in changes:
        _set_registration(session, collector, changes["registration"])
    _flush(session, collector)
    return collector


def delete_collector(session: Session, collector_id: str) -> None:
    """Delete a collector who was never in a team; Conflict `collector_has_teams` otherwise (deactivate instead)."""
    collector = _collector(session, collector_id)
    if repo.collector_has_teams(session, collector.id):
        raise Conflict(
            "collector_has_teams", "A coletora já fez parte de equipes e não pode ser excluída; desative-a."
        )
    session.delete(collector)
    session.flush()


# ---------------------------------------------------------------- teams


def assign(session: Session, data: Mapping[str, Any]) -> Team:
    """Make the team of a car for a day from {car_id, day, driver_id, collector_id, notes}.

    Conflicts: `team_exists` (the car already has a team that day), `driver_already_assigned`,
    `collector_already_assigned` (each naming the other team), `car_not_active`,
    `driver_inactive`, `collector_inactive`.
    """
    _refuse_unknown(data, TEAM_CREATE_FIELDS)
    day = _day(data.get("day"))
    car_id = _required_id(data.get("car_id"), "car_id", "Informe o carro.")
    car = car_repo.get(session, car_id)
    if car is None:
        raise NotFound("car", car_id)
    if car.status != "active":
        raise Conflict("car_not_active", "O carro não está ativo (em manutenção ou inativo) e não pode receber equipe.",
                       status=car.status)
    existing = repo.team_of_car(session, car.id, day)
    if existing is not None:
        raise Conflict("team_exists", "Este carro já tem uma equipe neste dia.", team_id=existing.id)
    team = Team(car_id=car.id, day=day, notes=_notes(data.get("notes")))
    team.driver_id = _team_driver(session, data.get("driver_id"), day, None)
    team.collector_id = _team_collector(session, data.get("collector_id"), day, None)
    _flush_team(session, team)
    return team


def update_team(session: Session, team_id: str, changes: Mapping[str, Any]) -> Team:
    """Change a team's driver, collector or notes (the same one-team-per-day rules as `assign`)."""
    _refuse_unknown(changes, TEAM_UPDATE_FIELDS)
    team = repo.get_team_for_update(session, team_id)
    if team is None:
        raise NotFound("team", team_id)
    if "driver_id" in changes and changes["driver_id"] != team.driver_id:
        team.driver_id = _team_driver(session, changes["driver_id"], team.day, team.id)
    if "collector_id" in changes and changes["collector_id"] != team.collector_id:
        team.collector_id = _team_collector(session, changes["collector_id"], team.day, team.id)
    if "notes" in changes:
        team.notes = _notes(changes["notes"])
    _flush_team(session, team)
    session.expire(team, ["driver", "collector"])  # read-only relationships: reload the new people
    return team


def delete_team(session: Session, team_id: str) -> None:
    """Undo a team (the car, driver and collector stay)."""
    team = repo.get_team_for_update(session, team_id)
    if team is None:
        raise NotFound("team", team_id)
    session.delete(team)
    session.flush()


# ---------------------------------------------------------------- helpers


def _driver(session: Session, driver_id: str) -> Driver:
    driver = repo.get_driver(session, driver_id)
    if driver is None:
        raise NotFound("driver", driver_id)
    return driver


def _collector(session: Session, collector_id: str) -> Collector:
    collector = repo.get_collector(session, collector_id)
    if collector is None:
        raise NotFound("collector", collector_id)
    return collector


def _team_driver(session: Session, value: Any, day: date, team_id: str | None) -> str:
    driver = _driver(session, _required_id(value, "driver_id", "Informe o motorista."))
    if driver.status != "active":
        raise Conflict("driver_inactive", "Motorista inativo não pode ser escalado.")
    other = repo.team_of_driver(session, driver.id, day)
    if other is not None and other.id != team_id:
        raise _driver_taken(other)
    return driver.id


def _team_collector(session: Session, value: Any, day: date, team_id: str | None) -> str:
    collector = _collector(session, _required_id(value, "collector_id", "Informe a coletora."))
    if collector.status != "active":
        raise Conflict("collector_inactive", "Coletora inativa não pode ser escalada.")
    other = repo.team_of_collector(session, collector.id, day)
    if other is not None and other.id != team_id:
        raise _collector_taken(other)
    return collector.id


def _driver_taken(other: Team | None) -> Conflict:
    details = {"team_id": other.id, "car_id": other.car_id} if other else {}
    return Conflict("driver_already_assigned", "Motorista já escalado em outra equipe neste dia.", **details)


def _collector_taken(other: Team | None) -> Conflict:
    details = {"team_id": other.id, "car_id": other.car_id} if other else {}
    return Conflict("collector_already_assigned", "Coletora já escalada em outra equipe neste dia.", **details)


# A concurrent assignment that won the race between the check and the insert.
_TEAM_CONSTRAINTS = {
    "uq_teams_car_id_day": lambda: Conflict("team_exists", "Este carro já tem uma equipe neste dia."),
    "uq_teams_driver_id_day": lambda: _driver_taken(None),
    "uq_teams_collector_id_day": lambda: _collector_taken(None),
}


def _flush_team(session: Session, team: Team) -> None:
    try:
        with session.begin_nested():
            session.add(team)
            session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint in _TEAM_CONSTRAINTS:
            raise _TEAM_CONSTRAINTS[constraint]() from None
        raise


def _flush(session: Session, row: Driver | Collector) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint == "uq_drivers_user_id":
            raise _user_linked(None) from None
        if constraint == "uq_collectors_registration":
            raise _registration_taken() from None
        raise


def _refuse_unknown(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise Invalid("unknown_fields", "Campos não permitidos.", fields=sorted(unknown))


def _name(value: Any) -> str:
    name = clean_name(value if isinstance(value, str) else None)
    if not name:
        raise Invalid("missing_name", "Informe o nome.", field="name")
    if len(name) > 200:
        raise Invalid("invalid_name", "O nome deve ter no máximo 200 caracteres.", field="name")
    return name


def _phone(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise Invalid("invalid_phone", "Telefone inválido.", field="phone")
    try:
        return normalize_phone(value)
    except Invalid as error:
        raise Invalid(error.code, error.message, field="phone") from None


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise Invalid("invalid_status", "Situação inválida: use active ou inactive.", field="status",
                      allowed=list(STATUSES))
    return value


def _user_id(session: Session, value: Any, driver_id: str | None) -> str | None:
    user_id = value.strip() if isinstance(value, str) else None
    if not user_id:
        return None
    user = user_repo.get(session, user_id)
    if user is None:
        raise NotFound("user", user_id)
    if user.role != "driver":
        raise Invalid("user_not_driver", "O usuário vinculado precisa ter o perfil de motorista.", field="user_id")
    linked = repo.driver_of_user(session, user.id)
    if linked is not None and linked.id != driver_id:
        raise _user_linked(linked.id)
    return user.id


def _user_linked(driver_id: str | None) -> Conflict:
    details = {"driver_id": driver_id} if driver_id else {}
    return Conflict("user_already_linked", "Este usuário já está vinculado a outro motorista.", **details)


def _set_registration(session: Session, collector: Collector, value: Any) -> None:
    """Set council, number and UF together (all or none); Conflict when another collector has them."""
    if value is None:
        collector.council = collector.registration_number = collector.registration_state = None
        return
    if not isinstance(value, Mapping):
        raise _incomplete_registration()
    council = _upper(value.get("council"))
    number = re.sub(r"[\s.]+", "", value.get("number") or "").upper() if isinstance(value.get("number"), str) else ""
    state = _upper(value.get("state"))
    if not council or not number or not state:
        raise _incomplete_registration()
    if council not in COUNCILS:
        raise Invalid("invalid_council", "Conselho profissional inválido: use COREN, CRBM, CRF ou CRBIO.",
                      field="registration.council", allowed=list(COUNCILS))
    if not _REGISTRATION_NUMBER.match(number):
        raise Invalid("invalid_registration_number", "Número de registro inválido: use os dígitos (ex.: 123456).",
                      field="registration.number")
    if state not in UFS:
        raise Invalid("invalid_state", "UF inválida: use a sigla do estado (ex.: RJ).", field="registration.state")
    other = repo.find_collector_by_registration(session, council, state, number)
    if other is not None and other.id != collector.id:
        raise _registration_taken()
    collector.council, collector.registration_number, collector.registration_state = council, number, state


def _registration_taken() -> Conflict:
    return Conflict("collector_registration_exists", "Já existe uma coletora com este registro profissional.")


def _incomplete_registration() -> Invalid:
    return Invalid("incomplete_registration", "Informe conselho, número e UF do registro profissional.",
                   field="registration")


def _upper(value: Any) -> str:
    return value.strip().upper() if isinstance(value, str) else ""


def _required_id(value: Any, field: str, message: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"missing_{field}", message, field=field)
    return value.strip()


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise Invalid("invalid_date", "Data inválida: use AAAA-MM-DD.", field="date")


def _notes(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("invalid_notes", "As observações devem ser um texto.", field="notes")
    notes = value.strip()
    if len(notes) > MAX_NOTES:
        raise Invalid("invalid_notes", f"As observações devem ter no máximo {MAX_NOTES} caracteres.", field="notes")
    return notes or None
