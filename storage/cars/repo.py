"""Car queries. Never commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Row, func, or_, select, update
from sqlalchemy.orm import Session

from storage import paging
from storage.cars.models import Car
from storage.patients.models import Patient
from storage.visits.models import Visit


def get(session: Session, car_id: str) -> Car | None:
    """Return the car with this id, or None."""
    return session.get(Car, car_id)


def get_for_update(session: Session, car_id: str) -> Car | None:
    """Return the car locked for this transaction, or None."""
    return session.scalars(select(Car).where(Car.id == car_id).with_for_update()).first()


def find_by_source_key(session: Session, source_key: str) -> Car | None:
    """Return the car of an agenda (room code + full agenda name), or None."""
    return session.scalars(select(Car).where(Car.source_key == source_key)).first()


def find_by_plate(session: Session, plate: str) -> Car | None:
    """Return the car with this (normalised) plate, or None."""
    return session.scalars(select(Car).where(Car.plate == plate)).first()


# Unit (cars without one last), base (cars without one first), label, id — as non-null keys, so a
# keyset page can compare them as one row value.
_CAR_ORDER = (
    Car.unit_code.is_(None), func.coalesce(Car.unit_code, ""), Car.base.is_not(None), func.coalesce(Car.base, ""),
    Car.label, Car.id,
)


def _cars(status: str | None, unit: str | None):
    stmt = select(Car)
    if status:
        stmt = stmt.where(Car.status == status)
    if unit:
        stmt = stmt.where(or_(Car.unit_code == unit, Car.operational_unit == unit))
    return stmt


def list_cars(session: Session, status: str | None = None, unit: str | None = None) -> list[Car]:
    """Cars, optionally of one status and one unit (its code or operational unit), by unit, base and label."""
    return list(session.scalars(_cars(status, unit).order_by(*_CAR_ORDER)))


def page_cars(
    session: Session, status: str | None = None, unit: str | None = None, *, cursor: str | None, limit: int
) -> paging.Page[Car]:
    """A page of `list_cars`."""
    return paging.keyset(session, _cars(status, unit), _CAR_ORDER, cursor=cursor, limit=limit)


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


def existing_ids(session: Session, refs: Iterable[str]) -> set[str]:
    """The given strings that are car ids; one query."""
    ids = [ref for ref in set(refs) if len(ref) <= 36]
    if not ids:
        return set()
    return set(session.scalars(select(Car.id).where(Car.id.in_(ids))))


def by_labels(session: Session, labels: Iterable[str], units: Iterable[str] = ()) -> dict[str, list[Car]]:
    """Label key (upper case, single spaces) -> the cars bearing it (of these unit codes, when given), by
    unit, base and id; one query."""
    keys = sorted({" ".join(label.split()).upper() for label in labels})
    if not keys:
        return {}
    key = func.upper(func.regexp_replace(func.btrim(Car.label), r"\s+", " ", "g"))
    stmt = select(Car).where(key.in_(keys)).order_by(Car.unit_code.nulls_last(), Car.base.nulls_first(), Car.id)
    units = [u for u in units if u]
    if units:
        stmt = stmt.where(Car.unit_code.in_(units))
    found: dict[str, list[Car]] = {}
    for car in session.scalars(stmt):
        found.setdefault(" ".join(car.label.split()).upper(), []).append(car)
    return found


def has_visits(session: Session, car_id: str) -> bool:
    """Tell whether any visit (of any status or day) was booked in this car."""
    return bool(session.scalar(select(select(Visit.id).where(Visit.car_id == car_id).exists())))


def count_visits(session: Session, car_id: str) -> int:
    """How many visits (of any status or day) were booked in this car."""
    return session.execute(select(func.count(Visit.id)).where(Visit.car_id == car_id)).scalar_one()


def route_sheet_rows(session: Session, car_id: str, day: date) -> list[Row]:
    """The car's visits of a day (every status) in time order, with what the route sheet prints of the patient.

    Plain rows: the visit's slot, status, confirmation, exams, payers, notes and address,
    and the patient's id, name, phones and special needs. One query.
    """
    stmt = (
        select(
            Visit.id, Visit.patient_id, Visit.start_at, Visit.end_at, Visit.status, Visit.confirmation_status,
            Visit.confirmation_channel, Visit.exam_codes, Visit.exam_names, Visit.total_exams, Visit.payers,
            Visit.notes, Visit.street, Visit.number, Visit.complement, Visit.neighborhood, Visit.city, Visit.state,
            Visit.zip_code, Visit.address_reference, Visit.address_text, Visit.missing_from_latest_export,
            Patient.name.label("patient_name"), Patient.phones.label("patient_phones"),
            Patient.special_needs.label("patient_special_needs"),
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .where(Visit.car_id == car_id, Visit.visit_date == day)
        .order_by(Visit.start_at, Visit.end_at, Patient.name, Visit.id)
    )
    return list(session.execute(stmt))


def page_units(session: Session, *, cursor: str | None, limit: int) -> paging.Page[dict]:
    """A page of the lab units the cars belong to, by code: `{code, name, cars}` (`cars`: its active cars;
    `name`: the unit name most of its cars carry)."""
    stmt = (
        select(
            Car.unit_code,
            func.mode().within_group(Car.unit_name).label("name"),
            func.count().filter(Car.status == "active").label("cars"),
        )
        .where(Car.unit_code.is_not(None))
        .group_by(Car.unit_code)
        .order_by(Car.unit_code)
        .limit(limit + 1)
    )
    if cursor is not None:
        (after,) = paging.decode(cursor, [Car.unit_code])
        stmt = stmt.where(Car.unit_code > after)
    rows = session.execute(stmt).all()
    items = [{"code": code, "name": name, "cars": cars} for code, name, cars in rows[:limit]]
    return paging.Page(items, paging.encode([rows[limit - 1][0]]) if len(rows) > limit else None)
