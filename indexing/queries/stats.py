"""Dashboard numbers and confirmation rates, served from the visits and patients indices.

Definitions (the same ones the tests check against PostgreSQL, to the unit):

- A *live* visit is not cancelled and still listed by the latest export of its unit and day
  (`status != "cancelled"` and `missing_from_latest_export` false) — the same rule as the
  patient document's `visit_count`.
- `visits_today`: live visits on the date; `confirmed_today`: those confirmed;
  `pending_confirmations`: those not confirmed (so visits_today = confirmed + pending).
- `recurring_patients`: patients with live visits on two or more distinct days (any days,
  not only around the date). Counted on the patient documents' `recurring` flag (one count,
  whatever the registry's size): the document builder sets it by the same rule, and a
  visit change bumps its patient's row_version, so the drain rewrites that flag too.
- `by_car` (car label; null = no car) and `by_channel` (confirmation channel of the
  confirmed live visits; null = confirmed without a channel) count live visits only;
  `by_status` counts every visit of the date still listed by the export, cancelled included.
- Confirmation rates count live visits between `visit_from` and `visit_to` (inclusive
  America/Sao_Paulo days); hour (0-23) and weekday (ISO, 1 = Monday) are those of the
  visit start in America/Sao_Paulo, as the document stores them; neighbourhoods are the
  folded (lowercase, no accents) keyword values. Rate = confirmed / visits, 4 decimals.
  By channel, a visit counts once for every channel its patient was reached through about
  it (`contact_channels`: our confirmation attempts, messages the provider took, and the
  channel that confirmed it), and is confirmed for a channel when that channel confirmed
  it: the rate says how well each channel works. The null group holds the visits nobody
  reached (confirmed there = confirmed without a channel).

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
    "channel": "contact_channels",
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
    total_patients, recurring = _patient_counts(client)
    return Dashboard(
        date=day,
        total_patients=total_patients,
        visits_today=visits_today,
        confirmed_today=confirmed_today,
        pending_confirmations=visits_today - confirmed_today,
        recurring_patients=recurring,
        by_car=_ordered(by_car, "car"),
        by_status=_ordered(by_status, "value"),
        by_channel=_ordered(by_channel, "value"),
    )


def recurring_patients(client: OpenSearch) -> int:
    """Patients whose live visits fall on two or more distinct days; exact (the documents' `recurring` flag)."""
    return _patient_counts(client)[1]


def _patient_counts(client: OpenSearch) -> tuple[int, int]:
    """(patients, recurring patients) in one request: an exact total and a filter count, no per-patient walk."""
    response = client.search(
        index=names.alias("patients"),
        body={
            "size": 0,
            "track_total_hits": True,
            "query": {"match_all": {}},
            "aggs": {"recurring": {"filter": {"term": {"recurring": True}}}},
        },
    )
    return response["hits"]["total"]["value"], response["aggregations"]["recurring"]["doc_count"]


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
    if group_by == "channel":
        return ConfirmationRates(group_by, visit_from, visit_to, _ordered(_channel_rates(client, filters), "value"))
    items = []
    for key, bucket in _composite(
        client, {"bool": {"filter": filters}}, GROUP_FIELDS[group_by], {"confirmed": {"filter": _CONFIRMED}}
    ):
        visits, confirmed = bucket["doc_count"], bucket["confirmed"]["doc_count"]
        items.append({"value": key, "visits": visits, "confirmed": confirmed, "rate": rate(confirmed, visits)})
    return ConfirmationRates(group_by, visit_from, visit_to, _ordered(items, "value"))


def _channel_rates(client: OpenSearch, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per contact channel: the visits reached through it and those it confirmed (see the module docstring)."""
    query = {"bool": {"filter": filters}}
    channels = [key for key, _ in _composite(client, query, "contact_channels", missing_bucket=False)]
    unreached = {"bool": {"must_not": [{"exists": {"field": "contact_channels"}}]}}
    named: dict[str, dict[str, Any]] = {"reached:": unreached, "confirmed:": {"bool": {"filter": [unreached, _CONFIRMED]}}}
    for channel in channels:
        reached = {"term": {"contact_channels": channel}}
        named[f"reached:{channel}"] = reached
        named[f"confirmed:{channel}"] = {
            "bool": {"filter": [reached, _CONFIRMED, {"term": {"confirmation_channel": channel}}]}
        }
    body = {"size": 0, "query": query, "aggs": {"channels": {"filters": {"filters": named}}}}
    buckets = client.search(index=names.alias("visits"), body=body)["aggregations"]["channels"]["buckets"]
    items = []
    for channel in [*channels, None]:
        visits = buckets[f"reached:{channel or ''}"]["doc_count"]
        confirmed = buckets[f"confirmed:{channel or ''}"]["doc_count"]
        if visits:
            items.append({"value": channel, "visits": visits, "confirmed": confirmed, "rate": rate(confirmed, visits)})
    return items


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
