"""Car bodies: CarCreate, CarUpdate, CarRead, CarPage, and CarBrief (a car as a team or an assignment names it).

Domain rules (plate format, capacity range, statuses) are checked by the storage service, which
answers with stable codes and pt-BR messages; these schemas only fix the shapes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.types import Create, Update
from storage.cars.models import Car

CarStatus = Literal["active", "maintenance", "inactive"]
Id = Annotated[str, Field(max_length=36)]


class CarCreate(Create):
    label: str = Field(max_length=40)
    base: str | None = Field(default=None, max_length=120)
    unit_code: str | None = Field(default=None, max_length=20)
    unit_name: str | None = Field(default=None, max_length=120)
    operational_unit: str | None = Field(default=None, max_length=20)
    plate: str | None = Field(default=None, max_length=12)
    model: str | None = Field(default=None, max_length=60)
    status: CarStatus = "active"
    daily_capacity: int = 7


class CarUpdate(Update):
    label: str | None = Field(default=None, max_length=40)
    base: str | None = Field(default=None, max_length=120)
    plate: str | None = Field(default=None, max_length=12)
    model: str | None = Field(default=None, max_length=60)
    status: CarStatus | None = None
    daily_capacity: int | None = None


class CarRead(BaseModel):
    id: str
    label: str
    base: str | None
    room_code: str | None
    room_name: str | None
    unit_code: str | None
    unit_name: str | None
    operational_unit: str | None
    plate: str | None
    model: str | None
    status: CarStatus
    daily_capacity: int
    imported: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, car: Car) -> "CarRead":
        """Shape a Car row for the API; `imported` = a car agenda of the export (never deleted)."""
        return cls(
            id=car.id, label=car.label, base=car.base, room_code=car.room_code, room_name=car.room_name,
            unit_code=car.unit_code, unit_name=car.unit_name, operational_unit=car.operational_unit,
            plate=car.plate, model=car.model, status=car.status, daily_capacity=car.daily_capacity,
            imported=car.source_key is not None, created_at=car.created_at, updated_at=car.updated_at,
        )


class CarPage(BaseModel):
    items: list[CarRead]
    next_cursor: str | None


class CarBrief(BaseModel):
    id: str
    label: str
    base: str | None
    plate: str | None

    @classmethod
    def from_row(cls, car: Car) -> "CarBrief":
        """The car as a team or an assignment names it."""
        return cls(id=car.id, label=car.label, base=car.base, plate=car.plate)
