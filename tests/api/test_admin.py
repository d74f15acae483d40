"""Admin routes: the sync status and the rebuild through a real worker."""

from __future__ import annotations

import pytest

from indexing import lifecycle, names
from indexing.client import get_client
from tests.fixtures import wait_until


def test_reindex_is_queued_and_a_real_worker_swaps_the_alias(api_client, make_account, celery_worker):
    admin = make_account("admin").headers
    client = get_client()
    before = lifecycle.live_indices(client, "patients")
    response = api_client.post("/api/v1/admin/reindex", json={"index": "patients"}, headers=admin)
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert (response.json()["index"], response.json()["status"]) == ("patients", "queued")
    # The worker swaps the alias first and deletes the old index just after, so wait for both.
    finished = wait_until(
        lambda: lifecycle.live_indices(client, "patients") != before and not client.indices.exists(index=before[0]),
        timeout=30,
        interval=0.2,
    )
    assert finished
    assert not client.indices.exists_alias(name=names.rebuild_alias("patients"))
    job = wait_until(lambda: (lambda j: j if j["status"] == "done" else None)(
        api_client.get(f"/api/v1/admin/reindex/{job_id}", headers=admin).json()), timeout=10, interval=0.1)
    assert (job["status"], job["new_index"], job["failure"]) == (
        "done", lifecycle.live_indices(client, "patients")[0], None)


def test_unknown_index_is_a_validation_error(api_client, make_account):
    response = api_client.post("/api/v1/admin/reindex", json={"index": "shoes"}, headers=make_account("admin").headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_an_abandoned_rebuild_is_dropped_a_running_one_is_respected(committed):
    client = get_client()
    leftover = lifecycle.create_concrete(client, "patients")
    client.indices.update_aliases(body={"actions": [{"add": {"index": leftover, "alias": names.rebuild_alias("patients")}}]})
    with pytest.raises(lifecycle.RebuildError, match="em andamento"):
        lifecycle.rebuild("patients", abandoned_after_seconds=3600)
    assert client.indices.exists(index=leftover)
    report = lifecycle.rebuild("patients", abandoned_after_seconds=0)
    assert not client.indices.exists(index=leftover)
    assert lifecycle.live_indices(client, "patients") == [report.new_index]
