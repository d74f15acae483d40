"""Car commands: create (by hand), update, delete; and the import's get-or-create. Never commits.

A car's label and base are copied into every visit document and into its patients'
documents (their nested visits), so changing them bumps those rows' versions and records
their outbox rows in the same transaction.

A car is its id: `CARRO 1` of AV CENTER 1 and `CARRO 1` of AV CENTER 2 are two cars.
Filters and bookings take ids; `resolve_refs` still takes a label where it names one
car (ignoring case and spaces), and refuses an ambiguous one (`ambiguous_car`, with the
candidates) or an unknown one (`unknown_car`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import indexed
from storage.cars import repo
from storage.cars.models import MAX_CAPACITY, MIN_CAPACITY, STATUSES, Car, new_id
from storage.errors import Conflict, Invalid, NotFound, found, refuse_unknown

ENTITY = "car"
# The columns an import may set when it first sees a car agenda.
SOURCE_FIELDS = ("label", "base", "room_code", "room_name", "unit_code", "unit_name", "operational_unit")
# What staff may set by hand; room code and name belong to the agenda export.
CREATE_FIELDS = frozenset(
    {"label", "base", "unit_code", "unit_name", "operational_unit", "plate", "model", "status", "daily_capacity"}
)
UPDATE_FIELDS = frozenset({"label", "base", "plate", "model", "status", "daily_capacity"})
# Old Brazilian plates (ABC1234) and Mercosul plates (ABC1D23): three letters, a digit, a letter or digit, two digits.
_PLATE = re.compile(r"^[A-Z]{3}[0-9][A-Z0-9][0-9]{2}$")
_PLATE_NOISE = re.compile(r"[\s\-.]+")


def create(session: Session, data: Mapping[str, Any]) -> Car:
    """Create a car by hand from {label, base, unit_code, unit_name, operational_unit, plate, model, status, daily_capacity}."""
    refuse_unknown(data, CREATE_FIELDS)
    car = Car(
        id=new_id(),
        source_key=None,
        label=_label(data.get("label")),
        base=_text(data.get("base"), "base", 120, "A base"),
        unit_code=_text(data.get("unit_code"), "unit_code", 20, "O código da unidade"),
        unit_name=_text(data.get("unit_name"), "unit_name", 120, "O nome da unidade"),
        operational_unit=_text(data.get("operational_unit"), "operational_unit", 20, "A unidade operacional"),
        plate=normalize_plate(data.get("plate")),
        model=_text(data.get("model"), "model", 60, "O modelo"),
        status=_status(data.get("status", "active")),
        daily_capacity=_capacity(data.get("daily_capacity", 7)),
    )
    _plate_free(session, car.plate, None)
    _flush(session, car)
    return car


def update(session: Session, car_id: str, changes: Mapping[str, Any]) -> Car:
    """Apply a partial update (label, base, plate, model, status, daily_capacity).

    A new label or base bumps the car's visits and their patients and records their
    outbox rows, so their search documents show it.
    """
    refuse_unknown(changes, UPDATE_FIELDS)
    car = found(repo.get_for_update(session, car_id), ENTITY, car_id)
    old_label, old_base = car.label, car.base
    if "label" in changes:
        car.label = _label(changes["label"])
    if "base" in changes:
        car.base = _text(changes["base"], "base", 120, "A base")
    if "plate" in changes:
        plate = normalize_plate(changes["plate"])
        if plate != car.plate:
            _plate_free(session, plate, car.id)
        car.plate = plate
    if "model" in changes:
        car.model = _text(changes["model"], "model", 60, "O modelo")
    if "status" in changes:
        car.status = _status(changes["status"])
    if "daily_capacity" in changes:
        car.daily_capacity = _capacity(changes["daily_capacity"])
    _flush(session, car)
    if (car.label, car.base) != (old_label, old_base):
        indexed.mark_changed(session, cars=[car.id])
    return car


def delete(session: Session, car_id: str) -> None:
    """Delete a car made by hand that never had a visit (its teams go with it).

    Conflict `car_has_visits` when visits were booked in it and `car_imported` for a
    car agenda of the export: those are deactivated (`status` inactive), never deleted.
    """
    car = found(repo.get_for_update(session, car_id), ENTITY, car_id)
    if repo.has_visits(session, car.id):
        raise Conflict(
            "car_has_visits", "O carro tem visitas registradas e não pode ser excluído; desative-o.",
            visits=repo.count_visits(session, car.id),
        )
    if car.source_key is not None:
        raise Conflict(
            "car_imported", "Carros da agenda importada não podem ser excluídos; desative-o.",
        )
    session.delete(car)
    session.flush()


def resolve_refs(session: Session, refs: Sequence[str], units: Sequence[str] = ()) -> list[str]:
    """Car ids for ids or labels (`CARRO 3`, any case or spacing), in the order given, without repeats.

    A label must name one car (among the cars of `units`, when given): several →
    Invalid `ambiguous_car` listing the candidates `{car_id, label, base, unit}`; none,
    and not an id either → Invalid `unknown_car`.
    """
    wanted = list(dict.fromkeys(ref.strip() for ref in refs if ref and ref.strip()))
    if not wanted:
        return []
    known = repo.existing_ids(session, wanted)
    labels = [ref for ref in wanted if ref not in known]
    by_label = repo.by_labels(session, labels, units) if labels else {}
    resolved: list[str] = []
    for ref in wanted:
        if ref in known:
            resolved.append(ref)
            continue
        cars = by_label.get(label_key(ref), [])
        if not cars:
            raise Invalid(
                "unknown_car", "Carro não encontrado: informe o id ou o nome de um carro existente.",
                field="car", car=ref[:40],
            )
        if len(cars) > 1:
            raise Invalid(
                "ambiguous_car",
                f"Há {len(cars)} carros chamados {cars[0].label}: escolha um pelo id (`car_id`).",
                field="car",
                candidates=[
                    {"car_id": car.id, "label": car.label, "base": car.base, "unit": car.unit_code} for car in cars
                ],
            )
        resolved.append(cars[0].id)
    return list(dict.fromkeys(resolved))


def resolve_ref(session: Session, ref: str) -> str:
    """One car id for an id or a unique label (see `resolve_refs`); a car that does not exist → NotFound."""
    try:
        return resolve_refs(session, [ref])[0]
    except Invalid as error:
        if error.code == "unknown_car":
            raise NotFound(ENTITY, ref) from None
        raise


def label_key(label: str) -> str:
    """How labels are compared: upper case, single spaces (`carro  3` is `CARRO 3`)."""
    return " ".join(label.split()).upper()


def normalize_plate(value: Any) -> str | None:
    """Return a Brazilian plate as 7 upper-case characters (ABC1234 or Mercosul ABC1D23), None if empty; raise Invalid."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _invalid_plate()
    plate = _PLATE_NOISE.sub("", value).upper()
    if not _PLATE.match(plate):
        raise _invalid_plate()
    return plate


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


