"""Crew (driver and collector) and team commands: create, update, delete, assign. Validate, change rows, never commit.

A car has one team per day, and a driver or a collector is in one team per day:
checked up front (so the 409 names the other team) and guarded by unique constraints
(so two concurrent assignments cannot both win).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.audit import service as audit_service
from storage.audit.service import Actor
from storage.cars import repo as car_repo
from storage.cars.models import Car
from storage.errors import Conflict, Invalid, found, refuse_unknown
from storage.identifiers import normalize_phone, required_name
from storage.teams import repo
from storage.teams.models import COUNCILS, STATUSES, Collector, CrewKind, Driver, Team
from storage.users import repo as user_repo

UFS = frozenset(
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)
TEAM_CREATE_FIELDS = frozenset({"car_id", "day", "driver_id", "collector_id", "notes"})
TEAM_UPDATE_FIELDS = frozenset({"driver_id", "collector_id", "notes"})
MAX_NOTES = 1000
_REGISTRATION_NUMBER = re.compile(r"^[0-9]{1,12}(-?[A-Z]{1,4})?$")


# ---------------------------------------------------------------- crew: drivers and collectors


def create_member(session: Session, kind: CrewKind, data: Mapping[str, Any]) -> Driver | Collector:
    """Create a driver or a collector from {name, phone, status} and its own field (see `CREW`)."""
    crew = CREW[kind]
    refuse_unknown(data, crew.fields)
    member = crew.model(
        name=required_name(data.get("name"), "Informe o nome."),
        phone=_phone(data.get("phone")),
        status=_status(data.get("status", "active")),
    )
    crew.set_own(session, member, data.get(crew.own_field))
    _flush(session, member)
    return member


def update_member(session: Session, kind: CrewKind, member_id: str, changes: Mapping[str, Any]) -> Driver | Collector:
    """Apply a partial update (name, phone, status and the kind's own field) to a driver or a collector."""
    crew = CREW[kind]
    refuse_unknown(changes, crew.fields)
    member = _member(session, kind, member_id)
    if "name" in changes:
        member.name = required_name(changes["name"], "Informe o nome.")
    if "phone" in changes:
        member.phone = _phone(changes["phone"])
    if "status" in changes:
        member.status = _status(changes["status"])
    if crew.own_field in changes:
        crew.set_own(session, member, changes[crew.own_field])
    _flush(session, member)
    return member


def delete_member(session: Session, kind: CrewKind, member_id: str) -> None:
    """Delete a driver or a collector who was never in a team; Conflict `<kind>_has_teams` otherwise (deactivate)."""
    member = _member(session, kind, member_id)
    if repo.member_has_teams(session, kind, member.id):
        raise Conflict(f"{kind}_has_teams", CREW[kind].has_teams_message)
    session.delete(member)
    session.flush()


# ---------------------------------------------------------------- teams


def assign(session: Session, data: Mapping[str, Any]) -> Team:
    """Make the team of a car for a day from {car_id, day, driver_id, collector_id, notes}.

    Conflicts: `team_exists` (the car already has a team that day), `driver_already_assigned`,
    `collector_already_assigned` (each naming the other team), `car_not_active`,
    `driver_inactive`, `collector_inactive`.
    """
    refuse_unknown(data, TEAM_CREATE_FIELDS)
    day = _day(data.get("day"))
    car_id = _required_id(data.get("car_id"), "car_id", "Informe o carro.")
    car = found(car_repo.get(session, car_id), "car", car_id)
    if car.status != "active":
        raise Conflict("car_not_active", "O carro não está ativo (em manutenção ou inativo) e não pode receber equipe.",
                       status=car.status)
    existing = repo.team_of_car(session, car.id, day)
    if existing is not None:
        raise Conflict("team_exists", "Este carro já tem uma equipe neste dia.", team_id=existing.id)
    team = Team(car_id=car.id, day=day, notes=_notes(data.get("notes")))
    team.driver_id = _team_member(session, "driver", data.get("driver_id"), day, None)
    team.collector_id = _team_member(session, "collector", data.get("collector_id"), day, None)
    _flush(session, team, _TEAM_CONSTRAINTS)
    return team


def update_team(session: Session, team_id: str, changes: Mapping[str, Any]) -> Team:
    """Change a team's driver, collector or notes (the same one-team-per-day rules as `assign`)."""
    refuse_unknown(changes, TEAM_UPDATE_FIELDS)
    team = found(repo.get_team_for_update(session, team_id), "team", team_id)
    if "driver_id" in changes and changes["driver_id"] != team.driver_id:
        team.driver_id = _team_member(session, "driver", changes["driver_id"], team.day, team.id)
    if "collector_id" in changes and changes["collector_id"] != team.collector_id:
        team.collector_id = _team_member(session, "collector", changes["collector_id"], team.day, team.id)
    if "notes" in changes:
        team.notes = _notes(changes["notes"])
    _flush(session, team, _TEAM_CONSTRAINTS)
    session.expire(team, ["driver", "collector"])  # read-only relationships: reload the new people
    return team


def delete_team(session: Session, team_id: str) -> None:
    """Undo a team (the car, driver and collector stay)."""
    team = found(repo.get_team_for_update(session, team_id), "team", team_id)
    session.delete(team)
    session.flush()


# ---------------------------------------------------------------- the day of a car


@dataclass(frozen=True)
class RouteSheet:
    """A car's day: the car, its team (or None) and its stops in time order."""

    car: Car
    team: Team | None
    rows: list[Any]


def route_sheet(session: Session, car_id: str, day: date, actor: Actor, via: str) -> RouteSheet:
    """What the route sheet of a car on a day shows; every patient listed gets a `patient.read` audit row."""
    car = found(car_repo.get(session, car_id), "car", car_id)
    rows = car_repo.route_sheet_rows(session, car.id, day)
    audit_service.record_reads(session, actor, (row.patient_id for row in rows),
                               {"via": via, "car_id": car.id, "date": day.isoformat()})
    return RouteSheet(car=car, team=repo.team_of_car(session, car.id, day), rows=rows)


# ---------------------------------------------------------------- helpers


def _member(session: Session, kind: CrewKind, member_id: str) -> Driver | Collector:
    return found(repo.get_member(session, kind, member_id), kind, member_id)


def _team_member(session: Session, kind: CrewKind, value: Any, day: date, team_id: str | None) -> str:
    crew = CREW[kind]
    member = _member(session, kind, _required_id(value, f"{kind}_id", crew.missing_message))
    if member.status != "active":
        raise Conflict(f"{kind}_inactive", crew.inactive_message)
    other = repo.team_of_member(session, kind, member.id, day)
    if other is not None and other.id != team_id:
        raise _taken(kind, other)
    return member.id


def _taken(kind: CrewKind, other: Team | None) -> Conflict:
    details = {"team_id": other.id, "car_id": other.car_id} if other else {}
    return Conflict(f"{kind}_already_assigned", CREW[kind].taken_message, **details)


# A concurrent assignment that won the race between the check and the insert.
_TEAM_CONSTRAINTS = {
    "uq_teams_car_id_day": lambda: Conflict("team_exists", "Este carro já tem uma equipe neste dia."),
    "uq_teams_driver_id_day": lambda: _taken("driver", None),
    "uq_teams_collector_id_day": lambda: _taken("collector", None),
}


# A unique key another writer took between the check and the insert (a concurrent create or assignment).
_CREW_CONSTRAINTS = {
    "uq_drivers_user_id": lambda: _user_linked(None),
    "uq_collectors_registration": lambda: _registration_taken(),
}


def _flush(session: Session, row: Driver | Collector | Team, constraints=_CREW_CONSTRAINTS) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint in constraints:
            raise constraints[constraint]() from None
        raise


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


def _set_user(session: Session, driver: Driver, value: Any) -> None:
    """Link the driver to a user account (role driver) that no other driver has, or unlink it (None)."""
    driver.user_id = _user_id(session, value, driver.id)


def _user_id(session: Session, value: Any, driver_id: str | None) -> str | None:
    user_id = value.strip() if isinstance(value, str) else None
    if not user_id:
        return None
    user = found(user_repo.get(session, user_id), "user", user_id)
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


@dataclass(frozen=True)
class Crew:
    """One kind of crew member: its row, its fields, the field only it has and how that is set."""

    model: type[Driver] | type[Collector]
    own_field: str
    set_own: Callable[[Session, Any, Any], None]
    # pt-BR, in the kind's grammatical gender.
    missing_message: str
    inactive_message: str
    taken_message: str
    has_teams_message: str

    @property
    def fields(self) -> frozenset[str]:
        return frozenset({"name", "phone", "status", self.own_field})


CREW: dict[str, Crew] = {
    "driver": Crew(
        Driver, "user_id", _set_user, missing_message="Informe o motorista.",
        inactive_message="Motorista inativo não pode ser escalado.",
        taken_message="Motorista já escalado em outra equipe neste dia.",
        has_teams_message="O motorista já fez parte de equipes e não pode ser excluído; desative-o.",
    ),
    "collector": Crew(
        Collector, "registration", _set_registration, missing_message="Informe a coletora.",
        inactive_message="Coletora inativa não pode ser escalada.",
        taken_message="Coletora já escalada em outra equipe neste dia.",
        has_teams_message="A coletora já fez parte de equipes e não pode ser excluída; desative-a.",
    ),
}


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
