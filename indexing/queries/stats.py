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
cut off and no count is approximate (no `terms` size, no `cardinality`). The dashboard and the
trend count visits by plain values only (status, confirmation, channel, car, lead time, day) and
`counted_as` sorts those counts by the definitions above (a filter under every bucket costs
~100 ms a day at 3M visits); a car's labels are extra sources there (the same on all its visits),
and terms of size one under its bucket in the rates.
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
# Pages of the dashboard's and trend's composites: plain counts without sub-aggregations, so a bucket is
# small and a long trend fits in one or two passes (each page is a pass over every matching visit);
# well under search.max_buckets (65,535 by default).
COUNT_PAGE_SIZE = 10000

_LIVE = [
    {"bool": {"must_not": [{"term": {"status": "cancelled"}}, {"term": {"missing_from_latest_export": True}}]}},
]
_LISTED = [{"bool": {"must_not": [{"term": {"missing_from_latest_export": True}}]}}]
_CONFIRMED = {"term": {"confirmation_status": "confirmed"}}
# The counts of the day's split (module docstring), in the order the dashboard shows them.
SPLIT = ("confirmed", "declined", "pending", "no_show", "collected")


def counted_as(status: str | None, confirmation_status: str | None) -> tuple[str, ...]:
    """The counts a visit still listed by the export adds to (module docstring): `cancelled`, or `live`
    and its part of the day's split (a collected visit is `confirmed` and `collected`).

    The one definition of the split: the aggregations only count visits by (status,
    confirmation_status), and this sorts those counts.
    """
    if not is_live(status):
        return ("cancelled",)
    if status == "no_show":
        return ("live", "no_show")
    if status == "collected":
        return ("live", "confirmed", "collected")
    if status == "scheduled":
        if confirmation_status == "confirmed":
            return ("live", "confirmed")
        if confirmation_status == "declined":
            return ("live", "declined")
        return ("live", "pending")
    return ("live",)


def is_live(status: str | None) -> bool:
    """Whether a visit still listed by the export is live (not cancelled)."""
    return status != "cancelled"


def confirmed_channel(confirmation_status: str | None, confirmation_channel: str | None) -> str | None:
    """The `by_channel` group of a `confirmed_today` visit: the channel that confirmed it (None: collected
    without a confirmation, or confirmed without a channel)."""
    return confirmation_channel if confirmation_status == "confirmed" else None


# A car's labels under its bucket (visits mapping v3 adds the car's own unit).
_CAR_LABELS = {"label": "car", "base": "car_base", "unit": "car_unit_code", "unit_name": "car_unit_name"}


def _terms(name: str, field_name: str | None = None, missing_bucket: bool = True) -> dict[str, Any]:
    """A composite source of a field's plain values (by default with a bucket for visits without one)."""
    return {name: {"terms": {"field": field_name or name, "missing_bucket": missing_bucket}}}


