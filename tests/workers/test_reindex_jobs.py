"""Reindex jobs: one per index at a time, progress written by the real rebuild, and a run whose worker died
is settled by the sweep (queued again with its leftover index dropped, done if it had swapped, failed at last)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, update

from indexing import lifecycle, names
from indexing.client import get_client
from storage.db import unit_of_work
from storage.patients import service as patient_service
from storage.reindex import service as reindex_service
from storage.reindex.models import ReindexJob
from workers.app import DEFAULT_QUEUE, celery_app
from workers.tasks.reindex import resume_stalled_reindex, run_job

REINDEX = "/api/v1/admin/reindex"


@pytest.fixture
def admin(make_account):
    return make_account("admin")


def _patients(count: int) -> None:
    with unit_of_work() as session:
        for n in range(count):
            patient_service.create(session, {"name": f"Paciente {n}"})


def _job(job_id: str) -> ReindexJob:
    with unit_of_work() as session:
        job = session.get(ReindexJob, job_id)
        session.expunge(job)
        return job


def _silent_for(job_id: str, seconds: float) -> None:
    """The run's last heartbeat was `seconds` ago (its worker was killed then)."""
    with unit_of_work() as session:
        session.execute(update(ReindexJob).where(ReindexJob.id == job_id)
                        .values(updated_at=func.now() - timedelta(seconds=seconds)))


def test_one_job_per_index_at_a_time(api_client, admin):
    first = api_client.post(REINDEX, json={"index": "patients"}, headers=admin.headers)
    assert first.status_code == 202
    body = first.json()
    assert (body["index"], body["status"], body["processed"], body["total"], body["actor_id"]) == (
        "patients", "queued", 0, None, admin.id)

    again = api_client.post(REINDEX, json={"index": "patients"}, headers=admin.headers)
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "reindex_running", "message": "Já há uma reconstrução deste índice na fila ou em andamento.",
        "details": {"job_id": body["job_id"]},
    }
    other = api_client.post(REINDEX, json={"index": "visits"}, headers=admin.headers)
    assert other.status_code == 202

    listed = api_client.get(REINDEX, headers=admin.headers).json()
    assert [j["job_id"] for j in listed["items"]] == [other.json()["job_id"], body["job_id"]]
    only = api_client.get(REINDEX, params={"index": "patients"}, headers=admin.headers).json()
    assert [j["job_id"] for j in only["items"]] == [body["job_id"]]
    assert api_client.get(f"{REINDEX}/nenhum", headers=admin.headers).json()["error"]["code"] == (
        "reindex_job_not_found")


def test_the_rebuild_writes_its_phases_and_progress_then_a_new_job_is_accepted(api_client, admin, monkeypatch):
    from indexing.settings import get_settings

    _patients(5)
    monkeypatch.setattr(get_settings(), "backfill_chunk_size", 2)
    job_id = api_client.post(REINDEX, json={"index": "patients"}, headers=admin.headers).json()["job_id"]
    seen: list[tuple] = []
    real_rebuild = lifecycle.rebuild

    def watched(index, progress, on_phase):
        def phase(name, new):
            on_phase(name, new)
            job = _job(job_id)
            seen.append((job.status, job.processed, job.total, job.new_index == new))
        return real_rebuild(index, progress=progress, on_phase=phase)

    monkeypatch.setattr(lifecycle, "rebuild", watched)
    assert run_job(job_id) == "done"
    assert run_job(job_id) == "skipped"  # a duplicate task stands down

    # Backfilling once the new index exists, swapping with the backfill's last count written.
    assert seen == [("backfilling", 0, None, True), ("swapping", 5, 5, True)]
    done = api_client.get(f"{REINDEX}/{job_id}", headers=admin.headers).json()
    assert (done["status"], done["processed"], done["total"], done["failure"]) == ("done", 5, 5, None)
    assert lifecycle.live_indices(get_client(), "patients") == [done["new_index"]]
    assert done["started_at"] is not None and done["finished_at"] is not None
    assert api_client.post(REINDEX, json={"index": "patients"}, headers=admin.headers).status_code == 202


