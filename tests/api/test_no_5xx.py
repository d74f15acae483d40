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


# ---------------------------------------------------------------- numbers past a column's range, cursors


def test_an_audit_before_past_bigint_is_422_not_a_database_error(api_client, operator, admin):
    pid = api_client.post(PATIENTS, json=BODY, headers=operator).json()["id"]
    error = assert_error(api_client.get(f"{PATIENTS}/{pid}/audit?before=99999999999999999999", headers=admin),
                         422, "validation_error")
    assert error["details"] == [{"field": "query.before", "type": "less_than_equal"}]
    # The largest bigint is a valid (empty-handed) anchor: everything is older.
    page = api_client.get(f"{PATIENTS}/{pid}/audit?before={2**63 - 1}", headers=admin).json()
    assert [e["action"] for e in page["items"]] == ["patient.create"]


@pytest.mark.parametrize("path", [
    f"{PATIENTS}/{{pid}}/audit", "/api/v1/imports", "/api/v1/users", "/api/v1/cars", "/api/v1/drivers",
    "/api/v1/collectors", "/api/v1/teams", "/api/v1/messages",
])
@pytest.mark.parametrize("cursor", [
    "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDBd",  # [100000000000000000000000]
    "WzEsMiwzLDQsNSw2LDdd",              # [1, 2, 3, 4, 5, 6, 7]: more keys than any list has
    "bm90IGpzb24",                       # not json
    "%%%",
    "eyJhIjoxfQ",                        # {"a": 1}
])
def test_a_crafted_cursor_is_422_invalid_cursor_on_every_list(api_client, operator, admin, path, cursor):
    pid = api_client.post(PATIENTS, json=BODY, headers=operator).json()["id"]
    response = api_client.get(path.format(pid=pid), params={"cursor": cursor, "patient_id": pid}, headers=admin)
    assert_error(response, 422, "invalid_cursor")


def test_a_bulk_item_cursor_past_the_position_column_is_422(api_client, operator):
    from storage import paging

    body = {"action": "add_tags", "visit_ids": ["v-1"], "params": {"tags": ["x"]}}
    job_id = api_client.post("/api/v1/bulk", json=body, headers=operator).json()["id"]
    for cursor in (paging.encode([2**31]), paging.encode(["1"]), "Wy0xXQ-"):
        assert_error(api_client.get(f"/api/v1/bulk/{job_id}", params={"cursor": cursor}, headers=operator),
                     422, "invalid_cursor")


def test_a_crafted_search_cursor_is_the_clients_error_not_an_outage(api_client, operator):
    for cursor in ("Wy0xXQ", "WyJyZWxldmFuY2UiLDEuNV0", "%%%"):
        assert_error(api_client.get(PATIENTS, params={"cursor": cursor}, headers=operator), 422, "invalid_cursor")


def test_a_search_cursor_of_another_sort_is_422(api_client, operator):
    from tests.api.test_patients_api import searchable

    for name, cpf in (("Ana Souza", "529.982.247-25"), ("Bia Lima", "111.444.777-35")):
        searchable(api_client.post(PATIENTS, json={"name": name, "cpf": cpf}, headers=operator).json()["id"])
    page = api_client.get(PATIENTS, params={"sort": "name", "page_size": 1}, headers=operator).json()
    assert [p["name"] for p in page["items"]] == ["Ana Souza"]
    following = api_client.get(PATIENTS, params={"sort": "name", "page_size": 1, "cursor": page["next_cursor"]},
                               headers=operator).json()
    assert [p["name"] for p in following["items"]] == ["Bia Lima"]
    for sort in ("relevance", "next_visit", "-last_visit"):
        response = api_client.get(PATIENTS, params={"sort": sort, "cursor": page["next_cursor"]}, headers=operator)
        assert_error(response, 422, "invalid_cursor")


# ---------------------------------------------------------------- nothing cut short silently


def test_thirty_tags_of_ten_thousand_characters_are_refused_not_cut(api_client, operator):
    error = assert_error(api_client.post(PATIENTS, json={**BODY, "tags": ["x" * 10_000] * 30}, headers=operator),
                         422, "validation_error")
    assert error["details"][0] == {"field": "body.tags.0", "type": "string_too_long"}
    assert_error(api_client.post(PATIENTS, json={**BODY, "tags": ["x" * 61]}, headers=operator), 422, "validation_error")
    assert_error(api_client.post(PATIENTS, json={**BODY, "tags": ["t"] * 31}, headers=operator), 422, "validation_error")
    created = api_client.post(PATIENTS, json={**BODY, "tags": ["y" * 60]}, headers=operator)
    assert created.status_code == 201
    assert created.json()["tags"] == ["y" * 60]


def test_the_patient_service_refuses_a_tag_longer_than_its_column(db_session):
    from storage.errors import Invalid
    from storage.patients import service

    with pytest.raises(Invalid) as error:
        service.create(db_session, {"name": "Ana", "tags": ["z" * 61]})
    assert (error.value.code, error.value.details) == ("invalid_tags", {"field": "tags"})


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/cars", {"label": "C" * 41}),
    ("/api/v1/drivers", {"name": "N" * 201}),
    ("/api/v1/collectors", {"name": "Ana", "registration": {"council": "C" * 11, "number": "1", "state": "RJ"}}),
    ("/api/v1/visits", {"patient_id": "p", "car_id": "c", "start": "2030-01-01T08:00", "end": "2030-01-01T09:00",
                        "exam_codes": ["E" * 61]}),
    ("/api/v1/bulk", {"action": "confirm", "visit_ids": ["v" * 65], "params": {"channel": "phone"}}),
    ("/api/v1/bulk", {"action": "export", "search": {"car": ["c" * 201]}}),
])
def test_every_body_string_is_bounded_by_its_column(api_client, operator, path, body):
    assert_error(api_client.post(path, json=body, headers=operator), 422, "validation_error")


# ---------------------------------------------------------------- dates are ISO text, not numbers


@pytest.mark.parametrize("url", ["/api/v1/visits?date=0", "/api/v1/stats/dashboard?date=1718841600",
                                 "/api/v1/teams?date=0", f"{PATIENTS}?visit_from=0"])
def test_a_number_is_not_a_date(api_client, operator, url):
    # Pydantic's lax mode read 0 as 1970-01-01 (seconds since the epoch): the 1970 schedule came back.
    error = assert_error(api_client.get(url, headers=operator), 422, "validation_error")
    assert error["details"][0]["type"] == "value_error"


def test_a_number_is_not_a_birth_date_nor_a_visit_time(api_client, operator):
    assert_error(api_client.post(PATIENTS, json={**BODY, "birth_date": 0}, headers=operator), 422, "validation_error")
    body = {"patient_id": "p", "car_id": "c", "start": 1893492000, "end": "2030-01-01T09:00"}
    assert_error(api_client.post("/api/v1/visits", json=body, headers=operator), 422, "validation_error")
