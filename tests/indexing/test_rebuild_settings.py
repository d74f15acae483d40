"""A rebuilt index fills with refresh off and an asynchronous translog, and goes live with its mapping's settings."""

from __future__ import annotations

from indexing import lifecycle, sync
from indexing.settings import get_settings
from tests.indexing.conftest import create_patients


def test_the_swapped_in_index_has_the_mapping_settings_back(committed, client, monkeypatch):
    create_patients(7)
    sync.drain()
    monkeypatch.setenv("COLETA_BACKFILL_CHUNK_SIZE", "2")
    get_settings.cache_clear()
    try:
        report = lifecycle.rebuild("patients")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

    assert (report.documents, report.phases.documents, report.phases.workers) == (7, 7, 3)
    settings = client.indices.get_settings(index=report.new_index, flat_settings=True)[report.new_index]["settings"]
    assert settings["index.refresh_interval"] == "1s"
    assert settings["index.number_of_replicas"] == "0"
    assert settings["index.translog.durability"] == "request"
    assert "index.translog.flush_threshold_size" not in settings
    assert client.count(index=report.new_index)["count"] == 7
