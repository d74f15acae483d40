"""A drainer killed mid-batch loses nothing; a rebuild under concurrent writes loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import func, select

from indexing import lifecycle, names, sync
from indexing.client import get_client
from indexing.settings import get_settings as get_index_settings
from storage.db import unit_of_work
from storage.outbox import OutboxEntry
from storage.patients import service as patient_service
from storage.patients.models import Patient
from tests.factories import patient_data
from tests.fixtures import ROOT, wait_until
from tests.indexing.conftest import create_patients, refresh


def pending() -> int:
    with unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(OutboxEntry))


def versions_in_postgres() -> dict[str, int]:
    with unit_of_work() as session:
        return dict(session.execute(select(Patient.id, Patient.row_version)).all())


def versions_in_index() -> dict[str, int]:
    client = get_client()
    refresh()
    found = {}
    response = client.search(
        index=names.alias("patients"), body={"size": 10_000, "query": {"match_all": {}}, "_source": False, "version": True}
    )
    for hit in response["hits"]["hits"]:
        found[hit["_id"]] = hit["_version"]
    return found


def test_a_drainer_killed_mid_drain_loses_nothing(committed):
    total = 3000
    for _ in range(total // 500):
        create_patients(500)
    assert pending() == total

    env = dict(os.environ, COLETA_DRAIN_BATCH_SIZE="20")
    drainer = subprocess.Popen([sys.executable, "-m", "workers", "drain"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it for real (no clean shutdown) once it has applied some batches but not all.
    progressed = wait_until(lambda: pending() < total - 200, timeout=60, interval=0.01)
    drainer.send_signal(signal.SIGKILL)
    drainer.wait(timeout=10)
    left = pending()
    assert progressed and 0 < left < total, "the drainer must die mid-drain"

    # Its open transaction was rolled back by PostgreSQL; the rows are due again.
    sync.drain(max_batches=1000)
    assert pending() == 0
    assert versions_in_index() == versions_in_postgres()
    assert len(versions_in_postgres()) == total


def test_rebuild_under_concurrent_writes_keeps_searches_answering_and_loses_no_write(committed, monkeypatch):
    initial = create_patients(1500)
    sync.drain(max_batches=1000)
    refresh()
    old_indices = lifecycle.live_indices(get_client(), "patients")

    # Small chunks so the backfill takes long enough to overlap the writes below.
    monkeypatch.setenv("COLETA_BACKFILL_CHUNK_SIZE", "25")
    get_index_settings.cache_clear()

    report: dict = {}
    rebuild = threading.Thread(target=lambda: report.setdefault("result", lifecycle.rebuild("patients")))
    writes_during_rebuild = 0
    searches, search_errors = 0, []
    created, updated, deleted = [], [], []
    client = get_client()
    rebuild.start()
    wait_until(lambda: client.indices.exists_alias(name=names.rebuild_alias("patients")), timeout=10, interval=0.005)
    try:
        step = 0
        while rebuild.is_alive():
            with unit_of_work() as session:
                created.append(patient_service.create(session, patient_data()).id)
                target = initial[step % len(initial)]
                patient_service.update(session, target, {"notes": f"mudança {step}"})
                updated.append(target)
                if step % 3 == 0:
                    victim = initial[-1 - step]
                    patient_service.delete(session, victim)
                    deleted.append(victim)
            sync.drain()
            writes_during_rebuild += 1
            try:
                response = client.search(index=names.alias("patients"), body={"query": {"match_all": {}}, "size": 0})
                assert response["hits"]["total"]["value"] > 0
                searches += 1
            except Exception as error:  # any failure here is what the test is about
                search_errors.append(repr(error))
            step += 1
    finally:
        rebuild.join(timeout=120)
        get_index_settings.cache_clear()

    assert writes_during_rebuild >= 5, "the writes must overlap the backfill"
    assert search_errors == []
    assert searches == writes_during_rebuild
    result = report["result"]
    assert result.old_indices == old_indices
    assert lifecycle.live_indices(client, "patients") == [result.new_index]
    assert not client.indices.exists(index=old_indices[0])
    assert not client.indices.exists_alias(name=names.rebuild_alias("patients"))

    sync.drain(max_batches=1000)
    in_postgres, in_index = versions_in_postgres(), versions_in_index()
    assert in_index == in_postgres
    assert set(created) <= set(in_index)
    assert not set(deleted) & set(in_index)
    assert len(in_postgres) == 1500 + len(created) - len(set(deleted))
