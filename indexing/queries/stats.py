"""Dashboard numbers and confirmation rates, served from the visits and patients indices.

Definitions (the same ones the tests check against PostgreSQL, to the unit):

- A *live* visit is not cancelled and still listed by the latest export of its unit and day
  (`status != "cancelled"` and `missing_from_latest_export` false) — the same rule as the
  patient document's `visit_count`.
- The day's live visits split four ways, so that
  `visits_today = confirmed_today + declined_today + pending_confirmations + no_show_today`:
  - `no_show_today`: marked no-show (whatever the patient had answered: the visit did not happen);
  - `confirmed_today`: collected (the patient was there, whatever was recorded), or still
    scheduled and confirmed;
  - `declined_today`: still scheduled, and the patient declined (staff must cancel or rebook);
  - `pending_confirmations`: still scheduled, neither confirmed nor declined: the calls left.
  A no-show or a collected visit is never pending: there is nothing left to confirm.
- `collected_today`: live visits marked collected (part of `confirmed_today`); `cancelled_today`:
  visits of the day still listed by the export and cancelled (as `by_status`); `active_cars`:
  cars with at least one live visit (the `by_car` entries that are a car).
- `no_show_rate = no_show / (collected + no_show)` over the day's live visits, 4 decimals, null
  when both are 0: of the visits that came to an end, how many found nobody.
- `lead_time`: over the day's live visits with a `booked_at`, the days from the booking day to
  the visit's day (America/Sao_Paulo calendar days, the document's `lead_time_days`): `visits`
  (how many had one), `median_days`, `p90_days` (continuous percentiles, as PostgreSQL's
  `percentile_cont`) and `mean_days`, 2 decimals; all null without such visits. Exact: the
  distribution is read whole from a composite aggregation of the day counts (never TDigest).
- The trend (`trend()`): one item per day of a range, each the dashboard's numbers of that day
  (days without visits included, zeros and null rates); `confirmation_rate = confirmed / visits`.
- `recurring_patients`: patients with live visits on two or more distinct days (any days,
  not only around the date). Counted on the patient documents' `recurring` flag (one count,
  whatever the registry's size): the document builder sets it by the same rule, and a
  visit change bumps its patient's row_version, so the drain rewrites that flag too.
- `total_patients`: the patient documents.
- `unit` (a unit code, optional) narrows everything to the visits of that unit
  (`unit_code`, as the schedule's `unit`); then `total_patients` and `recurring_patients`
  count the patients with a live visit in that unit (recurring by the rule above).
- `by_car` (one entry per car id, with its label, base, unit code and unit name; all null =
  no car): live visits and confirmed ones (as `confirmed_today`). `by_channel`: the
  `confirmed_today` visits by the channel that confirmed them (null = collected without a
  confirmation, or confirmed without a channel). `by_status` counts every visit of the date
  still listed by the export, cancelled included.
- Confirmation rates count live visits between `visit_from` and `visit_to` (inclusive
  America/Sao_Paulo days), optionally of one unit; a visit is confirmed when its patient
  confirmed it (confirmation status, whatever happened after: the rate measures the
  confirmations). Each item is `{value, label, visits, confirmed, rate}`: hour 0-23 labelled
  `07h`; weekday the ISO number (1 = segunda-feira … 7 = domingo) labelled with its pt-BR
  name; neighbourhood the folded key (lower case, no accents, single spaces) labelled with
  its most common spelling; car the car id with its label, base, unit and unit name.
  Rate = confirmed / visits, 4 decimals.
  By channel, a visit counts once for every channel its patient was reached through about
  it (`contact_channels`: our confirmation attempts, messages the provider took, and the
  channel that confirmed it), and is confirmed for a channel when that channel confirmed
  it: the rate says how well each channel works. The null group holds the visits nobody
  reached (confirmed there = confirmed without a channel).

Every grouping pages through a composite aggregation to the end, so no bucket is ever
cut off and no count is approximate (no `terms` size, no `cardinality`); a bucket's labels
are terms of size one under it (a car's label, base and unit are the same on all its visits).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import TransportError

from indexing import names
from indexing.queries import labels
from indexing.queries.patients import has_visit
from storage.clock import local_today
from storage.errors import Invalid

GROUP_FIELDS = {
    "neighborhood": "neighborhood",
    "hour": "hour",
    "weekday": "weekday",
    "car": "car_id",
    "channel": "contact_channels",
}
PAGE_SIZE = 1000

_LIVE = [
    {"bool": {"must_not": [{"term": {"status": "cancelled"}}, {"term": {"missing_from_latest_export": True}}]}},
]
_LISTED = [{"bool": {"must_not": [{"term": {"missing_from_latest_export": True}}]}}]
_CONFIRMED = {"term": {"confirmation_status": "confirmed"}}
_SCHEDULED = {"term": {"status": "scheduled"}}
# The day's split (see the module docstring); each applies to live visits.
_NO_SHOW = {"term": {"status": "no_show"}}
_COLLECTED = {"term": {"status": "collected"}}
_CANCELLED = {"term": {"status": "cancelled"}}
_DAY_CONFIRMED = {"bool": {"should": [
    {"term": {"status": "collected"}}, {"bool": {"filter": [_SCHEDULED, _CONFIRMED]}},
], "minimum_should_match": 1}}
_DECLINED = {"bool": {"filter": [_SCHEDULED, {"term": {"confirmation_status": "declined"}}]}}
_PENDING = {"bool": {"filter": [_SCHEDULED], "must_not": [
    _CONFIRMED, {"term": {"confirmation_status": "declined"}},
]}}
# The day's split of live visits (module docstring), under any bucket: its `live` filter's sub-aggregations.
_SPLIT = {
    "confirmed": {"filter": _DAY_CONFIRMED},
    "declined": {"filter": _DECLINED},
    "pending": {"filter": _PENDING},
    "no_show": {"filter": _NO_SHOW},
    "collected": {"filter": _COLLECTED},
}


# A car's labels under its bucket (visits mapping v3 adds the car's own unit).
_CAR_LABELS = {"label": "car", "base": "car_base", "unit": "car_unit_code", "unit_name": "car_unit_name"}


@dataclass
class Dashboard:
    """The day's numbers (see the module docstring for each definition)."""

    date: date
    unit: str | None
    total_patients: int
    visits_today: int
    confirmed_today: int
    declined_today: int
    pending_confirmations: int
    no_show_today: int
    recurring_patients: int
    by_car: list[dict[str, Any]]
    by_status: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    collected_today: int
    cancelled_today: int
    active_cars: int
    no_show_rate: float | None
    lead_time: dict[str, Any]


