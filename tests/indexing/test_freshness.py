"""A person's few writes are searchable as soon as the drain wrote them; an import's stream keeps the interval."""

from __future__ import annotations

import pytest

from indexing import names, sync
from indexing.settings import get_settings
from storage import outbox
from storage.db import unit_of_work
from storage.patients import service as patient_service
from tests.factories import patient_data
from tests.indexing.conftest import create_patients


@pytest.fixture
def no_refresh_interval(committed, client):
    """The live patient index never refreshes on its own: only an explicit refresh shows a write."""
    alias = names.alias("patients")
    client.indices.put_settings(index=alias, body={"index": {"refresh_interval": "-1"}})
    yield alias


def _searchable(client, alias: str, ids: list[str]) -> int:
    return client.count(index=alias, body={"query": {"ids": {"values": ids}}})["count"]


def test_a_few_writes_are_searchable_right_after_the_drain(client, no_refresh_interval):
    ids = create_patients(2)
    result = sync.drain()
    assert result.applied_entities == 2
    assert _searchable(client, no_refresh_interval, ids) == 2


def test_a_backlog_is_left_to_the_refresh_interval(client, no_refresh_interval, monkeypatch):
    monkeypatch.setenv("COLETA_DRAIN_REFRESH_BELOW", "5")
    get_settings.cache_clear()
    try:
        ids = create_patients(5)
        assert sync.drain().applied_entities == 5
        assert _searchable(client, no_refresh_interval, ids) == 0
        client.indices.refresh(index=no_refresh_interval)
        assert _searchable(client, no_refresh_interval, ids) == 5
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_a_write_behind_an_imports_backlog_goes_out_with_the_next_drains_first_batch(client, committed):
    # An import's batch records its rows as a bulk writer's; a person's edit made meanwhile is drained first.
    with unit_of_work() as session:
        outbox.mark_bulk(session)
        backlog = [patient_service.create(session, patient_data()).id for _ in range(30)]
    (latest,) = create_patients(1)
    result = sync.drain(max_batches=1, batch_size=10)
    assert result.applied_entities == 1
    client.indices.refresh(index=names.alias("patients"))
    assert _searchable(client, names.alias("patients"), [latest]) == 1
    # The import's rows still go out, oldest first, in the batches after.
    sync.drain(max_batches=10, batch_size=10)
    client.indices.refresh(index=names.alias("patients"))
    assert _searchable(client, names.alias("patients"), backlog) == 30