# What `counted_as` sorts visits by.
_STATUS_SOURCES = [_terms("status"), _terms("confirmation_status")]


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

    One round trip (`_msearch`): one pass over the day's visits still listed by the export,
    counted by plain values only (three composite aggregations: by car with its labels, status
    and confirmation; by status, confirmation and channel; by status and lead time), sorted into
    the day's numbers by `counted_as`; plus two counts of the patient documents. Only a grouping
    with more than COUNT_PAGE_SIZE value combinations pages on.
    """
    on_day = [{"term": {"date": day.isoformat()}}, *_LISTED]
    if unit:
        on_day.append({"term": {"unit_code": unit}})
    listed_today = {"bool": {"filter": on_day}}
    groupings = {
        # A car's labels are the same on all its visits: as sources they add no combinations.
        "by_car": [_terms("car_id"), *_STATUS_SOURCES, *(_terms(name, field) for name, field in _CAR_LABELS.items())],
        "by_channel": [*_STATUS_SOURCES, _terms("confirmation_channel")],
        # The day's lead times, value by value (a visit without a booking time has none), for exact percentiles.
        "lead_time": [_STATUS_SOURCES[0], _terms("lead_time_days", missing_bucket=False)],
    }
    patients_query: dict[str, Any] = {"match_all": {}}
    if unit:
        patients_query = has_visit([{"term": {"visits.unit": unit}}])
    visits, patients, recurring = _msearch(client, [
        (names.alias("visits"), {"size": 0, "query": listed_today, "aggs": _composites(groupings)}),
        (names.alias("patients"), {"size": 0, "track_total_hits": True, "query": patients_query}),
        (names.alias("patients"), {"size": 0, "track_total_hits": True, "query": {
            "bool": {"filter": [patients_query, {"term": {"recurring": True}}]}
        }}),
    ])
    counts = {name: _all_counts(client, listed_today, sources, visits["aggregations"][name])
              for name, sources in groupings.items()}
    day_counts: Counter = Counter()
    by_status: Counter = Counter()
    channels: Counter = Counter()
    for key, n in counts["by_channel"]:
        by_status[key["status"]] += n
        counted = counted_as(key["status"], key["confirmation_status"])
        day_counts.update(dict.fromkeys(counted, n))
        if "confirmed" in counted:
            channels[confirmed_channel(key["confirmation_status"], key["confirmation_channel"])] += n
    car_counts: dict[str | None, Counter] = {}
    car_labels: dict[str | None, dict[str, Counter]] = {}
    for key, n in counts["by_car"]:
        car_counts.setdefault(key["car_id"], Counter()).update(
            dict.fromkeys(counted_as(key["status"], key["confirmation_status"]), n))
        labels_seen = car_labels.setdefault(key["car_id"], {name: Counter() for name in _CAR_LABELS})
        for name in _CAR_LABELS:
            if key[name] is not None:
                labels_seen[name][key[name]] += n
    by_car = [
        {"car_id": car_id, **{name: _most_common(car_labels[car_id][name]) for name in _CAR_LABELS},
         "visits": car["live"], **{name: car[name] for name in SPLIT}}
        for car_id, car in car_counts.items()
        if car["live"]
    ]
    lead_days: Counter = Counter()
    for key, n in counts["lead_time"]:
        if is_live(key["status"]):
            lead_days[key["lead_time_days"]] += n
    return Dashboard(
        date=day,
        unit=unit,
        total_patients=patients["hits"]["total"]["value"],
        visits_today=day_counts["live"],
        confirmed_today=day_counts["confirmed"],
        declined_today=day_counts["declined"],
        pending_confirmations=day_counts["pending"],
        no_show_today=day_counts["no_show"],
        recurring_patients=recurring["hits"]["total"]["value"],
        by_car=_cars_ordered(by_car),
        by_status=_ordered([{"value": key, "count": n} for key, n in by_status.items()], "value"),
        by_channel=_ordered([{"value": key, "count": n} for key, n in channels.items()], "value"),
        collected_today=day_counts["collected"],
        cancelled_today=day_counts["cancelled"],
        active_cars=sum(1 for car in by_car if car["car_id"] is not None),
        no_show_rate=no_show_rate(day_counts["collected"], day_counts["no_show"]),
        lead_time=lead_time(lead_days),
    )


def _most_common(values: Counter) -> Any:
    """What a `terms` aggregation of size one answers: the value on most visits, on a tie the first in byte
    order (the code point order of str); None without any."""
    return min(values.items(), key=lambda item: (-item[1], item[0]))[0] if values else None


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
    One round trip for the first pages of two composite aggregations of plain values, paged on to the
    end: (day, status, confirmation) over the range's visits still listed by the export, sorted into
    each day's numbers by `counted_as`, and (day, lead time) over its live visits.
    """
    visit_from, visit_to = trend_range(visit_from, visit_to, today or local_today())
    listed = [{"range": {"date": {"gte": visit_from.isoformat(), "lte": visit_to.isoformat()}}}, *_LISTED]
    if unit:
        listed.append({"term": {"unit_code": unit}})
    listed_query = {"bool": {"filter": listed}}
    # Live in the query rather than a status source: a third as many (day, lead time) buckets to page through.
    live_query = {"bool": {"filter": [*listed, *_LIVE]}}
    day_source = {"day": {"date_histogram": {"field": "date", "calendar_interval": "1d", "format": "yyyy-MM-dd"}}}
    day_sources = [day_source, *_STATUS_SOURCES]
    lead_sources = [day_source, _terms("lead", "lead_time_days", missing_bucket=False)]
    by_day, by_lead = _msearch(client, [
        (names.alias("visits"), {"size": 0, "query": listed_query, "aggs": _composites({"groups": day_sources})}),
        (names.alias("visits"), {"size": 0, "query": live_query, "aggs": _composites({"groups": lead_sources})}),
    ])
    days: dict[str, Counter] = {}
    for key, n in _all_counts(client, listed_query, day_sources, by_day["aggregations"]["groups"]):
        counted = counted_as(key["status"], key["confirmation_status"])
        days.setdefault(key["day"], Counter()).update(dict.fromkeys(counted, n))
    leads: dict[str, Counter] = {}
    for key, n in _all_counts(client, live_query, lead_sources, by_lead["aggregations"]["groups"]):
        leads.setdefault(key["day"], Counter())[key["lead"]] = n
    items = []
    day = visit_from
    while day <= visit_to:
        counts = days.get(day.isoformat(), Counter())
        items.append({
            "date": day,
            "visits": counts["live"],
            "confirmed": counts["confirmed"],
            "declined": counts["declined"],
            "pending": counts["pending"],
            "collected": counts["collected"],
            "no_show": counts["no_show"],
            "cancelled": counts["cancelled"],
            "confirmation_rate": share(counts["confirmed"], counts["live"]),
            "no_show_rate": no_show_rate(counts["collected"], counts["no_show"]),
            "lead_time_median_days": lead_time(leads.get(day.isoformat(), Counter()))["median_days"],
        })
        day += timedelta(days=1)
    return Trend(visit_from, visit_to, unit, items)


