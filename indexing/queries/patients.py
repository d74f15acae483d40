"""Patient search served from the index: free text, filters, facets, sorts, cursors."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from opensearchpy import OpenSearch

from indexing import names
from storage.errors import Invalid

# A query of digits and the punctuation of CPFs and phones is an identifier, not a name.
_NOT_IDENTIFIER = re.compile(r"[^\d\s.\-()/+]")
_NON_DIGITS = re.compile(r"\D")

# filter parameter -> keyword field
FILTER_FIELDS = {
    "neighborhood": "neighborhood",
    "city": "city",
    "health_plan": "health_plan",
    "tag": "tags",
    "priority": "priority",
}
FACET_FIELDS = {"neighborhood": "neighborhood", "health_plan": "health_plan", "tag": "tags"}
SORTS = {
    "relevance": [{"_score": "desc"}, {"id": "asc"}],
    "name": [{"name.sort": "asc"}, {"id": "asc"}],
    "next_visit": [{"next_visit": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
    "-last_visit": [{"last_visit": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
}
SOURCE_FIELDS = [
    "id", "name", "cpf", "birth_date", "phones", "neighborhood", "city", "health_plan",
    "tags", "priority", "next_visit", "last_visit", "visit_count",
]


@dataclass
class PatientQuery:
    """A search request as the API received it."""

    q: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "relevance"
    page_size: int = 20
    cursor: str | None = None


@dataclass
class PatientHits:
    """A page of results with total, facets and the cursor of the next page."""

    total: int
    items: list[dict[str, Any]]
    facets: dict[str, list[dict[str, Any]]]
    next_cursor: str | None


def text_query(q: str) -> dict[str, Any]:
    """Build the scoring query for the search box: identifiers first, then names, addresses, plans."""
    q = q.strip()
    digits = _NON_DIGITS.sub("", q)
    should: list[dict[str, Any]] = []
    if len(digits) >= 3 and not _NOT_IDENTIFIER.search(q):
        should += [
            {"term": {"cpf": {"value": digits, "boost": 100}}},
            {"term": {"phones": {"value": digits, "boost": 100}}},
            {"match": {"cpf.prefix": {"query": digits, "boost": 20}}},
            {"match": {"phones.prefix": {"query": digits, "boost": 20}}},
        ]
        if len(digits) == 4:
            should.append({"term": {"phone_last4": {"value": digits, "boost": 10}}})
        if len(digits) == 8:
            should.append({"term": {"zip_code": {"value": digits, "boost": 10}}})
    else:
        should += [
            {"match": {"name": {"query": q, "operator": "and", "boost": 10}}},
            {"match": {"name": {"query": q, "operator": "and", "fuzziness": "AUTO", "prefix_length": 1, "boost": 5}}},
            {"match": {"name.prefix": {"query": q, "operator": "and", "boost": 3}}},
            {"match": {"address": {"query": q, "operator": "and", "boost": 1}}},
            {"match": {"health_plan.text": {"query": q, "operator": "and", "boost": 1}}},
        ]
    return {"bool": {"should": should, "minimum_should_match": 1}}


def search(client: OpenSearch, query: PatientQuery) -> PatientHits:
    """Run a patient search against the live alias."""
    if query.sort not in SORTS:
        raise Invalid("invalid_sort", "Ordenação inválida.", field="sort", allowed=sorted(SORTS))
    must = [text_query(query.q)] if query.q and query.q.strip() else [{"match_all": {}}]
    filters = {
        name: {"terms": {FILTER_FIELDS[name]: values}}
        for name, values in query.filters.items()
        if values and name in FILTER_FIELDS
    }
    body: dict[str, Any] = {
        "size": query.page_size,
        "track_total_hits": True,
        "query": {"bool": {"must": must}},
        # Multi-select facets: each facet counts under every filter but its own.
        "post_filter": {"bool": {"filter": list(filters.values())}},
        "aggs": _facet_aggs(filters),
        "sort": SORTS[query.sort],
        "_source": SOURCE_FIELDS,
        "highlight": {"fields": {"name": {}, "address": {}}, "pre_tags": ["<em>"], "post_tags": ["</em>"]},
    }
    if query.cursor:
        body["search_after"] = decode_cursor(query.cursor)
    response = client.search(index=names.alias("patients"), body=body)
    hits = response["hits"]["hits"]
    items = []
    for hit in hits:
        item = dict(hit["_source"])
        item["highlight"] = hit.get("highlight", {})
        items.append(item)
    next_cursor = encode_cursor(hits[-1]["sort"]) if len(hits) == query.page_size and hits else None
    return PatientHits(
        total=response["hits"]["total"]["value"],
        items=items,
        facets=_facets(response.get("aggregations", {})),
        next_cursor=next_cursor,
    )


def _facet_aggs(filters: dict[str, dict[str, Any]]) -> dict[str, Any]:
    aggs = {}
    for name, field_name in FACET_FIELDS.items():
        others = [clause for other, clause in filters.items() if other != name]
        aggs[name] = {
            "filter": {"bool": {"filter": others}},
            "aggs": {"values": {"terms": {"field": field_name, "size": 20}}},
        }
    return aggs


def _facets(aggregations: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    facets: dict[str, list[dict[str, Any]]] = {"confirmation_status": [], "car": []}
    for name in FACET_FIELDS:
        buckets = aggregations.get(name, {}).get("values", {}).get("buckets", [])
        facets[name] = [{"value": b["key"], "count": b["doc_count"]} for b in buckets]
    return facets


def encode_cursor(sort_values: list[Any]) -> str:
    """Encode `search_after` values as an opaque cursor."""
    return base64.urlsafe_b64encode(json.dumps(sort_values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """Decode a cursor; Invalid if it was not made by `encode_cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise Invalid("invalid_cursor", "Cursor de paginação inválido.", field="cursor") from None
    if not isinstance(values, list):
        raise Invalid("invalid_cursor", "Cursor de paginação inválido.", field="cursor")
    return values
