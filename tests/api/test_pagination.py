"""Every list answers {items, next_cursor}: walking it one item a page gives the whole list, in order,
each item once; the last page's cursor is null."""

from __future__ import annotations

import pytest

CARS = [
    {"label": "CARRO 2", "base": "AV CENTER 1", "unit_code": "248"},
    {"label": "CARRO 1", "base": "AV CENTER 1", "unit_code": "248"},
    {"label": "CARRO 1", "unit_code": "248"},                     # no base: first of its unit
    {"label": "CARRO 1", "base": "AV CENTER 2"},                  # no unit: last
    {"label": "CARRO 3", "base": "AV CENTER 1", "unit_code": "100"},
]


def walk(client, path: str, headers: dict, **params) -> list[dict]:
    items, cursor = [], None
    for _ in range(50):
        page = client.get(path, params={**params, "limit": 1, **({"cursor": cursor} if cursor else {})},
                          headers=headers).json()
        assert set(page) >= {"items", "next_cursor"}
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the list never ended")


@pytest.fixture
def admin(make_account):
    return make_account("admin").headers


def test_cars_page_in_unit_base_label_order(api_client, admin):
    for car in CARS:
        assert api_client.post("/api/v1/cars", json=car, headers=admin).status_code == 201
    whole = api_client.get("/api/v1/cars", headers=admin).json()
    assert whole["next_cursor"] is None
    assert [(c["unit_code"], c["base"], c["label"]) for c in whole["items"]] == [
        ("100", "AV CENTER 1", "CARRO 3"), ("248", None, "CARRO 1"), ("248", "AV CENTER 1", "CARRO 1"),
        ("248", "AV CENTER 1", "CARRO 2"), (None, "AV CENTER 2", "CARRO 1"),
    ]
    assert walk(api_client, "/api/v1/cars", admin) == whole["items"]
    assert [c["label"] for c in walk(api_client, "/api/v1/cars", admin, unit="248")] == ["CARRO 1", "CARRO 1", "CARRO 2"]


def test_users_drivers_and_collectors_page_by_email_or_name(api_client, admin, make_account):
    for name in ("Bruno", "Ana", "Carla"):
        make_account("viewer", email=f"{name.lower()}@coleta.test")
        assert api_client.post("/api/v1/drivers", json={"name": name}, headers=admin).status_code == 201
        assert api_client.post("/api/v1/collectors", json={"name": name}, headers=admin).status_code == 201
    users = walk(api_client, "/api/v1/users", admin)
    assert [u["email"] for u in users] == sorted(u["email"] for u in users)
    assert {"ana@coleta.test", "bruno@coleta.test", "carla@coleta.test"} <= {u["email"] for u in users}
    for path in ("/api/v1/drivers", "/api/v1/collectors"):
        assert [p["name"] for p in walk(api_client, path, admin)] == ["Ana", "Bruno", "Carla"]


def test_a_page_never_repeats_or_skips_rows_written_meanwhile(api_client, admin):
    for name in ("Ana", "Carla"):
        api_client.post("/api/v1/drivers", json={"name": name}, headers=admin)
    first = api_client.get("/api/v1/drivers", params={"limit": 1}, headers=admin).json()
    api_client.post("/api/v1/drivers", json={"name": "Bruno"}, headers=admin)  # after the cursor: seen
    api_client.post("/api/v1/drivers", json={"name": "Aaron"}, headers=admin)  # before it: not repeated
    rest = api_client.get("/api/v1/drivers", params={"cursor": first["next_cursor"]}, headers=admin).json()
    assert [d["name"] for d in first["items"] + rest["items"]] == ["Ana", "Bruno", "Carla"]
    assert rest["next_cursor"] is None