@dataclass
class Trend:
    """One item per day of `visit_from`..`visit_to` (each the dashboard's numbers of that day)."""

    visit_from: date
    visit_to: date
    unit: str | None
    items: list[dict[str, Any]]


@dataclass
class ConfirmationRates:
    """Visits, confirmed visits and their rate per value of one grouping."""

    group_by: str
    visit_from: date | None
    visit_to: date | None
    unit: str | None
    items: list[dict[str, Any]]


def dashboard(client: OpenSearch, day: date, unit: str | None = None) -> Dashboard:
    """The dashboard of one America/Sao_Paulo day, optionally of one unit; exact counts.

    One round trip (`_msearch`): one pass over the day's visits still listed by the export
    (every grouping an aggregation of it: a bucket counts through its live, or live and
    confirmed, sub-filter, and groups left empty by that filter are dropped), plus two counts
    of the patient documents. Only a grouping with more than PAGE_SIZE values pages on.
    """
    on_day = [{"term": {"date": day.isoformat()}}, *_LISTED]
    if unit:
        on_day.append({"term": {"unit_code": unit}})
    listed_today = {"bool": {"filter": on_day}}
    live_aggs = {"live": {"filter": _LIVE[0], "aggs": _SPLIT}, "cancelled": {"filter": _CANCELLED}}
    car_aggs = {
        "live": {"filter": _LIVE[0], "aggs": _SPLIT},
        **{name: {"terms": {"field": field_name, "size": 1}} for name, field_name in _CAR_LABELS.items()},
    }
    day_confirmed = {"bool": {"filter": [*_LIVE, _DAY_CONFIRMED]}}
    groupings: dict[str, tuple[str, dict[str, Any]]] = {
        "by_car": ("car_id", car_aggs),
        "by_status": ("status", {}),
        # The channel of a confirmation; a collected visit nobody confirmed has none (its bucket is null).
        "by_channel": ("confirmation_channel", {
            "counted": {"filter": {"bool": {"filter": [day_confirmed, _CONFIRMED]}}}
        }),
        # The day's lead times, value by value (null bucket: no booking time), for exact percentiles.
        "lead_time": ("lead_time_days", {"live": {"filter": _LIVE[0]}}),
    }
    day_aggs: dict[str, Any] = dict(live_aggs)
    day_aggs["collected_unconfirmed"] = {"filter": {"bool": {"filter": [day_confirmed], "must_not": [_CONFIRMED]}}}
    for name, (field_name, sub_aggs) in groupings.items():
        day_aggs[name] = {"composite": _composite_source(field_name), "aggs": sub_aggs}
    patients_query: dict[str, Any] = {"match_all": {}}
    if unit:
        patients_query = has_visit([{"term": {"visits.unit": unit}}])
    visits, patients, recurring = _msearch(client, [
        (names.alias("visits"), {"size": 0, "query": listed_today, "aggs": day_aggs}),
        (names.alias("patients"), {"size": 0, "track_total_hits": True, "query": patients_query}),
        (names.alias("patients"), {"size": 0, "track_total_hits": True, "query": {
            "bool": {"filter": [patients_query, {"term": {"recurring": True}}]}
        }}),
    ])
    aggregations = visits["aggregations"]
    buckets = {
        name: _all_buckets(client, listed_today, field_name, sub_aggs, aggregations[name])
        for name, (field_name, sub_aggs) in groupings.items()
    }
    by_car = [
        {**_car(key, bucket), "visits": bucket["live"]["doc_count"], **_split_counts(bucket["live"])}
        for key, bucket in buckets["by_car"]
        if bucket["live"]["doc_count"]
    ]
    lead_days = Counter({key: bucket["live"]["doc_count"] for key, bucket in buckets["lead_time"]
                         if key is not None and bucket["live"]["doc_count"]})
    by_status = [{"value": key, "count": bucket["doc_count"]} for key, bucket in buckets["by_status"]]
    channels: dict[str | None, int] = {}
    for key, bucket in buckets["by_channel"]:
        if bucket["counted"]["doc_count"]:
            channels[key] = bucket["counted"]["doc_count"]
    unconfirmed = aggregations["collected_unconfirmed"]["doc_count"]
    if unconfirmed:
        channels[None] = channels.get(None, 0) + unconfirmed
    live = aggregations["live"]
    counts = _split_counts(live)
    return Dashboard(
        date=day,
        unit=unit,
        total_patients=patients["hits"]["total"]["value"],
        visits_today=live["doc_count"],
        confirmed_today=live["confirmed"]["doc_count"],
        declined_today=live["declined"]["doc_count"],
        pending_confirmations=live["pending"]["doc_count"],
        no_show_today=live["no_show"]["doc_count"],
        recurring_patients=recurring["hits"]["total"]["value"],
        by_car=_cars_ordered(by_car),
        by_status=_ordered(by_status, "value"),
        by_channel=_ordered([{"value": key, "count": n} for key, n in channels.items()], "value"),
        collected_today=counts["collected"],
        cancelled_today=aggregations["cancelled"]["doc_count"],
        active_cars=sum(1 for car in by_car if car["car_id"] is not None),
        no_show_rate=no_show_rate(counts["collected"], counts["no_show"]),
        lead_time=lead_time(lead_days),
    )


