"""Stats: the day's dashboard and confirmation rates, served from the index (no PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SearchDep
from api.schemas.types import IsoDate
from api.schemas.stats import ConfirmationRatesRead, DashboardRead, GroupBy
from api.security import READERS, allow
from indexing.queries import stats as stats_queries
from storage.clock import local_today

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

Unit = Annotated[str | None, Query(max_length=20, description="Código da unidade das visitas (padrão: todas)")]


@router.get("/dashboard", response_model=DashboardRead, **allow(*READERS))
def get_dashboard(client: SearchDep, date: IsoDate | None = None, unit: Unit = None) -> DashboardRead:
    """The numbers of one day (default: today in America/Sao_Paulo), optionally of one unit."""
    day = date or local_today()
    return DashboardRead.model_validate(stats_queries.dashboard(client, day, unit or None), from_attributes=True)


@router.get("/confirmation-rates", response_model=ConfirmationRatesRead, **allow(*READERS))
def get_confirmation_rates(
    client: SearchDep, group_by: GroupBy, visit_from: IsoDate | None = None, visit_to: IsoDate | None = None,
    unit: Unit = None,
) -> ConfirmationRatesRead:
    """Live visits, confirmed visits and the rate per neighbourhood, hour, car, channel or weekday."""
    rates = stats_queries.confirmation_rates(client, group_by, visit_from, visit_to, unit or None)
    return ConfirmationRatesRead.model_validate(rates, from_attributes=True)
