"""Helpers for index tests: create committed patients, read documents back."""

from __future__ import annotations

import pytest
from opensearchpy.exceptions import NotFoundError

from indexing import names
from indexing.client import get_client
from storage.db import unit_of_work
from storage.patients import service as patient_service
from tests.factories import patient_data


def create_patients(count: int, **overrides) -> list[str]:
    """Create and commit `count` patients; return their ids."""
    with unit_of_work() as session:
        return [patient_service.create(session, patient_data(**overrides)).id for _ in range(count)]


def indexed(patient_id: str) -> dict | None:
    """Return the live document of a patient (with `_version`), or None."""
    client = get_client()
    try:
        hit = client.get(index=names.alias("patients"), id=patient_id)
    except NotFoundError:
        return None
    return {**hit["_source"], "_version": hit["_version"]}


def refresh() -> None:
    """Make every write searchable now (instead of sleeping)."""
    get_client().indices.refresh(index=names.alias("patients"))


@pytest.fixture
def client():
    return get_client()
