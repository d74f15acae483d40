"""Bulk jobs, part 2: the list (own jobs, or everyone's for admins), cancelling (also when the worker died),
the preview of a job before it is created, and patient ids as a target."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, update

from indexing import names, sync
from indexing.client import get_client
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.jobs import service as job_service
from storage.jobs.models import BulkJob
from storage.patients import repo as patient_repo
from storage.patients import service as patient_service
from storage import indexed
from storage.imports import visit_writer
from tests.factories import patient_data, visit_content
from workers.tasks.jobs import resume_stalled_jobs, run_job

BULK = "/api/v1/bulk"
TZ = ZoneInfo("America/Sao_Paulo")


@pytest.fixture
def world(committed):
    """Ana (two visits tomorrow, one of them cancelled, one the day after), Bia (one tomorrow), Caio (none);
    Ana and Bia tagged `idosa`; committed and indexed."""
    day = job_service.local_today() + timedelta(days=1)
    with unit_of_work() as session:
        car = car_service.get_or_create_by_source_key(
            session, "379|CARRO 1", {"label": "CARRO 1", "base": "AV CENTER 1"}).id
        ana = patient_service.create(session, patient_data(name="Ana Lima", tags=["idosa"])).id
        bia = patient_service.create(session, patient_data(name="Bia Souza", tags=["idosa"])).id
        caio = patient_service.create(session, patient_data(name="Caio Gonçalves")).id
        visits = visit_writer.insert_many(session, [
            visit_content(ana, car, datetime.combine(day, time(6, 40), TZ)),
            visit_content(bia, car, datetime.combine(day, time(7, 20), TZ)),
            visit_content(ana, car, datetime.combine(day, time(9, 0), TZ), status="cancelled"),
            visit_content(ana, car, datetime.combine(day + timedelta(days=1), time(8, 0), TZ)),
        ], import_id=None)
        indexed.mark_changed(session, visits=visits, patients=[caio])
    sync.drain(max_batches=100)
    get_client().indices.refresh(index=names.alias("patients"))
    return {"car": car, "ana": ana, "bia": bia, "caio": caio, "visits": visits, "day": day}


@pytest.fixture
def operator(make_account):
    return make_account("operator", name="Olga Operadora")


def _create(api_client, account, body) -> str:
    response = api_client.post(BULK, json=body, headers=account.headers)
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def _tags(visit_ids):
    return {"action": "add_tags", "visit_ids": visit_ids, "params": {"tags": ["lote"]}}


def test_operators_list_their_own_jobs_and_admins_everyone_s(api_client, world, operator, make_account):
    other = make_account("operator", name="Otto Operador")
    admin = make_account("admin", name="Ada Admin")
    mine = _create(api_client, operator, _tags(world["visits"][:1]))
    theirs = _create(api_client, other, {"action": "export", "visit_ids": world["visits"][:1],
                                         "params": {"format": "csv"}})
    assert run_job(theirs) == "done"

    page = api_client.get(BULK, headers=operator.headers).json()
    assert [(j["id"], j["actor_name"], j["status"]) for j in page["items"]] == [(mine, "Olga Operadora", "queued")]
    assert "items" not in page["items"][0] and page["next_cursor"] is None

    everyone = api_client.get(BULK, params={"actor": "all", "limit": 1}, headers=admin.headers).json()
    assert [(j["id"], j["actor_name"]) for j in everyone["items"]] == [(theirs, "Otto Operador")]
    rest = api_client.get(BULK, params={"actor": "all", "cursor": everyone["next_cursor"]}, headers=admin.headers)
    assert [j["id"] for j in rest.json()["items"]] == [mine]
    done = api_client.get(BULK, params={"actor": "all", "status": "done", "action": "export"}, headers=admin.headers)
    assert [j["id"] for j in done.json()["items"]] == [theirs]
    assert api_client.get(BULK, params={"actor": "all"}, headers=operator.headers).status_code == 403
    assert api_client.get(f"{BULK}/{mine}", headers=operator.headers).json()["actor_name"] == "Olga Operadora"


def test_a_queued_job_is_cancelled_at_once_and_never_runs(api_client, world, operator):
    job_id = _create(api_client, operator, _tags(world["visits"]))
    response = api_client.post(f"{BULK}/{job_id}/cancel", headers=operator.headers)
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["processed"]) == ("cancelled", 0)
    assert run_job(job_id) == "cancelled"  # its task, delivered later, does nothing
    report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
    assert (report["status"], report["total"], report["processed"], report["items"]) == ("cancelled", None, 0, [])
    assert report["finished_at"] is not None


def test_a_running_job_stops_before_its_next_batch_and_keeps_the_rest_pending(api_client, world, operator,
                                                                               make_account):
    job_id = _create(api_client, operator, _tags(world["visits"][:2] + world["visits"][3:]))
    # The worker's first steps, as run_job takes them: start, resolve, one batch of one item.
    with unit_of_work() as session:
        job_service.begin(session, job_id)
    with unit_of_work() as session:
        job_service.store_targets(session, job_id)
    with unit_of_work() as session:
        assert job_service.process_batch(session, job_id, 1).processed == 1

    stranger = make_account("operator")
    refused = api_client.post(f"{BULK}/{job_id}/cancel", headers=stranger.headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_your_job")
    response = api_client.post(f"{BULK}/{job_id}/cancel", headers=operator.headers)
    assert (response.status_code, response.json()["status"]) == (202, "cancelling")
    assert api_client.post(f"{BULK}/{job_id}/cancel", headers=operator.headers).json()["status"] == "cancelling"

    assert run_job(job_id, batch_size=1) == "cancelled"
    report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
    assert (report["status"], report["total"], report["processed"], report["succeeded"]) == ("cancelled", 2, 1, 1)
    assert [item["outcome"] for item in report["items"]] == ["ok", "pending"]
    # Bia's visit was the second item: she never got the tag.
    with unit_of_work() as session:
        assert patient_repo.get(session, world["bia"]).tags == ["idosa"]

    finished = api_client.post(f"{BULK}/{job_id}/cancel", headers=make_account("admin").headers)
    assert finished.status_code == 409
    assert finished.json()["error"] == {"code": "bulk_job_finished",
                                        "message": "A ação em lote já terminou: não há o que cancelar.",
                                        "details": {"status": "cancelled"}}


def test_a_cancel_outlives_a_dead_worker(api_client, world, operator):
    job_id = _create(api_client, operator, _tags(world["visits"][:2]))
    with unit_of_work() as session:
        job_service.begin(session, job_id)
        job_service.store_targets(session, job_id)
    assert api_client.post(f"{BULK}/{job_id}/cancel", headers=operator.headers).json()["status"] == "cancelling"
    # The worker was killed: no batch will ever read `cancelling`, and its heartbeat stopped 30 s ago.
    with unit_of_work() as session:
        session.execute(update(BulkJob).where(BulkJob.id == job_id)
                        .values(updated_at=func.now() - timedelta(seconds=30)))

    assert resume_stalled_jobs.run(dead_after_seconds=20) == 0  # closed, not re-queued
    report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
    assert (report["status"], report["processed"], [i["outcome"] for i in report["items"]]) == (
        "cancelled", 0, ["pending", "pending"])


def test_a_cancelling_job_whose_task_is_redelivered_is_closed_not_run(api_client, world, operator):
    job_id = _create(api_client, operator, _tags(world["visits"][:2]))
    with unit_of_work() as session:
        job_service.begin(session, job_id)
    api_client.post(f"{BULK}/{job_id}/cancel", headers=operator.headers)
    assert run_job(job_id) == "cancelled"
    assert api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()["total"] is None


def test_the_preview_counts_live_visits_and_patients_and_shows_the_first_targets(api_client, world, operator):
    ana, bia, visits = world["ana"], world["bia"], world["visits"]
    by_visits = api_client.post(f"{BULK}/preview", json={"action": "confirm", "visit_ids": visits},
                                headers=operator.headers)
    assert by_visits.status_code == 200
    body = by_visits.json()
    assert {k: body[k] for k in ("target", "item_kind", "patients", "visits", "too_many")} == {
        "target": "visit_ids", "item_kind": "visit", "patients": 2, "visits": 3, "too_many": False}
    assert [(s["patient_name"], s["visit_id"], s["car"]["label"]) for s in body["sample"]] == [
        ("Ana Lima", visits[0], "CARRO 1"), ("Bia Souza", visits[1], "CARRO 1"), ("Ana Lima", visits[3], "CARRO 1")]

    by_search = api_client.post(f"{BULK}/preview", json={"action": "send_message", "search": {"tag": "idosa"}},
                                headers=operator.headers).json()
    assert (by_search["target"], by_search["patients"], by_search["visits"]) == ("patient_search", 2, 3)
    assert [s["visit_id"] for s in by_search["sample"]] == [visits[0], visits[1], visits[3]]

    tags = api_client.post(f"{BULK}/preview", json={"action": "add_tags", "patient_ids": [bia, ana, bia]},
                           headers=operator.headers).json()
    assert (tags["target"], tags["item_kind"], tags["patients"], tags["visits"]) == ("patient_ids", "patient", 2, 3)
    assert [(s["patient_id"], s["patient_name"], s["visit_id"]) for s in tags["sample"]] == [
        (bia, "Bia Souza", None), (ana, "Ana Lima", None)]


@pytest.mark.parametrize(("body", "code"), [
    ({"action": "confirm", "visit_ids": ["a"], "patient_ids": ["b"], "params": {"channel": "phone"}},
     "ambiguous_target"),
    ({"action": "confirm", "params": {"channel": "phone"}}, "target_required"),
    ({"action": "confirm", "patient_ids": [], "params": {"channel": "phone"}}, "empty_patient_ids"),
    ({"action": "add_tags", "search": {"tag": "ninguém"}, "params": {"tags": ["x"]}}, "no_targets"),
    ({"action": "confirm", "visit_ids": ["a"], "params": {"channel": "fax"}}, "invalid_channel"),
])
def test_the_preview_refuses_what_creating_refuses(api_client, world, operator, body, code):
    for path in (f"{BULK}/preview", BULK):
        response = api_client.post(path, json=body, headers=operator.headers)
        assert (response.status_code, response.json()["error"]["code"]) == (422, code), path


def test_the_preview_says_when_the_job_would_pass_the_cap(api_client, world, operator, monkeypatch):
    monkeypatch.setattr(job_service, "MAX_TARGETS", 2)
    body = api_client.post(f"{BULK}/preview", json={"action": "confirm", "patient_ids": [world["ana"], world["bia"]]},
                           headers=operator.headers).json()
    assert (body["too_many"], body["visits"]) == (True, 2)


def test_patient_ids_target_their_live_visits_from_today(api_client, world, operator):
    job_id = _create(api_client, operator, {"action": "confirm", "patient_ids": [world["ana"], world["caio"]],
                                            "params": {"channel": "phone"}})
    assert run_job(job_id) == "done"
    report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
    assert (report["target"], report["patient_count"], report["visit_count"], report["total"]) == (
        "patient_ids", 2, None, 2)
    assert [(i["item_id"], i["outcome"]) for i in report["items"]] == [
        (world["visits"][0], "ok"), (world["visits"][3], "ok")]

    tags = _create(api_client, operator, {"action": "add_tags", "patient_ids": [world["caio"], "nao-existe"],
                                          "params": {"tags": ["x"]}})
    assert run_job(tags) == "done"
    items = api_client.get(f"{BULK}/{tags}", headers=operator.headers).json()["items"]
    assert [(i["item_id"], i["outcome"], i["code"]) for i in items] == [
        (world["caio"], "ok", None), ("nao-existe", "error", "patient_not_found")]
