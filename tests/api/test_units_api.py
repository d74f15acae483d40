"""GET /api/v1/units: the units of the cars, paged, with their name and active cars."""

from __future__ import annotations

from storage.db import unit_of_work
from tests.storage.visits.helpers import make_car

UNITS = "/api/v1/units"


def test_units_list_the_cars_units_with_their_name_and_active_cars(api_client, make_account):
    with unit_of_work() as session:
        make_car(session, label="CARRO 1")
        make_car(session, label="CARRO 2", base="AV CENTER 2")
        make_car(session, label="CARRO 3", status="inactive")
        # A car whose export cut the unit's name: the name most cars carry wins.
        make_car(session, label="CARRO 4", base="AV CENTER 2").unit_name = "Barra - Aventura"
        other = make_car(session, label="CARRO 1", base="CENTRO", unit_code="380", status="maintenance")
        other.unit_name = "Centro"
        make_car(session, label="CARRO 9", unit_code=None)
    headers = make_account("viewer").headers
    response = api_client.get(UNITS, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [
        {"code": "248", "name": "Barra - Aventura Center", "cars": 3},
        {"code": "380", "name": "Centro", "cars": 0},
    ], "next_cursor": None}

    first = api_client.get(UNITS, params={"limit": 1}, headers=headers).json()
    assert [u["code"] for u in first["items"]] == ["248"] and first["next_cursor"]
    second = api_client.get(UNITS, params={"limit": 1, "cursor": first["next_cursor"]}, headers=headers).json()
    assert second == {"items": [{"code": "380", "name": "Centro", "cars": 0}], "next_cursor": None}

    bad = api_client.get(UNITS, params={"cursor": "nope"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_cursor")
    assert api_client.get(UNITS, headers=make_account("driver").headers).status_code == 403
    assert api_client.get(UNITS).status_code == 401