def _composites(groupings: dict[str, list[dict[str, Any]]], after: dict[str, Any] | None = None) -> dict[str, Any]:
    """Composite aggregations named as `groupings`, each over its sources, without sub-aggregations."""
    aggs = {}
    for name, sources in groupings.items():
        composite: dict[str, Any] = {"size": COUNT_PAGE_SIZE, "sources": sources}
        if after is not None:
            composite["after"] = after
        aggs[name] = {"composite": composite}
    return aggs


def _all_counts(
    client: OpenSearch, query: dict[str, Any], sources: list[dict[str, Any]], first_page: dict[str, Any] | None = None,
) -> list[tuple[dict[str, Any], int]]:
    """Every (key, visits) of a composite aggregation over `sources` under `query`, from `first_page`
    (None: ask for it) to the last page."""
    counts: list[tuple[dict[str, Any], int]] = []
    groups, after = first_page, None
    while True:
        if groups is None:
            body = {"size": 0, "query": query, "aggs": _composites({"groups": sources}, after)}
            groups = client.search(index=names.alias("visits"), body=body)["aggregations"]["groups"]
        counts += [(bucket["key"], bucket["doc_count"]) for bucket in groups["buckets"]]
        after = groups.get("after_key")
        if len(groups["buckets"]) < COUNT_PAGE_SIZE or after is None:
            return counts
        groups = None


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
    """Per contact channel: the visits reached through it and those it confirmed (see the module docstring).

    Counted from one plain composite over (contact channel, confirmation status, confirming channel):
    a visit reached through two channels sits in both channels' buckets, as the definition wants, and
    the visits nobody reached in the null one (filter sub-aggregations cost ~10× more at 1M).
    """
    sources = [
        _terms("channel", "contact_channels"),
        _terms("confirmation_status"),
        _terms("confirmation_channel"),
    ]
    reached: Counter = Counter()
    confirmed: Counter = Counter()
    for key, visits in _all_counts(client, {"bool": {"filter": filters}}, sources):
        channel = key["channel"]
        reached[channel] += visits
        # Confirmed for a channel when that channel confirmed it; nobody reached: confirmed at all.
        if key["confirmation_status"] == "confirmed" and (channel is None or key["confirmation_channel"] == channel):
            confirmed[channel] += visits
    channels = sorted(c for c in reached if c is not None)
    return [
        {"value": channel, "visits": reached[channel], "confirmed": confirmed[channel],
         "rate": rate(confirmed[channel], reached[channel])}
        for channel in [*channels, None]
        if reached[channel]
    ]


def rate(confirmed: int, visits: int) -> float:
    """Confirmed / visits rounded to 4 decimals (0.0 without visits)."""
    return round(confirmed / visits, 4) if visits else 0.0


def _composite(
    client: OpenSearch, query: dict[str, Any], field_name: str, sub_aggs: dict[str, Any] | None = None,
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Every (key, bucket) of `field_name` under `query` (a null bucket for visits without one), with
    `sub_aggs` under each bucket, paging the composite aggregation to the end."""
    after = None
    while True:
        composite: dict[str, Any] = {"size": PAGE_SIZE, "sources": [_terms("key", field_name)]}
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