def _split_counts(live: dict[str, Any]) -> dict[str, int]:
    """`{confirmed, declined, pending, no_show, collected}` of a `live` aggregation with `_SPLIT` under it."""
    return {name: live[name]["doc_count"] for name in _SPLIT}


def no_show_rate(collected: int, no_show: int) -> float | None:
    """no_show / (collected + no_show), 4 decimals; None when both are 0."""
    return share(no_show, collected + no_show)


def share(part: int, whole: int) -> float | None:
    """part / whole rounded half up to 4 decimals (as PostgreSQL rounds a numeric); None when whole is 0."""
    if not whole:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


_HUNDREDTH = Decimal("0.01")


def lead_time(days: Counter) -> dict[str, Any]:
    """`{visits, median_days, p90_days, mean_days}` of lead times given as {days: visits}; nulls when empty.

    Percentiles interpolate like PostgreSQL's `percentile_cont`; Decimal arithmetic, so the two
    decimals never depend on binary rounding.
    """
    total = sum(days.values())
    if not total:
        return {"visits": 0, "median_days": None, "p90_days": None, "mean_days": None}
    values = sorted(days)
    mean = Decimal(sum(value * n for value, n in days.items())) / total
    return {
        "visits": total,
        "median_days": _percentile(values, days, Decimal("0.5")),
        "p90_days": _percentile(values, days, Decimal("0.9")),
        "mean_days": float(mean.quantize(_HUNDREDTH, ROUND_HALF_UP)),
    }


