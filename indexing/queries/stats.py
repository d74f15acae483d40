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
- `total_patients`: the patient documents.
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
from opensearchpy.exceptions import TransportError

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
    """The dashboard of one America/Sao_Paulo day; exact counts.

    One round trip (`_msearch`): one pass over the day's visits still listed by the export
    (every grouping an aggregation of it: a bucket counts through its live, or live and
    confirmed, sub-filter, and groups left empty by that filter are dropped), plus two counts
    of the patient documents. Only a grouping with more than PAGE_SIZE values pages on.
    """
    on_day = {"term": {"date": day.isoformat()}}
    listed_today = {"bool": {"filter": [on_day, *_LISTED]}}
    live_confirmed = {"bool": {"filter": [*_LIVE, _CONFIRMED]}}
    live_aggs = {"live": {"filter": _LIVE[0], "aggs": {"confirmed": {"filter": _CONFIRMED}}}}
    groupings: dict[str, tuple[str, dict[str, Any]]] = {
        "by_car": ("car", live_aggs),
        "by_status": ("status", {}),
        "by_channel": ("confirmation_channel", {"counted": {"filter": live_confirmed}}),
    }
    day_aggs: dict[str, Any] = dict(live_aggs)
    for name, (field_name, sub_aggs) in groupings.items():
        day_aggs[name] = {"composite": _composite_source(field_name), "aggs": sub_aggs}
    visits, patients, recurring = _msearch(client, [
        (names.alias("visits"), {"size": 0, "query": listed_today, "aggs": day_aggs}),
        (names.alias("patients"), {"size": 0, "track_total_hits": True, "query": {"match_all": {}}}),
        (names.alias("patients"), {"size": 0, "track_total_hits": True, "query": {"term": {"recurring": True}}}),
    ])
    aggregations = visits["aggregations"]
    buckets = {
        name: _all_buckets(client, listed_today, field_name, sub_aggs, aggregations[name])
        for name, (field_name, sub_aggs) in groupings.items()
    }
    by_car = [
        {"car": key, "visits": bucket["live"]["doc_count"], "confirmed": bucket["live"]["confirmed"]["doc_count"]}
        for key, bucket in buckets["by_car"]
        if bucket["live"]["doc_count"]
    ]
    by_status = [{"value": key, "count": bucket["doc_count"]} for key, bucket in buckets["by_status"]]
    by_channel = [
        {"value": key, "count": bucket["counted"]["doc_count"]}
        for key, bucket in buckets["by_channel"]
        if bucket["counted"]["doc_count"]
    ]
    visits_today = aggregations["live"]["doc_count"]
    confirmed_today = aggregations["live"]["confirmed"]["doc_count"]
    return Dashboard(
        date=day,
        total_patients=patients["hits"]["total"]["value"],
        visits_today=visits_today,
        confirmed_today=confirmed_today,
        pending_confirmations=visits_today - confirmed_today,
        recurring_patients=recurring["hits"]["total"]["value"],
        by_car=_ordered(by_car, "car"),
        by_status=_ordered(by_status, "value"),
        by_channel=_ordered(by_channel, "value"),
    )


def recurring_patients(client: OpenSearch) -> int:
    """Patients whose live visits fall on two or more distinct days; exact (the documents' `recurring` flag).

    The document builder sets the flag by that rule and a visit change bumps its patient's
    row_version, so a count of the flag is exact, whatever the registry's size.
    """
    body = {"size": 0, "track_total_hits": True, "query": {"term": {"recurring": True}}}
    return client.search(index=names.alias("patients"), body=body)["hits"]["total"]["value"]


def _msearch(client: OpenSearch, searches: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run searches in one round trip; an error in any of them raises like a failed search."""
    lines: list[dict[str, Any]] = []
    for index, body in searches:
        lines += [{"index": index}, body]
    responses = client.msearch(body=lines)["responses"]
    for response in responses:
        if "error" in response:
            error = response["error"]
            raise TransportError(response.get("status", 500), error.get("type", "search_failed"), error)
    return responses


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


def _composite_source(field_name: str, missing_bucket: bool = True, after: dict[str, Any] | None = None) -> dict[str, Any]:
    composite: dict[str, Any] = {
        "size": PAGE_SIZE,
        "sources": [{"key": {"terms": {"field": field_name, "missing_bucket": missing_bucket}}}],
    }
    if after is not None:
        composite["after"] = after
    return composite


def _composite(
    client: OpenSearch,
    query: dict[str, Any],
    field_name: str,
    sub_aggs: dict[str, Any] | None = None,
    missing_bucket: bool = True,
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Every (key, bucket) of `field_name` under `query`, paging the composite aggregation to the end."""
    return _all_buckets(client, query, field_name, sub_aggs, None, missing_bucket)


def _all_buckets(
    client: OpenSearch,
    query: dict[str, Any],
    field_name: str,
    sub_aggs: dict[str, Any] | None,
    first_page: dict[str, Any] | None,
    missing_bucket: bool = True,
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The buckets of a composite aggregation from `first_page` (None: ask for it) to the last page."""
    groups = first_page
    while True:
        if groups is None:
            composite = _composite_source(field_name, missing_bucket)
            body = {"size": 0, "query": query, "aggs": {"groups": {"composite": composite, "aggs": sub_aggs or {}}}}
            groups = client.search(index=names.alias("visits"), body=body)["aggregations"]["groups"]
        for bucket in groups["buckets"]:
            yield bucket["key"]["key"], bucket
        after = groups.get("after_key")
        if len(groups["buckets"]) < PAGE_SIZE or after is None:
            return
        composite = _composite_source(field_name, missing_bucket, after)
        body = {"size": 0, "query": query, "aggs": {"groups": {"composite": composite, "aggs": sub_aggs or {}}}}
        groups = client.search(index=names.alias("visits"), body=body)["aggregations"]["groups"]


def _ordered(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """By value, the null group last."""
    return sorted(items, key=lambda item: (item[key] is None, item[key] if item[key] is not None else 0))
