"""Stats bodies: Dashboard and ConfirmationRates (docs/api.md, stats; definitions in indexing.queries.stats)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["neighborhood", "hour", "car", "channel", "weekday"]


class Person(BaseModel):
    id: str
    name: str


class CarTeam(BaseModel):
    """The team of a car on the day: its driver and its collector."""

    driver: Person
    collector: Person


class LeadTime(BaseModel):
    """Days from the booking (`booked_at`) to the visit, over the live visits that have a booking time."""

    visits: int = Field(description="Visitas vivas com data de marcação")
    median_days: float | None = Field(description="Mediana (percentil contínuo), 2 casas; null sem visitas")
    p90_days: float | None = Field(description="Percentil 90 (contínuo), 2 casas; null sem visitas")
    mean_days: float | None = Field(description="Média, 2 casas; null sem visitas")


class CarCount(BaseModel):
    """One car's live visits of the day (a car is its id; all car fields null: visits without a car)."""

    car_id: str | None
    label: str | None = Field(description="Rótulo do carro, ex.: CARRO 1 (vários carros podem ter o mesmo)")
    base: str | None = Field(description="Base do carro, ex.: AV CENTER 1")
    unit: str | None = Field(description="Código da unidade do carro")
    unit_name: str | None
    visits: int
    confirmed: int = Field(description="Como `confirmed_today`: coletadas, ou agendadas e confirmadas")
    declined: int = Field(description="Ainda agendadas e recusadas pelo paciente")
    pending: int = Field(description="Ainda agendadas, nem confirmadas nem recusadas")
    collected: int = Field(description="Coletadas (parte de `confirmed`)")
    no_show: int = Field(description="Marcadas como 'não compareceu'")
    team: CarTeam | None = Field(default=None, description="A equipe do carro no dia (null: sem equipe ou sem carro)")


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
    collected_today: int = Field(description="Visitas vivas coletadas (parte de `confirmed_today`)")
    cancelled_today: int = Field(description="Visitas do dia canceladas (ainda na última exportação), como `by_status`")
    active_cars: int = Field(description="Carros com ao menos uma visita viva no dia")
    no_show_rate: float | None = Field(
        description="no_show / (collected + no_show), 4 casas; null quando ambos são 0"
    )
    lead_time: LeadTime


class TrendItem(BaseModel):
    """One day: the numbers of `GET /stats/dashboard?date=` of that day (zeros and null rates without visits)."""

    date: date
    visits: int = Field(description="Como `visits_today`")
    confirmed: int = Field(description="Como `confirmed_today`")
    declined: int = Field(description="Como `declined_today`")
    pending: int = Field(description="Como `pending_confirmations`")
    collected: int = Field(description="Como `collected_today`")
    no_show: int = Field(description="Como `no_show_today`")
    cancelled: int = Field(description="Como `cancelled_today`")
    confirmation_rate: float | None = Field(description="confirmed / visits, 4 casas; null sem visitas")
    no_show_rate: float | None = Field(description="Como `no_show_rate` do painel")
    lead_time_median_days: float | None = Field(description="Como `lead_time.median_days` do painel")


class TrendRead(BaseModel):
    visit_from: date
    visit_to: date
    unit: str | None
    items: list[TrendItem] = Field(description="Um item por dia do período, em ordem")


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
