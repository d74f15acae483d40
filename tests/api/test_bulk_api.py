"""Bulk actions over HTTP: 202 and a job; bad requests refused up front with stable codes; progress, item
results and the export download (CSV for Excel pt-BR, XLSX)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import select

from indexing import names, sync
from indexing.client import get_client
from storage import indexed
from storage.audit.models import AuditEvent
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.imports import visit_writer
from storage.jobs import service as job_service
from storage.patients import service as patient_service
from tests.factories import patient_data, visit_content
from tests.fixtures import wait_until
from workers.tasks.jobs import run_job

BULK = "/api/v1/bulk"
TZ = ZoneInfo("America/Sao_Paulo")
MISSING = "00000000-0000-0000-0000-000000000404"


@pytest.fixture
def operator(make_account):
    return make_account("operator")


@pytest.fixture
def world(committed):
    """Two patients tagged `idosa` with a visit tomorrow, one untagged; committed and indexed."""
    day = job_service.local_today() + timedelta(days=1)
    with unit_of_work() as session:
        car = car_service.get_or_create_by_source_key(session, "379|CARRO 1", {"label": "CARRO 1"}).id
        ana = patient_service.create(session, patient_data(name="Ana Lima", tags=["idosa"])).id
        bia = patient_service.create(session, patient_data(name="Bia Souza", tags=["idosa"])).id
        caio = patient_service.create(session, patient_data(name="Caio Gonçalves")).id
        visits = visit_writer.insert_many(session, [
            visit_content(ana, car, datetime.combine(day, time(6, 40), TZ)),
            visit_content(bia, car, datetime.combine(day, time(7, 20), TZ)),
            visit_content(caio, car, datetime.combine(day, time(8, 0), TZ)),
        ], import_id=None)
        indexed.mark_changed(session, visits=visits, stale_patients=[ana, bia, caio])
    sync.drain(max_batches=100)
    get_client().indices.refresh(index=names.alias("patients"))
    return {"car": car, "ana": ana, "bia": bia, "caio": caio, "visits": visits, "day": day}


def error_code(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"action": "confirm", "params": {"channel": "phone"}}, 422, "target_required"),
        ({"action": "confirm", "params": {"channel": "phone"}, "visit_ids": ["a"], "search": {"tag": ["x"]}}, 422,
         "ambiguous_target"),
        ({"action": "apagar", "visit_ids": ["a"]}, 422, "validation_error"),
        ({"action": "confirm", "visit_ids": ["a"], "params": {"channel": "phone"}, "extra": 1}, 422,
         "validation_error"),
        ({"action": "confirm", "visit_ids": ["a"], "search": None, "params": {"channel": "fax"}}, 422,
         "invalid_channel"),
        ({"action": "send_message", "visit_ids": ["a"], "params": {"channel": "sms"}}, 422, "missing_template"),
        ({"action": "reschedule", "visit_ids": ["a"], "params": {"shift_minutes": 0}}, 422, "invalid_shift"),
        ({"action": "move_car", "visit_ids": ["a"], "params": {"car_id": MISSING}}, 404, "car_not_found"),
        ({"action": "add_tags", "visit_ids": [], "params": {"tags": ["x"]}}, 422, "empty_visit_ids"),
        ({"action": "export", "visit_ids": ["a"], "params": {"format": "pdf"}}, 422, "invalid_format"),
        ({"action": "add_tags", "search": {"tag": ["ninguém"]}, "params": {"tags": ["x"]}}, 422, "no_targets"),
        ({"action": "add_tags", "search": {"visit_from": "2025-06-20", "visit_to": "2025-06-01"},
          "params": {"tags": ["x"]}}, 422, "invalid_visit_range"),
        ({"action": "add_tags", "search": {"sexo": "f"}, "params": {"tags": ["x"]}}, 422, "validation_error"),
        # The search is the API's PatientSearch: bad values are refused by it, before storage sees them.
        ({"action": "add_tags", "search": {"confirmation_status": ["talvez"]}, "params": {"tags": ["x"]}}, 422,
         "validation_error"),
        ({"action": "add_tags", "search": {"visit_from": "2025-13-01"}, "params": {"tags": ["x"]}}, 422,
         "validation_error"),
    ],
)
def test_bad_requests_are_refused_up_front(api_client, operator, world, body, status, code):
    response = api_client.post(BULK, json=body, headers=operator.headers)
    assert error_code(response) == (status, code)
    assert response.json()["error"]["message"]
    with unit_of_work() as session:
        assert session.scalar(select(job_service.BulkJob.id)) is None


def test_over_the_cap_is_refused_with_a_clear_error(api_client, operator, world, monkeypatch):
    monkeypatch.setattr(job_service, "MAX_TARGETS", 1)
    by_ids = api_client.post(BULK, json={"action": "add_tags", "visit_ids": ["a", "b"], "params": {"tags": ["x"]}},
                             headers=operator.headers)
    assert error_code(by_ids) == (422, "too_many_targets")
    by_search = api_client.post(BULK, json={"action": "add_tags", "search": {"tag": "idosa"},
                                            "params": {"tags": ["x"]}}, headers=operator.headers)
    assert error_code(by_search) == (422, "too_many_targets")
    assert by_search.json()["error"]["details"] == {"max_targets": 1, "found": 2}


def test_a_job_over_a_search_is_queued_then_reports_progress_and_items(api_client, operator, world):
    response = api_client.post(
        BULK, json={"action": "add_tags", "search": {"tag": ["idosa"]}, "params": {"tags": ["Jejum"]}},
        headers=operator.headers,
    )
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json() == {"id": job_id, "status": "queued"}
    queued = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
    assert (queued["status"], queued["total"], queued["processed"], queued["progress"], queued["items"]) == (
        "queued", None, 0, 0.0, [])
    assert (queued["target"], queued["params"], queued["search"], queued["actor_id"]) == (
        "patient_search", {"tags": ["jejum"]}, {"tag": ["idosa"]}, operator.id)

    assert run_job(job_id) == "done"

    report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
    assert (report["status"], report["total"], report["processed"], report["succeeded"], report["failed"],
            report["skipped"], report["progress"]) == ("done", 2, 2, 2, 0, 0, 1.0)
    # Search order: by name.
    assert [(i["item_id"], i["kind"], i["outcome"]) for i in report["items"]] == [
        (world["ana"], "patient", "ok"), (world["bia"], "patient", "ok")]
    # Named for people to read; a patient item has no visit.
    assert [(i["patient_name"], i["start"], i["car"]) for i in report["items"]] == [
        ("Ana Lima", None, None), ("Bia Souza", None, None)]
    assert report["download"] is None
    # Audited per patient, with the job id and who asked (the request's user, ip and request id).
    with unit_of_work() as session:
        rows = session.execute(select(AuditEvent.entity_id, AuditEvent.actor_id, AuditEvent.ip, AuditEvent.details)
                               .where(AuditEvent.action == "patient.bulk").order_by(AuditEvent.id)).all()
    assert [(r[0], r[1], r[2]) for r in rows] == [(world["ana"], operator.id, "testclient"),
                                                  (world["bia"], operator.id, "testclient")]
    assert rows[0][3] == {"job_id": job_id, "bulk_action": "add_tags", "fields": ["tags"]}


def test_a_partial_failure_is_reported_per_item(api_client, operator, world):
    body = {"action": "move_car", "visit_ids": [world["visits"][0], MISSING], "params": {"car_id": world["car"]}}
    job_id = api_client.post(BULK, json=body, headers=operator.headers).json()["id"]
    run_job(job_id)
    report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers, params={"outcome": "error"}).json()
    assert (report["succeeded"], report["failed"], report["skipped"]) == (0, 1, 1)
    assert [(i["item_id"], i["code"], i["message"]) for i in report["items"]] == [
        (MISSING, "visit_not_found", "Visita não encontrada.")]
    skipped = api_client.get(f"{BULK}/{job_id}", headers=operator.headers, params={"outcome": "skipped"}).json()
    assert [(i["item_id"], i["code"]) for i in skipped["items"]] == [(world["visits"][0], "already_in_car")]
    # A visit item says whose visit, when and in which car; the missing visit says nothing.
    start = datetime.combine(world["day"], time(6, 40), TZ).isoformat()
    assert [(i["patient_name"], i["start"], i["car"]) for i in skipped["items"]] == [
        ("Ana Lima", start, {"id": world["car"], "label": "CARRO 1", "base": None})]
    assert [(i["patient_name"], i["start"], i["car"]) for i in report["items"]] == [(None, None, None)]
    paged = api_client.get(f"{BULK}/{job_id}", headers=operator.headers, params={"limit": 1}).json()
    assert len(paged["items"]) == 1 and isinstance(paged["next_cursor"], str)
    rest = api_client.get(f"{BULK}/{job_id}", headers=operator.headers,
                          params={"limit": 1, "cursor": paged["next_cursor"]}).json()
    assert ([i["item_id"] for i in rest["items"]], rest["next_cursor"]) == ([MISSING], None)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_is_downloaded_with_a_proper_filename(api_client, operator, world, fmt):
    body = {"action": "export", "visit_ids": world["visits"][::-1], "params": {"format": fmt}}
    job_id = api_client.post(BULK, json=body, headers=operator.headers).json()["id"]
    not_yet = api_client.get(f"{BULK}/{job_id}/download", headers=operator.headers)
    assert error_code(not_yet) == (409, "export_not_ready")
    run_job(job_id)

    report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
    filename = f"coleta-visitas-{job_service.local_today().isoformat()}-{job_id[:8]}.{fmt}"
    response = api_client.get(report["download"]["url"], headers=operator.headers)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert report["download"] == {"filename": filename, "format": fmt, "size": len(response.content),
                                  "url": f"{BULK}/{job_id}/download"}
    if fmt == "csv":
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    else:
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]
    assert [r[5] for r in rows] == ["Paciente", "Caio Gonçalves", "Bia Souza", "Ana Lima"]
    assert [r[1] for r in rows[1:]] == ["08:00", "07:20", "06:40"]
    day = world["day"]
    assert [r[0] for r in rows[1:]] == (
        [day.strftime("%d/%m/%Y")] * 3 if fmt == "csv" else [datetime.combine(day, time())] * 3)
    with unit_of_work() as session:
        exported = session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "patient.export")
                                   .order_by(AuditEvent.id)).all()
    assert exported == [world["caio"], world["bia"], world["ana"]]


def test_unknown_jobs_and_non_exports(api_client, operator, world):
    missing = api_client.get(f"{BULK}/{MISSING}", headers=operator.headers)
    assert error_code(missing) == (404, "bulk_job_not_found")
    assert missing.json()["error"]["message"] == "Ação em lote não encontrada."
    assert error_code(api_client.get(f"{BULK}/{MISSING}/download", headers=operator.headers)) == (
        404, "bulk_job_not_found")
    job_id = api_client.post(BULK, json={"action": "add_tags", "visit_ids": [MISSING], "params": {"tags": ["x"]}},
                             headers=operator.headers).json()["id"]
    assert error_code(api_client.get(f"{BULK}/{job_id}/download", headers=operator.headers)) == (409, "not_an_export")


def test_a_real_worker_runs_the_queued_job(api_client, operator, world, celery_worker):
    response = api_client.post(BULK, json={"action": "confirm", "visit_ids": world["visits"][:2],
                                           "params": {"channel": "whatsapp"}}, headers=operator.headers)
    job_id = response.json()["id"]

    def done():
        report = api_client.get(f"{BULK}/{job_id}", headers=operator.headers).json()
        return report if report["status"] in ("done", "failed") else None

    report = wait_until(done, timeout=60, interval=0.2)
    assert (report["status"], report["succeeded"], report["failed"]) == ("done", 2, 0)

    def indexed():
        client = get_client()
        client.indices.refresh(index=names.alias("visits"))
        return client.count(index=names.alias("visits"),
                            body={"query": {"term": {"confirmation_channel": "whatsapp"}}})["count"] == 2

    assert wait_until(indexed, timeout=30, interval=0.2)
