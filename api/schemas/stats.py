"""Stats bodies: Dashboard and ConfirmationRates (docs/api.md, stats; definitions in indexing.queries.stats)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["neighborhood", "hour", "car", "channel", "weekday"]


class CarCount(BaseModel):
    """One car's live visits of the day (a car is its id; all car fields null: visits without a car)."""

    car_id: str | None
    label: str | None = Field(description="Rótulo do carro, ex.: CARRO 1 (vários carros podem ter o mesmo)")
    base: str | None = Field(description="Base do carro, ex.: AV CENTER 1")
    unit: str | None = Field(description="Código da unidade do carro")
    unit_name: str | None
    visits: int
    confirmed: int = Field(description="Como `confirmed_today`: coletadas, ou agendadas e confirmadas")


class ValueCount(BaseModel):
    value: str | None
    count: int


class DashboardRead(BaseModel):
    """The day's numbers: `visits_today = confirmed_today + declined_today + pending_confirmations + no_show_today`."""

    date: date
    unit: str | None = Field(description="Código da unidade pedida (null: todas)")
    total_patients: int
    visits_today: int = Field(description="Visitas vivas do dia (não canceladas, ainda na última exportação)")
    confirmed_today: int = Field(description="Coletadas, ou ainda agendadas e confirmadas")
    declined_today: int = Field(description="Ainda agendadas e recusadas pelo paciente")
    pending_confirmations: int = Field(description="Ainda agendadas, nem confirmadas nem recusadas")
    no_show_today: int = Field(description="Marcadas como 'não compareceu'")
    recurring_patients: int
    by_car: list[CarCount]
    by_status: list[ValueCount]
    by_channel: list[ValueCount] = Field(
        description="As visitas de `confirmed_today` pelo canal que as confirmou (null: sem canal)"
    )


class RateItem(BaseModel):
    """Visits, confirmed visits and the rate of one value of the grouping.

    `value` by grouping: neighborhood → the folded key (str); hour → 0-23 (int); weekday →
    the ISO 8601 number (int, 1 = segunda-feira … 7 = domingo); car → the car id (str);
    channel → phone | sms | whatsapp | email. null = not informed (no car, no neighbourhood,
    nobody reached). `label` is what to show, in pt-BR. Car items add `car_id`, `base`,
    `unit` and `unit_name`.
    """

    value: str | int | None
    label: str = Field(description="Texto para exibir: 'segunda-feira', '07h', 'CARRO 1', 'WhatsApp', 'Liberdade'")
    car_id: str | None = None
    base: str | None = None
    unit: str | None = None
    unit_name: str | None = None
    visits: int
    confirmed: int
    rate: float


class ConfirmationRatesRead(BaseModel):
    group_by: GroupBy
    visit_from: date | None
    visit_to: date | None
    unit: str | None
    items: list[RateItem]
