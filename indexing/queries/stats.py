"""Dashboard numbers and confirmation rates, served from the visits and patients indices.

Definitions (the same ones the tests check against PostgreSQL, to the unit):

- A *live* visit is not cancelled and still listed by the latest export of its unit and day
  (`status != "cancelled"` and `missing_from_latest_export` false) — the same rule as the
  patient document's `visit_count`.
- `visits_today`: live visits on the date; `confirmed_today`: those confirmed;
  `pending_confirmations`: those not confirmed (so visits_today = confirmed + pending).
- `recurring_patients`: patients with live visits on two or more distinct days (any days,
  not only around the date): the earliest and latest visit day of the patient differ.
- `by_car` (car label; null = no car) and `by_channel` (confirmation channel of the
  confirmed live visits; null = confirmed without a channel) count live visits only;
  `by_status` counts every visit of the date still listed by the export, cancelled included.
- Confirmation rates count live visits between `visit_from` and `visit_to` (inclusive
  America/Sao_Paulo days); hour (0-23) and weekday (ISO, 1 = Monday) are those of the
  visit start in America/Sao_Paulo, as the document stores them; neighbourhoods are the
  folded (lowercase, no accents) keyword values. Rate = confirmed / visits, 4 decimals.

Every grouping pages through a composite aggregation to the end, so no bucket is ever
cut off and no count is approximate (no `terms` size, no `cardinality`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from opensearchpy import OpenSearch

from indexing import names
from storage.errors import Invalid

GROUP_FIELDS = {
    "neighborhood": "neighborhood",
    "hour": "hour",
    "weekday": "weekday",
    "car": "car",
    "channel": "confirmation_channel",
}
PAGE_SIZE = 1000

_LIVE = [
    {"bool": {"must_not": [{"term": {"status": "cancelled"}}, {"term": {"missing_from_latest_export": True}}]}},
]
_LISTED = [{"bool": {"must_not": [{"term": {"missing_from_latest_export": True}}]}}]
_CONFIRMED = {"term": {"confirmation_status": "confirmed"}}


@dataclass
class Dashboard:
    """The day's numbers (see the module docstring for each definition)."""

    date: date
    total_patients: int
    visits_today: int
    confirmed_today: int
    pending_confirmations: int
    recurring_patients: int
    by_car: list[dict[str, Any]]
    by_status: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]


@dataclass
class ConfirmationRates:
    """Visits, confirmed visits and their rate per value of one grouping."""

    group_by: str
    visit_from: date | None
    visit_to: date | None
    items: list[dict[str, Any]]


def dashboard(client: OpenSearch, day: date) -> Dashboard:
    """The dashboard of one America/Sao_Paulo day; exact counts."""
    on_day = {"term": {"date": day.isoformat()}}
    live_today = {"bool": {"filter": [on_day, *_LIVE]}}
    response = client.search(
        index=names.alias("visits"),
        body={
            "size": 0,
            "track_total_hits": True,
            "query": live_today,
            "aggs": {"confirmed": {"filter": _CONFIRMED}},
        },
    )
    visits_today = response["hits"]["total"]["value"]
    confirmed_today = response["aggregations"]["confirmed"]["doc_count"]

    by_car = [
        {"car": key, "visits": bucket["doc_count"], "confirmed": bucket["confirmed"]["doc_count"]}
        for key, bucket in _composite(client, live_today, "car", {"confirmed": {"filter": _CONFIRMED}})
    ]
    by_status = [
        {"value": key, "count": bucket["doc_count"]}
        for key, bucket in _composite(client, {"bool": {"filter": [on_day, *_LISTED]}}, "status")
    ]
    confirmed_live_today = {"bool": {"filter": [on_day, *_LIVE, _CONFIRMED]}}
    by_channel = [
        {"value": key, "count": bucket["doc_count"]}
        for key, bucket in _composite(client, confirmed_live_today, "confirmation_channel")
    ]
    total_patients = client.count(index=names.alias("patients"), body={"query": {"match_all": {}}})["count"]
    return Dashboard(
        date=day,
        total_patients=total_patients,
        visits_today=visits_today,
        confirmed_today=confirmed_today,
        pending_confirmations=visits_today - confirmed_today,
        recurring_patients=recurring_patients(client),
        by_car=_ordered(by_car, "car"),
        by_status=_ordered(by_status, "value"),
        by_channel=_ordered(by_channel, "value"),
    )


def recurring_patients(client: OpenSearch) -> int:
    """Patients whose live visits fall on two or more distinct days (earliest day != latest day); exact."""
    sub_aggs = {"first": {"min": {"field": "date"}}, "last": {"max": {"field": "date"}}}
    query = {"bool": {"filter": _LIVE}}
    return sum(
        1 for _, bucket in _composite(client, query, "patient_id", sub_aggs, missing_bucket=False)
        if bucket["first"]["value"] != bucket["last"]["value"]
    )


def confirmation_rates(
    client: OpenSearch, group_by: str, visit_from: date | None = None, visit_to: date | None = None
) -> ConfirmationRates:
    """Live visits, confirmed visits and the rate per neighbourhood, hour, car, channel or weekday."""
    if group_by not in GROUP_FIELDS:
        raise Invalid("invalid_group_by", "Agrupamento inválido.", field="group_by", allowed=sorted(GROUP_FIELDS))
    if visit_from and visit_to and visit_from > visit_to:
        raise Invalid("invalid_period", "A data inicial é posterior à final.", field="visit_from")
    filters: list[dict[str, Any]] = list(_LIVE)
    if visit_from or visit_to:
        bounds = {}
        if visit_from:
            bounds["gte"] = visit_from.isoformat()
        if visit_to:
            bounds["lte"] = visit_to.isoformat()
        filters.append({"range": {"date": bounds}})
    items = []
    for key, bucket in _composite(
        client, {"bool": {"filter": filters}}, GROUP_FIELDS[group_by], {"confirmed": {"filter": _CONFIRMED}}
    ):
        visits, confirmed = bucket["doc_count"], bucket["confirmed"]["doc_count"]
        items.append({"value": key, "visits": visits, "confirmed": confirmed, "rate": rate(confirmed, visits)})
    return ConfirmationRates(group_by, visit_from, visit_to, _ordered(items, "value"))


def rate(confirmed: int, visits: int) -> float:
    """Confirmed / visits rounded to 4 decimals (0.0 without visits)."""
    return round(confirmed / visits, 4) if visits else 0.0


def _composite(
    client: OpenSearch,
    query: dict[str, Any],
    field_name: str,
    sub_aggs: dict[str, Any] | None = None,
    missing_bucket: bool = True,
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Every (key, bucket) of `field_name` under `query`, paging the composite aggregation to the end."""
    after: dict[str, Any] | None = None
    while True:
        composite: dict[str, Any] = {
            "size": PAGE_SIZE,
            "sources": [{"key": {"terms": {"field": field_name, "missing_bucket": missing_bucket}}}],
        }
        if after is not None:
            composite["after"] = after
        body = {"size": 0, "query": query, "aggs": {"groups": {"composite": composite, "aggs": sub_aggs or {}}}}
        groups = client.search(index=names.alias("visits"), body=body)["aggregations"]["groups"]
        for bucket in groups["buckets"]:
            yield bucket["key"]["key"], bucket
        after = groups.get("after_key")
        if len(groups["buckets"]) < PAGE_SIZE or after is None:
            return


def _ordered(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """By value, the null group last."""
    return sorted(items, key=lambda item: (item[key] is None, item[key] if item[key] is not None else 0))
