"""Patient routes: the canonical record, the error body of api.md, and search over HTTP."""

from __future__ import annotations

import pytest

from indexing import names, sync
from indexing.client import get_client
from tests.fixtures import wait_until
from tests.indexing.conftest import indexed

PATIENTS = "/api/v1/patients"
CPF = "529.982.247-25"
BODY = {
    "name": "Heloísa Gonçalves de Souza",
    "cpf": CPF,
    "birth_date": "1962-07-14",
    "gender": "female",
    "phones": ["(21) 99876-5432", {"number": "21 3456-7890", "kind": "residential"}],
    "email": "heloisa@example.com.br",
    "preferred_channel": "whatsapp",
    "address": {"street": "Rua das Laranjeiras", "number": "10", "complement": "apto 302",
                "neighborhood": "Laranjeiras", "city": "Rio de Janeiro", "state": "RJ", "zip_code": "22240-003"},
    "health_plan": {"code": "67", "name": "BRADESCO SAÚDE", "card_number": "12345678901", "valid_until": "2027-12-31"},
    "tags": ["Acamada"],
    "priority": "high",
    "special_needs": "Cadeirante",
    "notes": "Jejum de 8 horas",
}


@pytest.fixture
def operator(make_account):
    return make_account("operator").headers


def searchable(patient_id: str) -> None:
    """Drain and refresh until the patient is in the index (a test Celery worker may be draining it too)."""

    def ready():
        sync.drain()
        return indexed(patient_id)

    assert wait_until(ready, timeout=10)
    get_client().indices.refresh(index=names.alias("patients"))


