"""Driver, collector and team queries. Never commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import paging
from storage.cars.models import Car
from storage.teams.models import Collector, Driver, Team


def get_driver(session: Session, driver_id: str) -> Driver | None:
    """Return the driver with this id, or None."""
    return session.get(Driver, driver_id)


def list_drivers(session: Session, status: str | None = None) -> list[Driver]:
    """Drivers (optionally of one status), by name."""
    stmt = select(Driver).order_by(Driver.name, Driver.id)
    if status:
        stmt = stmt.where(Driver.status == status)
    return list(session.scalars(stmt))


def page_drivers(
    session: Session, status: str | None = None, *, cursor: str | None, limit: int
) -> paging.Page[Driver]:
    """A page of drivers (optionally of one status), by name."""
    stmt = select(Driver).where(Driver.status == status) if status else select(Driver)
    return paging.keyset(session, stmt, [Driver.name, Driver.id], cursor=cursor, limit=limit)


def driver_of_user(session: Session, user_id: str) -> Driver | None:
    """Return the driver linked to this user account, or None."""
    return session.scalars(select(Driver).where(Driver.user_id == user_id)).first()


def get_collector(session: Session, collector_id: str) -> Collector | None:
    """Return the collector with this id, or None."""
    return session.get(Collector, collector_id)


def list_collectors(session: Session, status: str | None = None) -> list[Collector]:
    """Collectors (optionally of one status), by name."""
    stmt = select(Collector).order_by(Collector.name, Collector.id)
    if status:
        stmt = stmt.where(Collector.status == status)
    return list(session.scalars(stmt))


def page_collectors(
    session: Session, status: str | None = None, *, cursor: str | None, limit: int
) -> paging.Page[Collector]:
    """A page of collectors (optionally of one status), by name."""
    stmt = select(Collector).where(Collector.status == status) if status else select(Collector)
    return paging.keyset(session, stmt, [Collector.name, Collector.id], cursor=cursor, limit=limit)


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


def team_of_driver(session: Session, driver_id: str, day: date) -> Team | None:
    """Return the team a driver is in on a day, or None."""
    return session.scalars(select(Team).where(Team.driver_id == driver_id, Team.day == day)).first()


def team_of_collector(session: Session, collector_id: str, day: date) -> Team | None:
    """Return the team a collector is in on a day, or None."""
    return session.scalars(select(Team).where(Team.collector_id == collector_id, Team.day == day)).first()


def car_of_user(session: Session, user_id: str, day: date) -> str | None:
    """The car of the team whose driver is linked to this user account on that day, or None; one query."""
    return session.scalar(
        select(Team.car_id).join(Driver, Driver.id == Team.driver_id).where(Driver.user_id == user_id, Team.day == day)
    )


def driver_has_teams(session: Session, driver_id: str) -> bool:
    """Tell whether the driver is in any team, of any day."""
    return bool(session.scalar(select(select(Team.id).where(Team.driver_id == driver_id).exists())))


def collector_has_teams(session: Session, collector_id: str) -> bool:
    """Tell whether the collector is in any team, of any day."""
    return bool(session.scalar(select(select(Team.id).where(Team.collector_id == collector_id).exists())))
