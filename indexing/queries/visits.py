"""The day's schedule, served from the visits index (and patients' contacts from the patients index).

A day is read whole (search_after pages of 1000, sorted by start and id), then grouped
by car: cars by label in natural order ("CARRO 2" before "CARRO 10"), then base and id;
visits without a car last; inside a car, by start then id. Contacts are not in the
visit documents (no phone goes into the visits index): they come from the patients'
own documents in one `mget`, so a phone fixed on the patient shows at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from opensearchpy import OpenSearch

from indexing import names

PAGE_SIZE = 1000
PATIENT_FIELDS = ["id", "name", "birth_date", "phones", "email", "preferred_channel", "tags", "priority", "opted_out"]
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class ScheduleQuery:
    """One local day; optional cars (id or label, OR-ed), statuses (OR-ed) and unit code."""

    day: date
    cars: Sequence[str] = ()
    statuses: Sequence[str] = ()
    unit: str | None = None


@dataclass
class CarDay:
    """One car's visits of the day, in time order (car_id None: visits without a car)."""

    car_id: str | None
    car: str | None
    car_base: str | None
    visits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Schedule:
    """The day's visit documents grouped by car, and the patients' documents by id."""

    day: date
    total: int
    cars: list[CarDay]
    patients: dict[str, dict[str, Any]]


def schedule(client: OpenSearch, query: ScheduleQuery) -> Schedule:
    """Return the day's visits by car and time, with their patients' contact documents."""
    filters: list[dict[str, Any]] = [{"term": {"date": query.day.isoformat()}}]
    if query.statuses:
        filters.append({"terms": {"status": list(query.statuses)}})
    if query.cars:
        values = sorted({v.strip() for v in query.cars if v.strip()} | {v.strip().upper() for v in query.cars if v.strip()})
        filters.append({"bool": {"should": [{"terms": {"car_id": values}}, {"terms": {"car": values}}],
                                 "minimum_should_match": 1}})
    if query.unit:
        filters.append({"term": {"unit_code": query.unit}})
    visits = list(_all_hits(client, {"bool": {"filter": filters}}))

    groups: dict[str | None, CarDay] = {}
    for visit in visits:
        key = visit.get("car_id")
        group = groups.get(key)
        if group is None:
            group = groups[key] = CarDay(key, visit.get("car"), visit.get("car_base"))
        group.visits.append(visit)
    cars = sorted(groups.values(), key=_car_order)
    patients = patient_documents(client, [v["patient_id"] for v in visits])
    return Schedule(query.day, len(visits), cars, patients)


def patient_documents(client: OpenSearch, patient_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Patient id -> the contact fields of their search document (ids not indexed yet are left out); one mget."""
    ids = sorted(set(patient_ids))
    if not ids:
        return {}
    response = client.mget(
        index=names.alias("patients"), body={"ids": ids}, params={"_source_includes": ",".join(PATIENT_FIELDS)}
    )
    return {doc["_id"]: doc["_source"] for doc in response["docs"] if doc.get("found")}


def _all_hits(client: OpenSearch, query: dict[str, Any]) -> Iterable[dict[str, Any]]:
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"query": query, "size": PAGE_SIZE, "sort": [{"start": "asc"}, {"id": "asc"}],
                                "track_total_hits": False}
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=names.alias("visits"), body=body)["hits"]["hits"]
        for hit in hits:
            yield hit["_source"]
        if len(hits) < PAGE_SIZE:
            return
        after = hits[-1]["sort"]


def _car_order(group: CarDay) -> tuple:
    label = group.car or ""
    natural = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(label) if part)
    return (group.car_id is None, natural, group.car_base or "", group.car_id or "")