def assert_error(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_create_returns_the_full_profile_with_digits_only_identifiers(api_client, operator):
    response = api_client.post(PATIENTS, json=BODY, headers=operator)
    assert response.status_code == 201
    profile = response.json()
    assert profile["cpf"] == "52998224725"
    assert profile["phones"] == [{"number": "21998765432", "kind": "mobile"}, {"number": "2134567890", "kind": "residential"}]
    assert profile["address"] == {"street": "Rua das Laranjeiras", "number": "10", "complement": "apto 302",
                                  "neighborhood": "Laranjeiras", "city": "Rio de Janeiro", "state": "RJ",
                                  "zip_code": "22240003", "reference": None}
    assert profile["health_plan"] == {"code": "67", "name": "BRADESCO SAÚDE", "plan": None,
                                      "card_number": "12345678901", "valid_until": "2027-12-31",
                                      "authorization_notes": None}
    assert (profile["tags"], profile["priority"], profile["status"], profile["row_version"]) == (["acamada"], "high", "active", 1)
    assert api_client.get(f"{PATIENTS}/{profile['id']}", headers=operator).json() == profile


def test_invalid_cpf_is_422_with_a_stable_code_and_no_echo(api_client, operator):
    error = assert_error(api_client.post(PATIENTS, json={**BODY, "cpf": "529.982.247-24"}, headers=operator), 422, "invalid_cpf")
    assert error["details"] == {"field": "cpf"}
    assert "529" not in error["message"]


def test_invalid_phone_names_its_position(api_client, operator):
    error = assert_error(api_client.post(PATIENTS, json={**BODY, "phones": ["(21) 99876-5432", "123"]}, headers=operator), 422, "invalid_phone")
    assert error["details"] == {"field": "phones[1]"}


def test_schema_errors_list_fields_without_their_values(api_client, operator):
    response = api_client.post(PATIENTS, json={**BODY, "birth_date": "14/07/1962", "gender": "x", "shoe": 42}, headers=operator)
    error = assert_error(response, 422, "validation_error")
    assert sorted(d["field"] for d in error["details"]) == ["body.birth_date", "body.gender", "body.shoe"]
    assert "14/07/1962" not in response.text


def test_duplicate_cpf_is_409_naming_the_other_patient(api_client, operator):
    first = api_client.post(PATIENTS, json=BODY, headers=operator).json()
    error = assert_error(api_client.post(PATIENTS, json={**BODY, "cpf": "52998224725"}, headers=operator), 409, "patient_cpf_exists")
    assert error["details"] == {"patient_id": first["id"]}


def test_unknown_patient_is_404(api_client, operator, make_account):
    assert_error(api_client.get(f"{PATIENTS}/nope", headers=operator), 404, "patient_not_found")
    assert_error(api_client.patch(f"{PATIENTS}/nope", json={"notes": "x"}, headers=operator), 404, "patient_not_found")
    assert_error(api_client.delete(f"{PATIENTS}/nope", headers=make_account("admin").headers), 404, "patient_not_found")


def test_patch_changes_only_what_was_sent(api_client, operator):
    created = api_client.post(PATIENTS, json=BODY, headers=operator).json()
    patched = api_client.patch(f"{PATIENTS}/{created['id']}", json={"address": {"number": "12"}, "email": None}, headers=operator).json()
    assert patched["address"]["number"] == "12"
    assert patched["address"]["street"] == "Rua das Laranjeiras"
    assert patched["email"] is None
    assert patched["notes"] == "Jejum de 8 horas"
    assert patched["row_version"] == 2


def test_unknown_routes_and_methods_use_the_error_body(api_client, operator):
    assert_error(api_client.get("/api/v1/nothing-here", headers=operator), 404, "not_found")
    assert_error(api_client.put(f"{PATIENTS}/x", json={}, headers=operator), 405, "method_not_allowed")


def test_search_over_http_with_page_size_limit_and_bad_cursor(api_client, operator):
    created = api_client.post(PATIENTS, json=BODY, headers=operator).json()
    searchable(created["id"])
    page = api_client.get(PATIENTS, params={"q": "heloisa goncalves"}, headers=operator).json()
    assert page["total"] == 1
    assert page["items"][0]["id"] == created["id"]
    assert page["items"][0]["phones"] == ["21998765432", "2134567890"]
    assert page["facets"]["neighborhood"] == [{"value": "laranjeiras", "label": "Laranjeiras", "count": 1,
                                               "car_id": None, "base": None, "unit": None, "unit_name": None}]
    assert page["items"][0]["status"] == "active"
    assert page["next_cursor"] is None
    assert_error(api_client.get(PATIENTS, params={"page_size": 101}, headers=operator), 422, "validation_error")
    assert_error(api_client.get(PATIENTS, params={"cursor": "%%%"}, headers=operator), 422, "invalid_cursor")


def test_suggest_over_http_gives_masked_cpfs_and_is_not_taken_for_an_id(api_client, operator):
    created = api_client.post(PATIENTS, json=BODY, headers=operator).json()
    searchable(created["id"])
    response = api_client.get(f"{PATIENTS}/suggest", params={"q": "helo gon"}, headers=operator)
    assert response.status_code == 200
    assert response.json() == {
        "items": [{"id": created["id"], "name": "Heloísa Gonçalves de Souza", "cpf_masked": "***.982.247-**",
                   "status": "active"}]
    }
    assert api_client.get(f"{PATIENTS}/suggest", params={"q": "52998"}, headers=operator).json()["items"][0]["id"] \
        == created["id"]
    assert api_client.get(f"{PATIENTS}/suggest", headers=operator).json() == {"items": []}


def test_search_filters_of_api_md_over_http(api_client, operator):
    created = api_client.post(PATIENTS, json=BODY, headers=operator).json()
    searchable(created["id"])
    params = {"q": "heloisa 5432", "tag": ["acamada"], "health_plan": ["BRADESCO SAÚDE", "AMIL"], "priority": "high"}
    page = api_client.get(PATIENTS, params=params, headers=operator).json()
    assert [item["id"] for item in page["items"]] == [created["id"]]
    assert set(page["facets"]) == {"confirmation_status", "car", "unit", "neighborhood", "health_plan", "tag"}
    # Visit-derived filters are wired; this patient has no visit, so nothing matches.
    for extra in ({"confirmation_status": "confirmed"}, {"unit": "248"}, {"recurring": "true"},
                  {"visit_from": "2026-01-01", "visit_to": "2026-12-31"}):
        page = api_client.get(PATIENTS, params={"q": "heloisa", **extra}, headers=operator).json()
        assert page["total"] == 0, extra
    assert_error(api_client.get(PATIENTS, params={"confirmation_status": "maybe"}, headers=operator),
                 422, "validation_error")
    # A car that does not exist is the client's mistake, not an empty page.
    assert_error(api_client.get(PATIENTS, params={"car": "CARRO 1"}, headers=operator), 422, "unknown_car")
    assert_error(api_client.get(PATIENTS, params={"visit_from": "31/12/2026"}, headers=operator),
                 422, "validation_error")


def test_a_declined_visit_is_a_facet_value_and_a_filter(api_client, operator):
    from storage.db import unit_of_work
    from storage.visits import confirmations
    from storage.visits import service as visit_service
    from tests.storage.visits.helpers import booking, make_car, make_patient

    with unit_of_work() as session:
        car = make_car(session)
        declined = make_patient(session, name="Paciente Recusou").id
        pending = make_patient(session, name="Paciente Pendente").id
        visit, _ = visit_service.create(session, booking(declined, car.id, "07:00", "07:40"), actor_id=None)
        visit_service.create(session, booking(pending, car.id, "08:00", "08:40"), actor_id=None)
        confirmations.record_attempt(session, visit.id, channel="phone", outcome="declined", actor_id=None)
    assert sync.drain().failed_entities == 0
    get_client().indices.refresh(index=names.alias("patients"))

    response = api_client.get("/api/v1/patients", params={"confirmation_status": "declined"}, headers=operator)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [item["id"] for item in body["items"]] == [declined]
    assert {b["value"]: b["count"] for b in body["facets"]["confirmation_status"]} == {"declined": 1, "pending": 1}
