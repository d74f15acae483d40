"""The patients a bulk job's search matches: the same search as GET /api/v1/patients, every page of it.

Built on `indexing.queries.patients.search` (the same free text, filters and their
semantics: the visit filters hold on one live visit; cars are ids, resolved when the job
was created), walked with its `search_after` cursors in a stable order (name, then id),
so any number of matches is reached without deep paging.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opensearchpy import OpenSearch

from indexing.queries import patients as patient_queries

PAGE_SIZE = 1000


def query(search: Mapping[str, Any], page_size: int = PAGE_SIZE) -> patient_queries.PatientQuery:
    """The PatientQuery of a job's stored search, in name order."""
    return patient_queries.PatientQuery.from_search(search, sort="name", page_size=page_size)


def count(client: OpenSearch, search: Mapping[str, Any]) -> int:
    """How many patients the search matches now (exact)."""
    return patient_queries.search(client, query(search, page_size=0)).total


def patient_ids(client: OpenSearch, search: Mapping[str, Any], limit: int, page_size: int = PAGE_SIZE) -> list[str]:
    """The ids of the patients the search matches, in name order, at most `limit` (ask for one more than
    a cap to learn that it is passed)."""
    found: list[str] = []
    cursor: str | None = None
    while len(found) < limit:
        page = query(search, page_size=min(page_size, limit - len(found)))
        page.cursor = cursor
        hits = patient_queries.search(client, page)
        found.extend(item["id"] for item in hits.items)
        cursor = hits.next_cursor
        if cursor is None:
            break
    return found