def _percentile(values: list[int], counts: Counter, fraction: Decimal) -> float:
    """The continuous percentile of a distribution given as sorted distinct values and their counts."""
    position = fraction * (sum(counts.values()) - 1)
    low_rank = int(position)  # floor: position >= 0

    def at(rank: int) -> int:
        seen = 0
        for value in values:
            seen += counts[value]
            if rank < seen:
                return value
        return values[-1]

    low = at(low_rank)
    high = at(low_rank + 1) if position > low_rank else low
    result = low + (high - low) * (position - low_rank)
    return float(Decimal(result).quantize(_HUNDREDTH, ROUND_HALF_UP))


MAX_TREND_DAYS = 366
TREND_DAYS = 30


def trend_range(visit_from: date | None, visit_to: date | None, today: date) -> tuple[date, date]:
    """The trend's days: both given, or one and the TREND_DAYS around it, or the TREND_DAYS ending `today`.

    Invalid `invalid_range` when the end comes before the start or the range is longer than MAX_TREND_DAYS.
    """
    span = timedelta(days=TREND_DAYS - 1)
    if visit_from is None and visit_to is None:
        visit_to = today
    if visit_from is None:
        visit_from = visit_to - span
    if visit_to is None:
        visit_to = visit_from + span
    if visit_to < visit_from:
        raise Invalid("invalid_range", "A data final é anterior à inicial.", field="visit_to")
    if (visit_to - visit_from).days + 1 > MAX_TREND_DAYS:
        raise Invalid("invalid_range", f"O período pode ter no máximo {MAX_TREND_DAYS} dias.", field="visit_to",
                      max_days=MAX_TREND_DAYS)
    return visit_from, visit_to


def trend(
    client: OpenSearch, visit_from: date | None = None, visit_to: date | None = None, unit: str | None = None,
    today: date | None = None,
) -> Trend:
    """One item per day of `visit_from`..`visit_to` (inclusive; defaults and limits: `trend_range`), optionally
    of one unit.

    Each item has the dashboard's numbers of its day (same filters): visits, confirmed, declined,
    pending, collected, no_show, cancelled, `confirmation_rate` (confirmed / visits),
    `no_show_rate` and `lead_time_median_days`; a day without visits has zeros and null rates.
    Two composite aggregations paged to the end: the day counts, and the (day, lead time) counts.
    """
    visit_from, visit_to = trend_range(visit_from, visit_to, today or local_today())
    listed = [{"range": {"date": {"gte": visit_from.isoformat(), "lte": visit_to.isoformat()}}}, *_LISTED]
    if unit:
        listed.append({"term": {"unit_code": unit}})
    day_source = {"day": {"date_histogram": {"field": "date", "calendar_interval": "1d", "format": "yyyy-MM-dd"}}}
    days: dict[str, dict[str, Any]] = {}
    day_aggs = {"live": {"filter": _LIVE[0], "aggs": _SPLIT}, "cancelled": {"filter": _CANCELLED}}
    for key, bucket in _composite_pages(client, {"bool": {"filter": listed}}, [day_source], day_aggs):
        live = bucket["live"]
        days[key["day"]] = {"visits": live["doc_count"], **_split_counts(live),
                            "cancelled": bucket["cancelled"]["doc_count"]}
    leads: dict[str, Counter] = {}
    lead_source = {"lead": {"terms": {"field": "lead_time_days"}}}
    live_query = {"bool": {"filter": [*listed, *_LIVE]}}
    for key, bucket in _composite_pages(client, live_query, [day_source, lead_source]):
        leads.setdefault(key["day"], Counter())[key["lead"]] = bucket["doc_count"]
    items = []
    day = visit_from
    while day <= visit_to:
        counts = days.get(day.isoformat()) or {
            "visits": 0, **{name: 0 for name in _SPLIT}, "cancelled": 0}
        items.append({
            "date": day,
            "visits": counts["visits"],
            "confirmed": counts["confirmed"],
            "declined": counts["declined"],
            "pending": counts["pending"],
            "collected": counts["collected"],
            "no_show": counts["no_show"],
            "cancelled": counts["cancelled"],
            "confirmation_rate": share(counts["confirmed"], counts["visits"]),
            "no_show_rate": no_show_rate(counts["collected"], counts["no_show"]),
            "lead_time_median_days": lead_time(leads.get(day.isoformat(), Counter()))["median_days"],
        })
        day += timedelta(days=1)
    return Trend(visit_from, visit_to, unit, items)


