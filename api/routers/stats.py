"""Stats: the day's dashboard, the daily trend and confirmation rates, counted in the index.

The dashboard adds each car's team of the day from PostgreSQL (one query); every number comes
from the index.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api import etag
from api.deps import SearchDep, SessionDep
from api.schemas.types import IsoDate
from api.schemas.stats import ConfirmationRatesRead, DashboardRead, GroupBy, TrendRead
from api.security import READERS, allow
from indexing.queries import stats as stats_queries
from storage.clock import local_today
from storage.teams import repo as team_repo

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

Unit = Annotated[str | None, Query(max_length=20, description="Código da unidade das visitas (padrão: todas)")]


@router.get("/dashboard", response_model=DashboardRead, responses=etag.NOT_MODIFIED, **allow(*READERS))
def get_dashboard(
    request: Request, client: SearchDep, session: SessionDep, date: IsoDate | None = None, unit: Unit = None
) -> Response:
    """The numbers of one day (default: today in America/Sao_Paulo), optionally of one unit; each car with its
    team of the day. Weak `ETag` of the body; 304 on a matching `If-None-Match`."""
    day = date or local_today()
    found = stats_queries.dashboard(client, day, unit or None)
    teams = {team.car_id: team for team in team_repo.list_teams(session, day)}
    for car in found.by_car:
        team = teams.get(car["car_id"]) if car["car_id"] else None
        car["team"] = None if team is None else {
            "driver": {"id": team.driver.id, "name": team.driver.name},
            "collector": {"id": team.collector.id, "name": team.collector.name},
        }
    return etag.respond(request, DashboardRead.model_validate(found, from_attributes=True))


@router.get("/trend", response_model=TrendRead, **allow(*READERS))
def get_trend(
    client: SearchDep, visit_from: IsoDate | None = None, visit_to: IsoDate | None = None, unit: Unit = None,
) -> TrendRead:
    """One item per day of the period (default: the 30 days ending today), each as the dashboard of that day;
    422 `invalid_range` when `visit_to` precedes `visit_from` or the period passes 366 days."""
    found = stats_queries.trend(client, visit_from, visit_to, unit or None)
    return TrendRead.model_validate(found, from_attributes=True)


@router.get("/confirmation-rates", response_model=ConfirmationRatesRead, **allow(*READERS))
def get_confirmation_rates(
    client: SearchDep, group_by: GroupBy, visit_from: IsoDate | None = None, visit_to: IsoDate | None = None,
    unit: Unit = None,
) -> ConfirmationRatesRead:
    """Live visits, confirmed visits and the rate per neighbourhood, hour, car, channel or weekday."""
    rates = stats_queries.confirmation_rates(client, group_by, visit_from, visit_to, unit or None)
    return ConfirmationRatesRead.model_validate(rates, from_attributes=True)
