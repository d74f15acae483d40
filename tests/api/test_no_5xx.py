"""Hostile input gets a 4xx with a stable code, never a 5xx: NUL characters, numbers past a column's
range, crafted or foreign cursors, oversized strings and lists, concurrent duplicates."""

from __future__ import annotations

import pytest

from tests.api.test_patients_api import BODY, PATIENTS, assert_error


@pytest.fixture
def operator(make_account):
    return make_account("operator").headers


@pytest.fixture
def admin(make_account):
    return make_account("admin").headers


# ---------------------------------------------------------------- NUL characters


def test_a_nul_in_a_query_parameter_is_422_naming_the_parameter(api_client, operator):
    error = assert_error(api_client.get("/api/v1/drivers?status=%00", headers=operator), 422, "invalid_character")
    assert error["details"] == {"location": "query", "fields": ["status"]}
    assert error["message"] == "A requisição contém um caractere nulo (\\0), que não é aceito."


def test_a_nul_in_a_search_or_a_list_filter_is_422(api_client, operator):
    for url in ("/api/v1/patients?q=ana%00", "/api/v1/patients?car=CARRO%001", "/api/v1/cars?unit=%00",
                "/api/v1/patients/suggest?q=%00x", "/api/v1/visits?car=%00"):
        error = assert_error(api_client.get(url, headers=operator), 422, "invalid_character")
        assert error["details"]["location"] == "query"


def test_a_nul_in_a_path_parameter_is_422(api_client, operator):
    error = assert_error(api_client.get(f"{PATIENTS}/%00", headers=operator), 422, "invalid_character")
    assert error["details"] == {"location": "path"}


def test_a_nul_in_a_json_body_is_422_and_nothing_is_stored(api_client, operator):
    error = assert_error(api_client.post(PATIENTS, json={**BODY, "name": "Ana\u0000 Souza"}, headers=operator),
                         422, "invalid_character")
    assert error["details"] == {"location": "body"}
    nested = {**BODY, "address": {**BODY["address"], "street": "Rua\u0000"}}
    assert_error(api_client.post(PATIENTS, json=nested, headers=operator), 422, "invalid_character")
    assert api_client.get(PATIENTS, headers=operator).json()["total"] == 0


def test_a_nul_in_a_json_object_of_free_parameters_is_422(api_client, operator):
    body = {"action": "add_tags", "visit_ids": ["x"], "params": {"tags": ["a\u0000b"]}}
    assert_error(api_client.post("/api/v1/bulk", json=body, headers=operator), 422, "invalid_character")


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(api_client, operator):
    # JSON "\\u0000" is a backslash followed by "u0000": six ordinary characters.
    raw = '{"name": "Ana \\\\u0000 Souza"}'
    response = api_client.post(PATIENTS, content=raw, headers={**operator, "Content-Type": "application/json"})
    assert response.status_code == 201
    assert response.json()["name"] == "Ana \\u0000 Souza"


def test_a_nul_in_a_login_form_is_422(api_client):
    response = api_client.post("/api/v1/auth/token", content="username=a%00b&password=x",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(response, 422, "invalid_character")
