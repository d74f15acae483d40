"""Helpers for schedule tests: cars, patients and local times."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage.cars.models import Car
from storage.patients import service as patient_service
from storage.patients.models import Patient
from tests.factories import patient_data

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DAY = date(2025, 6, 18)


def at(hhmm: str, day: date = DAY) -> datetime:
    """A local (America/Sao_Paulo) time on `day`."""
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SAO_PAULO)


def make_car(session: Session, label: str = "CARRO 1", base: str | None = "AV CENTER 1", capacity: int = 7,
             status: str = "active", unit_code: str | None = "248") -> Car:
    """A car made by hand (no agenda key), flushed."""
    car = Car(label=label, base=base, daily_capacity=capacity, status=status, unit_code=unit_code,
              unit_name="Barra - Aventura Center" if unit_code else None)
    session.add(car)
    session.flush()
    return car


def make_patient(session: Session, **overrides) -> Patient:
    """A valid patient (factory data), flushed."""
    return patient_service.create(session, patient_data(**overrides))


def booking(patient_id: str, car_id: str, start: str, end: str, day: date = DAY, **extra) -> dict:
    """The data of `commands.create` for a slot on `day`."""
    return {"patient_id": patient_id, "car_id": car_id, "start": at(start, day), "end": at(end, day), **extra}
