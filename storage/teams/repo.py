"""Driver, collector and team queries. Never commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import paging
from storage.cars.models import Car
from storage.teams.models import Collector, CrewKind, Driver, Team


MODELS: dict[str, type[Driver] | type[Collector]] = {"driver": Driver, "collector": Collector}


def get_member(session: Session, kind: CrewKind, member_id: str) -> Driver | Collector | None:
    """Return the driver or the collector with this id, or None."""
    return session.get(MODELS[kind], member_id)


def list_members(session: Session, kind: CrewKind, status: str | None = None) -> list[Driver] | list[Collector]:
    """The drivers or the collectors (optionally of one status), by name."""
    model = MODELS[kind]
    stmt = select(model).order_by(model.name, model.id)
    if status:
        stmt = stmt.where(model.status == status)
    return list(session.scalars(stmt))


def page_members(
    session: Session, kind: CrewKind, status: str | None = None, *, cursor: str | None, limit: int
) -> paging.Page[Driver] | paging.Page[Collector]:
    """A page of drivers or collectors (optionally of one status), by name."""
    model = MODELS[kind]
    stmt = select(model).where(model.status == status) if status else select(model)
    return paging.keyset(session, stmt, [model.name, model.id], cursor=cursor, limit=limit)


def driver_of_user(session: Session, user_id: str) -> Driver | None:
    """Return the driver linked to this user account, or None."""
    return session.scalars(select(Driver).where(Driver.user_id == user_id)).first()


def find_collector_by_registration(session: Session, council: str, state: str, number: str) -> Collector | None:
    """Return the collector with this professional registration, or None."""
    return session.scalars(
        select(Collector).where(
            Collector.council == council, Collector.registration_state == state,
            Collector.registration_number == number,
        )
    ).first()


def get_team(session: Session, team_id: str) -> Team | None:
    """Return the team with this id, or None (a query, not the identity map: a car's delete cascades to its teams)."""
    return session.scalars(select(Team).where(Team.id == team_id)).first()


def get_team_for_update(session: Session, team_id: str) -> Team | None:
    """Return the team locked for this transaction (its row only, not its car's or people's), or None."""
    return session.scalars(select(Team).where(Team.id == team_id).with_for_update(of=Team.__table__)).first()


def list_teams(session: Session, day: date, car_id: str | None = None) -> list[Team]:
    """The teams of a day (optionally of one car), by car base, label and id."""
    stmt = (
        select(Team).join(Car, Car.id == Team.car_id).where(Team.day == day)
        .order_by(Car.base.nulls_first(), Car.label, Team.id)
    )
    if car_id:
        stmt = stmt.where(Team.car_id == car_id)
    return list(session.scalars(stmt))


def page_teams(
    session: Session, day: date, car_id: str | None = None, *, cursor: str | None, limit: int
) -> paging.Page[Team]:
    """A page of `list_teams` (cars without a base first, as there)."""
    stmt = select(Team).join(Car, Car.id == Team.car_id).where(Team.day == day)
    if car_id:
        stmt = stmt.where(Team.car_id == car_id)
    keys = [Car.base.is_not(None), func.coalesce(Car.base, ""), Car.label, Team.id]
    return paging.keyset(session, stmt, keys, cursor=cursor, limit=limit)


def team_of_car(session: Session, car_id: str, day: date) -> Team | None:
    """Return the team of a car on a day, or None."""
    return session.scalars(select(Team).where(Team.car_id == car_id, Team.day == day)).first()


def team_of_member(session: Session, kind: CrewKind, member_id: str, day: date) -> Team | None:
    """Return the team a driver or a collector is in on a day, or None."""
    column = _TEAM_COLUMNS[kind]
    return session.scalars(select(Team).where(column == member_id, Team.day == day)).first()


def car_of_user(session: Session, user_id: str, day: date) -> str | None:
    """The car of the team whose driver is linked to this user account on that day, or None; one query."""
    return session.scalar(
        select(Team.car_id).join(Driver, Driver.id == Team.driver_id).where(Driver.user_id == user_id, Team.day == day)
    )


def member_has_teams(session: Session, kind: CrewKind, member_id: str) -> bool:
    """Tell whether the driver or the collector is in any team, of any day."""
    return bool(session.scalar(select(select(Team.id).where(_TEAM_COLUMNS[kind] == member_id).exists())))


_TEAM_COLUMNS = {"driver": Team.driver_id, "collector": Team.collector_id}
