"""Stats bodies: Dashboard and ConfirmationRates (docs/api.md, stats)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

GroupBy = Literal["neighborhood", "hour", "car", "channel", "weekday"]


class CarCount(BaseModel):
    car: str | None
    visits: int
    confirmed: int


class ValueCount(BaseModel):
    value: str | None
    count: int


class DashboardRead(BaseModel):
    date: date
    total_patients: int
    visits_today: int
    confirmed_today: int
    pending_confirmations: int
    recurring_patients: int
    by_car: list[CarCount]
    by_status: list[ValueCount]
    by_channel: list[ValueCount]


class RateItem(BaseModel):
    # A neighbourhood, car or channel (str), an hour 0-23 or an ISO weekday 1-7 (int); null = not informed.
    value: str | int | None
    visits: int
    confirmed: int
    rate: float


class ConfirmationRatesRead(BaseModel):
    group_by: GroupBy
    visit_from: date | None
    visit_to: date | None
    items: list[RateItem]