def _flush(session: Session, car: Car) -> None:
    try:
        with session.begin_nested():
            session.add(car)
            session.flush()
    except IntegrityError:  # a concurrent change took the plate first
        raise _plate_taken() from None


def _plate_free(session: Session, plate: str | None, car_id: str | None) -> None:
    if plate is None:
        return
    other = repo.find_by_plate(session, plate)
    if other is not None and other.id != car_id:
        raise _plate_taken(other.id)


def _plate_taken(other_id: str | None = None) -> Conflict:
    details = {"car_id": other_id} if other_id else {}
    return Conflict("car_plate_exists", "Já existe um carro com esta placa.", **details)


def _invalid_plate() -> Invalid:
    return Invalid("invalid_plate", "Placa inválida: use o formato ABC1234 ou ABC1D23.", field="plate")


def _label(value: Any) -> str:
    label = _text(value, "label", 40, "O nome do carro")
    if not label:
        raise Invalid("missing_label", "Informe o nome do carro (ex.: CARRO 1).", field="label")
    return label


def _text(value: Any, field: str, length: int, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"invalid_{field}", f"{what} deve ser um texto.", field=field)
    cleaned = " ".join(value.split())
    if len(cleaned) > length:
        raise Invalid(f"invalid_{field}", f"{what} deve ter no máximo {length} caracteres.", field=field)
    return cleaned or None


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise Invalid(
            "invalid_car_status", "Situação inválida: use active, maintenance ou inactive.",
            field="status", allowed=list(STATUSES),
        )
    return value


def _capacity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_CAPACITY <= value <= MAX_CAPACITY:
        raise Invalid(
            "invalid_daily_capacity",
            f"A capacidade diária deve ser um número inteiro entre {MIN_CAPACITY} e {MAX_CAPACITY} visitas.",
            field="daily_capacity",
        )
    return value


def _clip(value: Any, length: int | None) -> Any:
    if isinstance(value, str) and length and len(value) > length:
        return value[:length]
    return value
