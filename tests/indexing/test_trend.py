"""The daily trend equals the dashboard of each of its days; the dashboard names each car's team; ETags."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from indexing.client import get_client
from indexing.queries import stats
from storage.clock import local_today
from storage.db import unit_of_work
from storage.errors import Invalid
from storage.teams import service as team_service
from storage import indexed
from storage.visits.models import Visit
from tests.indexing.test_stats import (  # noqa: F401 - `imported` is a fixture
    LIVE,
    _rows,
    expected_dashboard,
    imported,
    served,
    sync_index,
)


def as_trend_item(dashboard: dict[str, Any]) -> dict[str, Any]:
    """What the trend must say of a day, read off that day's dashboard."""
    visits, confirmed = dashboard["visits_today"], dashboard["confirmed_today"]
    return {
        "date": dashboard["date"],
        "visits": visits,
        "confirmed": confirmed,
        "declined": dashboard["declined_today"],
        "pending": dashboard["pending_confirmations"],
        "collected": dashboard["collected_today"],
        "no_show": dashboard["no_show_today"],
        "cancelled": dashboard["cancelled_today"],
        "confirmation_rate": stats.share(confirmed, visits),
        "no_show_rate": dashboard["no_show_rate"],
        "lead_time_median_days": dashboard["lead_time"]["median_days"],
    }


def _mark_some(day: date) -> None:
    """A no-show, a collected visit and a cancellation on `day`, so every count of the day moves."""
    no_show, collected, cancelled = [row[0] for row in _rows(
        f"SELECT v.id FROM visits v WHERE v.visit_date = :day AND {LIVE} AND v.status = 'scheduled' "
        "ORDER BY v.id LIMIT 3", day=day,
    )]
    with unit_of_work() as session:
        changed = {visit_id: session.get(Visit, visit_id) for visit_id in (no_show, collected, cancelled)}
        changed[no_show].status = "no_show"
        changed[collected].status = "collected"
        changed[cancelled].status = "cancelled"
        session.flush()
        indexed.mark_changed(session, visits=list(changed))
    sync_index()


def test_each_day_of_the_trend_equals_that_days_dashboard(imported):
    days = imported
    _mark_some(days[-1])
    first, last = days[0] - timedelta(days=2), days[-1] + timedelta(days=1)
    units = [None, *[u for (u,) in _rows("SELECT DISTINCT unit_code FROM visits WHERE unit_code IS NOT NULL")]]
    client = get_client()
    for unit in units:
        found = stats.trend(client, first, last, unit)
        assert (found.visit_from, found.visit_to, found.unit) == (first, last, unit)
        assert [item["date"] for item in found.items] == [first + timedelta(days=n) for n in range((last - first).days + 1)]
        for item in found.items:
            assert item == as_trend_item(expected_dashboard(item["date"], unit)), (item["date"], unit)
            assert item == as_trend_item(vars(stats.dashboard(client, item["date"], unit)))
    # A day without visits: zeros and null rates.
    empty = stats.trend(client, first, first).items
    assert empty == [{"date": first, "visits": 0, "confirmed": 0, "declined": 0, "pending": 0, "collected": 0,
                      "no_show": 0, "cancelled": 0, "confirmation_rate": None, "no_show_rate": None,
                      "lead_time_median_days": None}]
    busy = next(item for item in stats.trend(client, days[-1], days[-1]).items)
    assert busy["no_show"] == 1 and busy["collected"] >= 1 and busy["cancelled"] >= 1
    assert busy["lead_time_median_days"] is not None


def test_the_trend_pages_through_every_bucket(imported, monkeypatch):
    monkeypatch.setattr(stats, "PAGE_SIZE", 2)
    client = get_client()
    found = stats.trend(client, imported[0], imported[-1])
    for item in found.items:
        assert item == as_trend_item(expected_dashboard(item["date"])), item["date"]


def test_trend_range_defaults_and_limits():
    today = date(2026, 12, 7)
    assert stats.trend_range(None, None, today) == (date(2026, 11, 8), today)
    assert stats.trend_range(date(2026, 1, 1), None, today) == (date(2026, 1, 1), date(2026, 1, 30))
    assert stats.trend_range(None, date(2026, 1, 30), today) == (date(2026, 1, 1), date(2026, 1, 30))
    assert stats.trend_range(date(2026, 1, 1), date(2027, 1, 1), today) == (date(2026, 1, 1), date(2027, 1, 1))
    for visit_from, visit_to in ((date(2026, 1, 2), date(2026, 1, 1)), (date(2026, 1, 1), date(2027, 1, 2))):
        with pytest.raises(Invalid) as raised:
            stats.trend_range(visit_from, visit_to, today)
        assert raised.value.code == "invalid_range"


