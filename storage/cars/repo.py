"""Car queries. Never commits."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.cars.models import Car


def get(session: Session, car_id: str) -> Car | None:
    """Return the car with this id, or None."""
    return session.get(Car, car_id)


def find_by_source_key(session: Session, source_key: str) -> Car | None:
    """Return the car of an agenda (room code + full agenda name), or None."""
    return session.scalars(select(Car).where(Car.source_key == source_key)).first()


def ids_by_source_key(session: Session, source_keys: Iterable[str]) -> dict[str, str]:
    """Map the given agenda keys to car ids (keys without a car are left out); one query."""
    keys = list(set(source_keys))
    if not keys:
        return {}
    rows = session.execute(select(Car.source_key, Car.id).where(Car.source_key.in_(keys)))
    return {key: car_id for key, car_id in rows}


def labels(session: Session, car_ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Map car ids to (label, base); one query."""
    ids = list(set(car_ids))
    if not ids:
        return {}
    rows = session.execute(select(Car.id, Car.label, Car.base).where(Car.id.in_(ids)))
    return {car_id: (label, base) for car_id, label, base in rows}
