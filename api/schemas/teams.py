"""Team bodies: drivers, collectors and teams (Create, Update, Read, List) and the driver's assignment.

Domain rules (plate format, capacity range, phone, registration, statuses) are checked
by the storage services, which answer with stable codes and pt-BR messages; these
schemas only fix the shapes. Staff phones are personal data: `phone` is shown to
admins and operators only; everyone who may read gets `phone_masked`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.cars import CarBrief, Id
from api.schemas.types import Create, IsoDate, Strict, Update
from storage.identifiers import mask_phone
from storage.teams.models import Collector, Driver, Team

PersonStatus = Literal["active", "inactive"]
# Lengths of the columns (storage.cars.models, storage.teams.models); a phone or a plate is typed with punctuation.
PersonName = Annotated[str, Field(max_length=200)]
Phone = Annotated[str, Field(max_length=40)]


# ---------------------------------------------------------------- crew: drivers and collectors
# The two kinds share their first fields and their rules (storage.teams.service.CREW); each adds its own
# (a driver's user account, a collector's registration). Field order is the API document's.


class CrewCreate(Create):
    name: PersonName
    phone: Phone | None = None
    status: PersonStatus = "active"


class CrewUpdate(Update):
    name: PersonName | None = None
    phone: Phone | None = None
    status: PersonStatus | None = None


class CrewRead(BaseModel):
    id: str
    name: str
    phone: str | None
    phone_masked: str | None
    status: PersonStatus

    @classmethod
    def from_row(cls, member: Driver | Collector, reveal: bool) -> "CrewRead":
        """Shape a Driver or Collector row; the phone digits only when `reveal` (staff), else masked."""
        return cls(
            id=member.id, name=member.name, phone=member.phone if reveal else None,
            phone_masked=mask_phone(member.phone), status=member.status, created_at=member.created_at,
            updated_at=member.updated_at, **_own_fields(member),
        )


def _own_fields(member: Driver | Collector) -> dict[str, Any]:
    """What only the kind has: a driver's user account, a collector's registration."""
    if isinstance(member, Collector):
        return {"registration": RegistrationRead.from_row(member)}
    return {"user_id": member.user_id}


class DriverCreate(CrewCreate):
    user_id: Id | None = None


class DriverUpdate(CrewUpdate):
    user_id: Id | None = None


class DriverRead(CrewRead):
    user_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DriverPage(BaseModel):
    items: list[DriverRead]
    next_cursor: str | None


class Registration(Strict):
    council: str | None = Field(default=None, max_length=10)
    number: str | None = Field(default=None, max_length=20)
    state: str | None = Field(default=None, max_length=2)


class RegistrationRead(BaseModel):
    council: str
    number: str
    state: str
    display: str  # "COREN-RJ 123456"

    @classmethod
    def from_row(cls, collector: Collector) -> "RegistrationRead | None":
        """The collector's registration, or None when not recorded."""
        if not collector.council:
            return None
        return cls(
            council=collector.council, number=collector.registration_number, state=collector.registration_state,
            display=f"{collector.council}-{collector.registration_state} {collector.registration_number}",
        )


class CollectorCreate(CrewCreate):
    registration: Registration | None = None


class CollectorUpdate(CrewUpdate):
    registration: Registration | None = None


class CollectorRead(CrewRead):
    registration: RegistrationRead | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CollectorPage(BaseModel):
    items: list[CollectorRead]
    next_cursor: str | None


# ---------------------------------------------------------------- teams


class TeamCreate(Strict):
    car_id: Id
    date: IsoDate
    driver_id: Id
    collector_id: Id
    notes: str | None = Field(default=None, max_length=1000)

    def data(self) -> dict[str, Any]:
        """Plain data for the storage service (`date` is the team's `day`)."""
        data = self.model_dump()
        data["day"] = data.pop("date")
        return data


class TeamUpdate(Update):
    driver_id: Id | None = None
    collector_id: Id | None = None
    notes: str | None = Field(default=None, max_length=1000)


class PersonBrief(BaseModel):
    id: str
    name: str


class CollectorBrief(PersonBrief):
    registration: RegistrationRead | None


class TeamRead(BaseModel):
    id: str
    date: dt.date
    car: CarBrief
    driver: PersonBrief
    collector: CollectorBrief
    notes: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, team: Team) -> "TeamRead":
        """Shape a Team row with the names of its car and people (no phones)."""
        return cls(
            id=team.id, date=team.day, car=CarBrief.from_row(team.car),
            driver=PersonBrief(id=team.driver.id, name=team.driver.name),
            collector=CollectorBrief(id=team.collector.id, name=team.collector.name,
                                     registration=RegistrationRead.from_row(team.collector)),
            notes=team.notes, created_at=team.created_at, updated_at=team.updated_at,
        )


class TeamPage(BaseModel):
    date: dt.date
    items: list[TeamRead]
    next_cursor: str | None


class DriverAssignment(BaseModel):
    """The requesting driver's car on a day, its team when there is one, and where its route sheet is."""

    date: dt.date
    car: CarBrief
    team: TeamRead | None
    route_sheet_url: str
