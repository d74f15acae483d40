"""Car commands. Never commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage.cars import repo
from storage.cars.models import Car, new_id

# The columns an import may set when it first sees a car agenda.
SOURCE_FIELDS = ("label", "base", "room_code", "room_name", "unit_code", "unit_name", "operational_unit")


def get_or_create_by_source_key(session: Session, source_key: str, fields: Mapping[str, Any]) -> Car:
    """Return the car of an agenda key, creating it from `fields` on first sight (safe under concurrency)."""
    ensure_by_source_keys(session, {source_key: fields})
    car = repo.find_by_source_key(session, source_key)
    assert car is not None
    return car


def ensure_by_source_keys(session: Session, cars: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Map agenda keys to car ids, creating the cars not seen before (insert … on conflict do nothing)."""
    known = repo.ids_by_source_key(session, cars)
    missing = [key for key in cars if key not in known]
    if missing:
        values = [
            {"id": new_id(), "row_version": 1, "source_key": key,
             **{name: _clip(cars[key].get(name), Car.__table__.c[name].type.length) for name in SOURCE_FIELDS}}
            for key in sorted(missing)
        ]
        for value in values:
            value["label"] = value["label"] or "CARRO"
        statement = insert(Car.__table__).values(values).on_conflict_do_nothing(
            index_elements=["source_key"], index_where=sql_text("source_key IS NOT NULL")
        )
        session.execute(statement)
        known = repo.ids_by_source_key(session, cars)
    return known


def _clip(value: Any, length: int | None) -> Any:
    if isinstance(value, str) and length and len(value) > length:
        return value[:length]
    return value
