"""A rebuilt index fills with refresh off and an asynchronous translog, and goes live with its mapping's settings,
merged down to the segments its searches need."""

from __future__ import annotations

from indexing import lifecycle, sync
from indexing.settings import get_settings
from storage.db import unit_of_work
from tests.indexing.conftest import create_patients
from tests.storage.messages.helpers import at, make_patient, make_visit, today


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


def test_the_swapped_in_patient_index_is_merged_down_to_one_segment(committed, client, monkeypatch):
    create_patients(6)
    sync.drain()

    segments, documents = rebuilt_segments(client, monkeypatch, "patients")

    assert (segments, documents) == (1, 6)


def test_the_swapped_in_visit_index_keeps_three_segments(committed, client, monkeypatch):
    with unit_of_work() as session:
        patient = make_patient(session)
        for hour in range(7, 17):
            make_visit(session, patient, at(today(), hour))
    sync.drain()

    segments, documents = rebuilt_segments(client, monkeypatch, "visits")

    # Five chunks of two, a segment each: merged down to three, not to one (filters and aggregations only).
    assert (segments, documents) == (3, 10)


def rebuilt_segments(client, monkeypatch, index: str) -> tuple[int, int]:
    """Rebuild `index` in chunks of 2, each chunk made a segment of its own; the live index's segments, documents."""
    made: list[str] = []

    def on_phase(phase: str, new_index: str) -> None:
        made.append(new_index)

    def progress(done: int, total: int) -> None:
        # Every chunk made searchable on its own: a segment each, as a big backfill's buffer flushes make.
        client.indices.refresh(index=made[0])

    monkeypatch.setenv("COLETA_BACKFILL_CHUNK_SIZE", "2")
    monkeypatch.setenv("COLETA_BACKFILL_WORKERS", "1")
    get_settings.cache_clear()
    try:
        report = lifecycle.rebuild(index, progress=progress, on_phase=on_phase)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    segments = client.indices.segments(index=report.new_index)["indices"][report.new_index]["shards"]["0"][0]
    return segments["num_search_segments"], report.documents