def test_a_refused_rebuild_fails_the_job_with_the_rebuild_s_code(committed):
    client = get_client()
    leftover = lifecycle.create_concrete(client, "patients")  # another rebuild, running now
    client.indices.update_aliases(body={"actions": [{"add": {"index": leftover, "alias": names.rebuild_alias("patients")}}]})
    with unit_of_work() as session:
        job_id = reindex_service.request(session, "patients", actor_id=None).id
    assert run_job(job_id) == "failed"
    job = _job(job_id)
    assert (job.status, job.failure_code, job.failure_message) == (
        "failed", "rebuild_in_progress", "Já existe uma reconstrução em andamento para este índice.")


def test_a_run_whose_worker_died_is_queued_again_without_its_leftover_and_then_finishes(committed):
    _patients(3)
    client = get_client()
    with unit_of_work() as session:
        job_id = reindex_service.request(session, "patients", actor_id=None).id
    # What a worker killed mid-backfill leaves: the job backfilling, a new index behind the rebuild alias.
    with unit_of_work() as session:
        claim = reindex_service.begin(session, job_id)
    leftover = lifecycle.create_concrete(client, "patients")
    client.indices.update_aliases(body={"actions": [{"add": {"index": leftover, "alias": names.rebuild_alias("patients")}}]})
    with unit_of_work() as session:
        reindex_service.record_phase(session, claim, "backfilling", leftover)
        reindex_service.record_progress(session, claim, 1, 3)

    _silent_for(job_id, 5)
    assert resume_stalled_reindex.run(dead_after_seconds=20) == 0  # still beating: left alone
    assert _job(job_id).status == "backfilling"

    _silent_for(job_id, 30)
    celery_app.control.purge()
    assert resume_stalled_reindex.run(dead_after_seconds=20) == 1
    job = _job(job_id)
    assert (job.status, job.processed, job.total, job.new_index, job.attempts) == ("queued", 0, None, None, 1)
    assert not client.indices.exists(index=leftover)
    assert not client.indices.exists_alias(name=names.rebuild_alias("patients"))

    # The dead run can no longer move the job; the new one finishes it.
    with unit_of_work() as session:
        reindex_service.fail(session, claim, "internal_error", "tarde demais")
    assert _job(job_id).status == "queued"
    assert run_job(job_id) == "done"
    job = _job(job_id)
    assert (job.status, job.processed, job.attempts) == ("done", 3, 2)


def test_a_run_that_died_after_its_swap_is_done_and_one_that_keeps_dying_fails(committed):
    client = get_client()
    with unit_of_work() as session:
        swapped = reindex_service.request(session, "patients", actor_id=None).id
        hopeless = reindex_service.request(session, "visits", actor_id=None).id
    with unit_of_work() as session:
        claim = reindex_service.begin(session, swapped)
        reindex_service.record_phase(session, claim, "swapping", lifecycle.live_indices(client, "patients")[0])
        reindex_service.begin(session, hopeless)
        session.execute(update(ReindexJob).where(ReindexJob.id == hopeless)
                        .values(attempts=reindex_service.MAX_ATTEMPTS))
    _silent_for(swapped, 60)
    _silent_for(hopeless, 60)

    assert resume_stalled_reindex.run(dead_after_seconds=20) == 0
    assert _job(swapped).status == "done"
    failed = _job(hopeless)
    assert (failed.status, failed.failure_code) == ("failed", "worker_lost")
    assert failed.failure_message.startswith("O processo da reconstrução parou várias vezes")


def test_beat_runs_the_reindex_sweep():
    entry = celery_app.conf.beat_schedule["resume-stalled-reindex"]
    assert (entry["task"], entry["schedule"], entry["options"]["queue"]) == (
        "workers.admin.resume_stalled_reindex", 10.0, DEFAULT_QUEUE)
    assert "workers.admin.reindex_job" in celery_app.tasks
