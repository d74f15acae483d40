"""Through the HTTP API with a real Celery worker: written patients become searchable, deleted ones vanish."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.fixtures import create_account, wait_until


@pytest.fixture
def api(committed, celery_worker):
    # Every /api/v1 route needs a token; an admin may do all this test does (delete included).
    with TestClient(create_app(), headers=create_account("admin").headers) as client:
        yield client


def search_ids(api, q):
    response = api.get("/api/v1/patients", params={"q": q})
    assert response.status_code == 200
    return [item["id"] for item in response.json()["items"]]


def test_a_posted_patient_is_found_by_name_and_cpf_then_gone_after_delete(api):
    body = {
        "name": "José da Conceição Gonçalves",
        "cpf": "529.982.247-25",
        "birth_date": "1950-03-02",
        "phones": ["(21) 98765-4321"],
        "address": {"neighborhood": "Barra da Tijuca", "city": "Rio de Janeiro", "state": "RJ"},
    }
    started = time.monotonic()
    response = api.post("/api/v1/patients", json=body)
    assert response.status_code == 201
    patient_id = response.json()["id"]

    # No sweep runs in tests: only the after-commit nudge makes the worker drain.
    assert wait_until(lambda: search_ids(api, "jose goncalves") == [patient_id], timeout=15)
    print(f"searchable after {time.monotonic() - started:.2f}s")
    assert search_ids(api, "529.982.247-25") == [patient_id]
    assert search_ids(api, "52998224725") == [patient_id]
    assert search_ids(api, "21987654321") == [patient_id]

    response = api.patch(f"/api/v1/patients/{patient_id}", json={"name": "José Conceição Gonçalves Filho"})
    assert response.status_code == 200
    assert response.json()["row_version"] == 2
    assert wait_until(lambda: search_ids(api, "goncalves filho") == [patient_id], timeout=15)

    assert api.delete(f"/api/v1/patients/{patient_id}").status_code == 204
    assert wait_until(lambda: search_ids(api, "52998224725") == [], timeout=15)
    assert api.get(f"/api/v1/patients/{patient_id}").status_code == 404

    sync = api.get("/api/v1/admin/sync").json()
    assert sync["outbox_pending"] == 0
    assert sync["documents"]["patients"] == {"postgres": 0, "index": 0}