def test_trend_route(imported, api_client, make_account):
    headers = make_account("viewer").headers
    day = imported[-1]
    response = api_client.get("/api/v1/stats/trend", params={"visit_from": day.isoformat(),
                                                              "visit_to": day.isoformat()}, headers=headers)
    assert response.status_code == 200, response.json()
    item = as_trend_item(expected_dashboard(day))
    assert response.json() == {"visit_from": day.isoformat(), "visit_to": day.isoformat(), "unit": None,
                               "items": [{**item, "date": day.isoformat()}]}
    default = api_client.get("/api/v1/stats/trend", headers=headers).json()
    today = local_today()
    assert (default["visit_from"], default["visit_to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert len(default["items"]) == 30
    year = api_client.get("/api/v1/stats/trend", params={"visit_from": "2025-01-01", "visit_to": "2026-01-01"},
                          headers=headers)
    assert year.status_code == 200 and len(year.json()["items"]) == 366
    for params in ({"visit_from": "2025-06-21", "visit_to": "2025-06-20"},
                   {"visit_from": "2025-01-01", "visit_to": "2026-01-02"}):
        response = api_client.get("/api/v1/stats/trend", params=params, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_range"
        assert response.json()["error"]["details"]["field"] == "visit_to"
    driver = make_account("driver").headers
    assert api_client.get("/api/v1/stats/trend", headers=driver).status_code == 403


def test_the_dashboard_names_each_cars_team(imported, api_client, make_account):
    day = imported[-1]
    car_ids = [row[0] for row in _rows(
        f"SELECT DISTINCT v.car_id FROM visits v WHERE v.visit_date = :day AND {LIVE} ORDER BY 1", day=day)]
    with unit_of_work() as session:
        driver = team_service.create_member(session, "driver", {"name": "Olga Motorista"})
        collector = team_service.create_member(session, "collector", {"name": "Rute Coletora"})
        team_service.assign(session, {"car_id": car_ids[0], "day": day, "driver_id": driver.id,
                                      "collector_id": collector.id})
        # A team of another day is not this day's.
        other_driver = team_service.create_member(session, "driver", {"name": "Walter Motorista"})
        other_collector = team_service.create_member(session, "collector", {"name": "Ester Coletora"})
        team_service.assign(session, {"car_id": car_ids[1], "day": day + timedelta(days=1),
                                      "driver_id": other_driver.id, "collector_id": other_collector.id})
        team = {"driver": {"id": driver.id, "name": "Olga Motorista"},
                "collector": {"id": collector.id, "name": "Rute Coletora"}}
    headers = make_account("viewer").headers
    body = api_client.get("/api/v1/stats/dashboard", params={"date": day.isoformat()}, headers=headers).json()
    assert body == served(expected_dashboard(day), {car_ids[0]: team})
    assert body["active_cars"] == len(car_ids)


def test_the_dashboard_answers_304_while_its_body_is_the_same(imported, api_client, make_account):
    day = imported[-1]
    headers = make_account("viewer").headers
    params = {"date": day.isoformat()}
    first = api_client.get("/api/v1/stats/dashboard", params=params, headers=headers)
    tag = first.headers["etag"]
    assert tag.startswith('W/"') and first.headers["cache-control"] == "private, no-cache"
    again = api_client.get("/api/v1/stats/dashboard", params=params, headers={**headers, "If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert again.headers["cache-control"] == "private, no-cache"
    # Another day is another body.
    other = api_client.get("/api/v1/stats/dashboard", params={"date": "2030-01-01"},
                           headers={**headers, "If-None-Match": tag})
    assert other.status_code == 200 and other.headers["etag"] != tag
    _mark_some(day)
    changed = api_client.get("/api/v1/stats/dashboard", params=params, headers={**headers, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.json() == served(expected_dashboard(day))


def test_the_counts_sort_every_kind_of_visit_and_page_to_the_end(imported, monkeypatch):
    # The dashboard and the trend count visits by plain values and sort them in Python: a visit
    # without a car, one collected after a refusal (confirmed that day, under no channel), one
    # confirmed without a channel and a no-show that had confirmed must land where PostgreSQL puts them,
    # with one bucket per page so every composite pages to its last bucket.
    day = imported[-1]
    no_car, collected, unchanneled, no_show = [row[0] for row in _rows(
        f"SELECT v.id FROM visits v WHERE v.visit_date = :day AND {LIVE} AND v.status = 'scheduled' "
        "AND v.car_id IS NOT NULL ORDER BY v.id LIMIT 4", day=day,
    )]
    with unit_of_work() as session:
        changed = {visit_id: session.get(Visit, visit_id) for visit_id in (no_car, collected, unchanneled, no_show)}
        changed[no_car].car_id = None
        changed[collected].status = "collected"
        changed[collected].confirmation_status = "declined"
        changed[collected].confirmation_channel = "whatsapp"
        changed[unchanneled].confirmation_status = "confirmed"
        changed[unchanneled].confirmation_channel = None
        changed[no_show].status = "no_show"
        changed[no_show].confirmation_status = "confirmed"
        changed[no_show].confirmation_channel = "phone"
        session.flush()
        indexed.mark_changed(session, visits=list(changed), stale_patients=[v.patient_id for v in changed.values()])
    sync_index()
    monkeypatch.setattr(stats, "COUNT_PAGE_SIZE", 1)
    client = get_client()
    dashboard = stats.dashboard(client, day)
    assert vars(dashboard) == expected_dashboard(day)
    assert any(car["car_id"] is None for car in dashboard.by_car)
    assert any(item["value"] is None for item in dashboard.by_channel)
    for item in stats.trend(client, imported[0], imported[-1]).items:
        assert item == as_trend_item(expected_dashboard(item["date"])), item["date"]