def _composite_pages(
    client: OpenSearch, query: dict[str, Any], sources: list[dict[str, Any]], sub_aggs: dict[str, Any] | None = None,
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (key, bucket) of a composite aggregation over `sources` (no missing buckets), paged to the end."""
    after = None
    while True:
        composite: dict[str, Any] = {"size": PAGE_SIZE, "sources": sources}
        if after is not None:
            composite["after"] = after
        body = {"size": 0, "query": query, "aggs": {"groups": {"composite": composite, "aggs": sub_aggs or {}}}}
        groups = client.search(index=names.alias("visits"), body=body)["aggregations"]["groups"]
        for bucket in groups["buckets"]:
            yield bucket["key"], bucket
        after = groups.get("after_key")
        if len(groups["buckets"]) < PAGE_SIZE or after is None:
            return


def _car(car_id: str | None, bucket: dict[str, Any]) -> dict[str, Any]:
    """A car as groupings show it: `{car_id, label, base, unit, unit_name}` (all null: no car)."""
    shown = {name: _top(bucket, name) for name in _CAR_LABELS}
    return {"car_id": car_id, **shown}


def _top(bucket: dict[str, Any], name: str) -> Any:
    found = bucket.get(name, {}).get("buckets", [])
    return found[0]["key"] if found else None


def _cars_ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By label, base, unit and id; no car last."""
    return sorted(items, key=lambda i: (i["car_id"] is None, i["label"] or "", i["base"] or "", i["unit"] or "",
                                        i["car_id"] or ""))


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
    client: OpenSearch,
    group_by: str,
    visit_from: date | None = None,
    visit_to: date | None = None,
    unit: str | None = None,
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
    if unit:
        filters.append({"term": {"unit_code": unit}})
    if group_by == "channel":
        items = _channel_rates(client, filters)
        for item in items:
            item["label"] = labels.CHANNELS.get(item["value"], item["value"]) if item["value"] else "Não contatado"
        return ConfirmationRates(group_by, visit_from, visit_to, unit, _ordered(items, "value"))
    sub_aggs: dict[str, Any] = {"confirmed": {"filter": _CONFIRMED}}
    if group_by == "car":
        sub_aggs.update({name: {"terms": {"field": f, "size": 1}} for name, f in _CAR_LABELS.items()})
    elif group_by == "neighborhood":
        # The folded key's spellings (visits mapping v3), to show the most common one.
        sub_aggs["forms"] = {"terms": {"field": "neighborhood.raw", "size": labels.FORMS}}
    items = []
    for key, bucket in _composite(client, {"bool": {"filter": filters}}, GROUP_FIELDS[group_by], sub_aggs):
        visits, confirmed = bucket["doc_count"], bucket["confirmed"]["doc_count"]
        item: dict[str, Any] = {"value": key, "label": _rate_label(group_by, key, bucket)}
        if group_by == "car":
            item.update(_car(key, bucket))
            item["label"] = item["label"] if key is not None else "Sem carro"
        item.update(visits=visits, confirmed=confirmed, rate=rate(confirmed, visits))
        items.append(item)
    if group_by == "car":
        return ConfirmationRates(group_by, visit_from, visit_to, unit, _cars_ordered(items))
    return ConfirmationRates(group_by, visit_from, visit_to, unit, _ordered(items, "value"))


def _rate_label(group_by: str, key: Any, bucket: dict[str, Any]) -> str:
    """What a rates item shows for its value (pt-BR)."""
    if key is None:
        return "Não informado"
    if group_by == "weekday":
        return labels.WEEKDAYS[key]
    if group_by == "hour":
        return f"{key:02d}h"
    if group_by == "neighborhood":
        return labels.display(bucket.get("forms", {}).get("buckets", []), key)
    if group_by == "car":
        return _top(bucket, "label") or str(key)
    return str(key)


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
