"""The numbers staff read are PostgreSQL's, to the unit, in a network where labels repeat.

Four cars called `CARRO 1` (bases AV CENTER 1, 2 and 3 of unit 248, and TIJUCA of unit 300),
patients whose visits fall on several days, cars and confirmation states, and neighbourhoods
typed in several ways. Checked over HTTP against SQL over the tables: a car is its id
everywhere (filters, facets, dashboard, rates, bulk), the visit filters hold on one live
visit, facets count what their filter means, facet values are folded, and a bulk action over
a search targets exactly what the search shows.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from indexing import names, sync
from indexing.client import get_client
from storage import indexed
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.imports import visit_writer
from storage.jobs import service as job_service
from storage.jobs.models import BulkJobItem
from storage.patients import service as patient_service
from tests.factories import patient_data, visit_content
from workers.tasks.jobs import run_job

TZ = ZoneInfo("America/Sao_Paulo")
PATIENTS = "/api/v1/patients"
LIVE = "v.status <> 'cancelled' AND NOT v.missing_from_latest_export"
# (key, base, label, unit code, unit name)
CARS = [
    ("c1", "AV CENTER 1", "CARRO 1", "248", "Barra - Aventura Center"),
    ("c2", "AV CENTER 2", "CARRO 1", "248", "Barra - Aventura Center"),
    ("c3", "AV CENTER 3", "CARRO 1", "248", "Barra - Aventura Center"),
    ("c4", "AV CENTER 1", "CARRO 2", "248", "Barra - Aventura Center"),
    ("t1", "TIJUCA", "CARRO 1", "300", "Tijuca"),
    ("c9", "AV CENTER 1", "CARRO 9", "248", "Barra - Aventura Center"),
]
NEIGHBORHOODS = ["Liberdade", "LIBERDADE", "Liberdade", "Botafogo", "botafogo", "São Cristóvão", "Sao Cristovao",
                 "Centro"]


def fold(value: str | None) -> str | None:
    """What the `folded_key` normalizer makes of a value."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", " ".join(value.split()).lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@pytest.fixture
def network(committed) -> dict[str, Any]:
    """36 patients with 1-4 visits each over four days from tomorrow (every state, some cancelled or
    dropped by the export), in the six cars; plus Iara, whose day-1 visit is CARRO 1 (AV CENTER 1) pending
    and day-2 visit CARRO 2 confirmed. Committed and indexed."""
    rng = random.Random(9)
    today = job_service.local_today()
    days = [today + timedelta(days=n) for n in (1, 2, 3, 4)]
    with unit_of_work() as session:
        cars = {
            key: car_service.get_or_create_by_source_key(
                session, f"{n}|AD-SF-{base} {label}", {"label": label, "base": base, "unit_code": unit,
                                                       "unit_name": unit_name}).id
            for n, (key, base, label, unit, unit_name) in enumerate(CARS)
        }
        unit_of = {cars[key]: unit for key, _, _, unit, _ in CARS}
        patients, contents = [], []
        for n in range(36):
            neighborhood = NEIGHBORHOODS[n % len(NEIGHBORHOODS)]
            pid = patient_service.create(session, patient_data(
                name=f"Paciente {n:02d}", address={"street": "Rua A", "number": str(n), "neighborhood": neighborhood,
                                                   "city": "Rio de Janeiro", "state": "RJ"})).id
            patients.append(pid)
            for slot in range(rng.randint(1, 4)):
                car = cars[rng.choice(["c1", "c2", "c3", "c4", "t1"])]
                start = datetime.combine(rng.choice(days), time(6, 40), TZ) + timedelta(minutes=40 * slot)
                contents.append(visit_content(
                    pid, car, start, unit_code=unit_of[car],
                    confirmation_status=rng.choice(["confirmed", "pending", "pending", "declined"]),
                    status=rng.choice(["scheduled"] * 6 + ["cancelled", "no_show", "collected"]),
                    missing_from_latest_export=rng.random() < 0.1,
                ))
        iara = patient_service.create(session, patient_data(name="Iara Teixeira")).id
        patients.append(iara)
        contents += [
            visit_content(iara, cars["c1"], datetime.combine(days[0], time(9, 0), TZ), unit_code="248"),
            visit_content(iara, cars["c4"], datetime.combine(days[1], time(9, 0), TZ), unit_code="248",
                          confirmation_status="confirmed"),
        ]
        visits = visit_writer.insert_many(session, contents, import_id=None)
        indexed.mark_changed(session, visits=visits, stale_patients=patients)
    sync.drain(max_batches=1000)
    get_client().indices.refresh(index=f"{names.alias('patients')},{names.alias('visits')}")
    return {"cars": cars, "days": days, "iara": iara, "patients": patients}


def sql(statement: str, **params: Any) -> list[tuple]:
    with unit_of_work() as session:
        return [tuple(row) for row in session.execute(text(statement), params)]


def visit_where(search: dict[str, Any], leave_out: str | None = None) -> tuple[str, dict[str, Any]]:
    """The SQL of the search's visit filters on one visit (all but `leave_out`'s)."""
    where, params = [LIVE], {}
    if search.get("visit_from"):
        where.append("v.visit_date >= :visit_from")
        params["visit_from"] = date.fromisoformat(search["visit_from"])
    if search.get("visit_to"):
        where.append("v.visit_date <= :visit_to")
        params["visit_to"] = date.fromisoformat(search["visit_to"])
    for name, column in (("car", "v.car_id"), ("confirmation_status", "v.confirmation_status"), ("unit", "v.unit_code")):
        if search.get(name) and name != leave_out:
            where.append(f"{column} = ANY(:{name})")
            params[name] = list(search[name])
    return " AND ".join(where), params


def has_visit_filters(search: dict[str, Any], leave_out: str | None = None) -> bool:
    return any(search.get(n) for n in ("visit_from", "visit_to", "car", "confirmation_status", "unit") if n != leave_out)


def neighborhoods() -> dict[str, str | None]:
    return {pid: fold(n) for pid, n in sql("SELECT id, neighborhood FROM patients")}


def expected_patients(search: dict[str, Any], leave_out: str | None = None) -> set[str]:
    """Patients meeting the search (all its filters but `leave_out`'s), by SQL."""
    found = set(neighborhoods())
    if search.get("neighborhood") and leave_out != "neighborhood":
        wanted = {fold(n) for n in search["neighborhood"]}
        found = {pid for pid, key in neighborhoods().items() if key in wanted}
    if has_visit_filters(search, leave_out):
        where, params = visit_where(search, leave_out)
        found &= {pid for (pid,) in sql(f"SELECT DISTINCT v.patient_id FROM visits v WHERE {where}", **params)}
    return found


def expected_visit_facet(search: dict[str, Any], name: str, column: str) -> dict[str, int]:
    """Patients per value of a visit facet: a live visit with that value meeting the other visit filters."""
    patients = expected_patients({k: v for k, v in search.items() if k in ("neighborhood",)})
    where, params = visit_where(search, leave_out=name)
    counts: Counter = Counter()
    for pid, value in sql(f"SELECT DISTINCT v.patient_id, {column} FROM visits v WHERE {where} AND {column} IS NOT NULL",
                          **params):
        if pid in patients:
            counts[value] += 1
    return dict(counts)


def get(api_client, headers, path: str = PATIENTS, **params: Any) -> dict[str, Any]:
    response = api_client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.json()
    return response.json()


# ------------------------------------------------------------------------------------ car identity


def test_a_car_is_its_id_and_a_repeated_label_is_refused(network, api_client, make_account):
    headers = make_account("operator").headers
    cars = network["cars"]

    response = api_client.get(PATIENTS, params={"car": "carro  1"}, headers=headers)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "ambiguous_car"
    assert error["message"] == "Há 4 carros chamados CARRO 1: escolha um pelo id (`car_id`)."
    assert error["details"]["candidates"] == [
        {"car_id": cars["c1"], "label": "CARRO 1", "base": "AV CENTER 1", "unit": "248"},
        {"car_id": cars["c2"], "label": "CARRO 1", "base": "AV CENTER 2", "unit": "248"},
        {"car_id": cars["c3"], "label": "CARRO 1", "base": "AV CENTER 3", "unit": "248"},
        {"car_id": cars["t1"], "label": "CARRO 1", "base": "TIJUCA", "unit": "300"},
    ]
    # Unique within the unit asked for, and a unique label, are taken; an unknown one is refused.
    by_label = get(api_client, headers, car="CARRO 1", unit="300", page_size=100)
    by_id = get(api_client, headers, car=cars["t1"], page_size=100)
    assert by_label["total"] == by_id["total"] == len(expected_patients({"car": [cars["t1"]]})) > 0
    assert get(api_client, headers, car="CARRO 2")["total"] == len(expected_patients({"car": [cars["c4"]]}))
    response = api_client.get(PATIENTS, params={"car": "CARRO 77"}, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "unknown_car")
    # The same rule for the schedule, the bulk search and the patient facet route.
    for response in (
        api_client.get("/api/v1/visits", params={"date": network["days"][0].isoformat(), "car": "CARRO 1"},
                       headers=headers),
        api_client.post("/api/v1/bulk", json={"action": "export", "search": {"car": ["CARRO 1"]},
                                              "params": {"format": "csv"}}, headers=headers),
        api_client.get(f"{PATIENTS}/facets/unit", params={"car": "CARRO 1"}, headers=headers),
    ):
        assert (response.status_code, response.json()["error"]["code"]) == (422, "ambiguous_car")


def test_dashboard_and_rates_group_cars_by_id_and_take_a_unit(network, api_client, make_account):
    headers = make_account("viewer").headers
    cars = network["cars"]
    car_rows = {car_id: (label, base, unit) for car_id, label, base, unit in sql(
        "SELECT id, label, base, unit_code FROM cars")}
    for unit in (None, "248", "300"):
        in_unit = " AND v.unit_code = :unit" if unit else ""
        for day in network["days"]:
            params = {"date": day.isoformat(), **({"unit": unit} if unit else {})}
            body = get(api_client, headers, "/api/v1/stats/dashboard", **params)
            expected = {
                car_id: (n, c) for car_id, n, c in sql(
                    "SELECT v.car_id, count(*), count(*) FILTER (WHERE v.status = 'collected' OR "
                    "(v.status = 'scheduled' AND v.confirmation_status = 'confirmed')) FROM visits v "
                    f"WHERE v.visit_date = :day AND {LIVE}{in_unit} GROUP BY 1", day=day, unit=unit)
            }
            assert {c["car_id"]: (c["visits"], c["confirmed"]) for c in body["by_car"]} == expected
            for item in body["by_car"]:
                assert (item["label"], item["base"], item["unit"]) == car_rows[item["car_id"]]
            assert body["visits_today"] == sum(n for n, _ in expected.values())
        rates = get(api_client, headers, "/api/v1/stats/confirmation-rates", group_by="car",
                    **({"unit": unit} if unit else {}))
        expected = {car_id: (n, c) for car_id, n, c in sql(
            "SELECT v.car_id, count(*), count(*) FILTER (WHERE v.confirmation_status = 'confirmed') FROM visits v "
            f"WHERE {LIVE}{in_unit} GROUP BY 1", unit=unit)}
        assert {i["value"]: (i["visits"], i["confirmed"]) for i in rates["items"]} == expected
        assert all(i["car_id"] == i["value"] and i["label"] == car_rows[i["value"]][0] for i in rates["items"])
    # The four CARRO 1 are four rows, not one.
    rates = get(api_client, headers, "/api/v1/stats/confirmation-rates", group_by="car")
    assert sorted(i["value"] for i in rates["items"] if i["label"] == "CARRO 1") == sorted(
        cars[k] for k in ("c1", "c2", "c3", "t1"))


# ------------------------------------------------------------------------------------ one visit


def _searches(network: dict[str, Any]) -> list[dict[str, Any]]:
    cars, days = network["cars"], network["days"]
    d = [day.isoformat() for day in days]
    return [
        {},
        {"visit_from": d[0], "visit_to": d[0]},
        {"car": [cars["c1"]]},
        {"car": [cars["c1"]], "confirmation_status": ["confirmed"]},
        {"car": [cars["c4"]], "confirmation_status": ["confirmed"], "visit_from": d[0], "visit_to": d[0]},
        {"car": [cars["c1"], cars["t1"]], "confirmation_status": ["pending", "declined"], "visit_from": d[1]},
        {"confirmation_status": ["pending"], "visit_to": d[1]},
        {"unit": ["300"], "confirmation_status": ["confirmed"]},
        {"unit": ["248"], "visit_from": d[2], "visit_to": d[3], "neighborhood": ["LIBERDADE", "botafogo"]},
        {"car": [cars["c2"]], "unit": ["248"], "visit_from": d[1], "visit_to": d[2]},
        {"neighborhood": ["Sao Cristovao"], "confirmation_status": ["declined"]},
    ]


def test_visit_filters_hold_on_one_visit_and_facets_count_what_the_filter_means(network, api_client, make_account):
    headers = make_account("operator").headers
    cars, d = network["cars"], [day.isoformat() for day in network["days"]]

    # Iara: CARRO 1 (AV CENTER 1) pending on day 1, CARRO 2 confirmed on day 2. No single visit is
    # "day 1, CARRO 2, confirmed", nor "CARRO 1, confirmed".
    iara = network["iara"]
    found = get(api_client, headers, car=cars["c4"], confirmation_status="confirmed", visit_from=d[0],
                visit_to=d[0], page_size=100)
    assert iara not in [item["id"] for item in found["items"]]
    # The same by the (unique) label, as staff type it.
    found = get(api_client, headers, car="CARRO 2", confirmation_status="confirmed", visit_from=d[0],
                visit_to=d[0], page_size=100)
    assert iara not in [item["id"] for item in found["items"]]
    assert iara in [item["id"] for item in get(api_client, headers, car=cars["c4"], confirmation_status="confirmed",
                                                 visit_from=d[1], visit_to=d[1], page_size=100)["items"]]

    folded = neighborhoods()
    for search in _searches(network):
        page = get(api_client, headers, page_size=100, **search)
        expected = expected_patients(search)
        assert page["total"] == len(expected), search
        assert {item["id"] for item in page["items"]} == expected, search
        facets = page["facets"]
        # Each facet counts under every filter but its own.
        for name, column in (("car", "v.car_id"), ("confirmation_status", "v.confirmation_status"),
                             ("unit", "v.unit_code")):
            got = {b["value"]: b["count"] for b in facets[name]}
            assert got == expected_visit_facet(search, name, column), (search, name)
        by_key = Counter(folded[pid] for pid in expected_patients(search, leave_out="neighborhood") if folded[pid])
        assert {b["value"]: b["count"] for b in facets["neighborhood"]} == dict(by_key), search


def test_results_and_facets_asked_apart_are_the_search_asked_whole(network, api_client, make_account):
    """The web app asks for the results with `facets=false` and for the facets beside them: together
    they are exactly what one search answers (filters, text, a relaxed text, sizes, a page after the first)."""
    headers = make_account("viewer").headers
    searches = [*_searches(network), {"q": "paciente"}, {"q": "iara teixeira"},
                # Three words meeting nobody: the search relaxes to all but one, and so must its facets.
                {"q": "iara teixeira zebedeu"}, {"q": "paciente", "facet_size": 1, "sort": "name"}]
    for search in searches:
        whole = get(api_client, headers, page_size=5, **search)
        results = get(api_client, headers, page_size=5, facets="false", **search)
        assert results == {**whole, "facets": None}, search
        assert get(api_client, headers, f"{PATIENTS}/facets", **search) == {"facets": whole["facets"]}, search
        if whole["next_cursor"]:
            after = {**search, "cursor": whole["next_cursor"]}
            second = get(api_client, headers, page_size=5, **after)
            assert get(api_client, headers, page_size=5, facets="false", **after) == {**second, "facets": None}
            assert get(api_client, headers, f"{PATIENTS}/facets", **after) == {"facets": second["facets"]}
    relaxed = get(api_client, headers, q="iara teixeira zebedeu")
    assert [item["id"] for item in relaxed["items"]] == [network["iara"]]
    assert get(api_client, headers, f"{PATIENTS}/facets", q="iara teixeira zebedeu")["facets"]["unit"] == [
        {"value": "248", "label": "248", "count": 1, "car_id": None, "base": None, "unit": None, "unit_name": None}]
    # The facet route takes the search's own parameters and checks them as the search does.
    response = api_client.get(f"{PATIENTS}/facets", params={"facet_size": 0}, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    response = api_client.get(f"{PATIENTS}/facets", params={"car": "CARRO 1"}, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "ambiguous_car")


def test_a_bulk_over_a_search_targets_what_the_search_shows(network, api_client, make_account):
    headers = make_account("operator").headers
    for search in _searches(network):
        page = get(api_client, headers, page_size=100, **search)
        shown = {item["id"] for item in page["items"]}

        # Patient rows: the patients on screen, as many as the total.
        job = api_client.post("/api/v1/bulk", json={"action": "export", "search": search,
                                                    "params": {"format": "csv", "rows": "patients"}}, headers=headers)
        assert job.status_code == 202, job.json()
        assert run_job(job.json()["id"]) == "done"
        items = _items(job.json()["id"])
        assert len(items) == page["total"], search
        assert {patient for _, patient in items} == shown, search

        # Visit rows: exactly the live visits meeting every visit filter (from today by default) of those patients.
        job = api_client.post("/api/v1/bulk", json={"action": "export", "search": search,
                                                    "params": {"format": "csv", "rows": "visits"}}, headers=headers)
        assert run_job(job.json()["id"]) == "done"
        where, params = visit_where({"visit_from": job_service.local_today().isoformat(), **search})
        expected = {(visit, patient) for visit, patient in sql(
            f"SELECT v.id, v.patient_id FROM visits v WHERE {where}", **params) if patient in shown}
        assert set(_items(job.json()["id"])) == expected, search
        # Every patient on screen has at least one of them (the search's days are the bulk's days).
        if has_visit_filters(search):
            assert {patient for _, patient in expected} == shown, search


def _items(job_id: str) -> list[tuple[str, str]]:
    with unit_of_work() as session:
        rows = session.execute(select(BulkJobItem.item_id, BulkJobItem.patient_id)
                               .where(BulkJobItem.job_id == job_id).order_by(BulkJobItem.position))
        return [tuple(row) for row in rows]


# ------------------------------------------------------------------------------------ folded values


def test_facet_values_are_folded_labelled_sized_and_searchable(network, api_client, make_account):
    headers = make_account("viewer").headers
    counts = Counter(fold(n) for (n,) in sql("SELECT neighborhood FROM patients WHERE neighborhood IS NOT NULL"))
    page = get(api_client, headers, page_size=1)
    assert page["facets"]["neighborhood"] == [
        {"value": key, "label": label, "count": counts[key], "car_id": None, "base": None, "unit": None,
         "unit_name": None}
        for key, label in (("liberdade", "Liberdade"), ("botafogo", "Botafogo"), ("sao cristovao", "São Cristóvão"),
                           ("centro", "Centro"))
    ]
    # Any spelling filters on the folded key.
    for typed, key in (("BOTAFOGO", "botafogo"), (" liberdade ", "liberdade"), ("são  cristovão", "sao cristovao")):
        assert get(api_client, headers, neighborhood=typed)["total"] == counts[key], typed

    # More or fewer values on request, within bounds.
    assert len(get(api_client, headers, facet_size=2)["facets"]["neighborhood"]) == 2
    for bad in (0, 201):
        response = api_client.get(PATIENTS, params={"facet_size": bad}, headers=headers)
        assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")

    # The facet route: the same search, one facet, values with a word starting so.
    facet = get(api_client, headers, f"{PATIENTS}/facets/neighborhood", prefix="CRIS")
    assert facet == {"name": "neighborhood", "items": [
        {"value": "sao cristovao", "label": "São Cristóvão", "count": counts["sao cristovao"], "car_id": None,
         "base": None, "unit": None, "unit_name": None}]}
    cars = network["cars"]
    facet = get(api_client, headers, f"{PATIENTS}/facets/car", prefix="center 2")
    assert [(i["car_id"], i["label"], i["base"], i["unit"], i["unit_name"]) for i in facet["items"]] == [
        (cars["c2"], "CARRO 1", "AV CENTER 2", "248", "Barra - Aventura Center")]
    assert [i["value"] for i in get(api_client, headers, f"{PATIENTS}/facets/car", prefix="carro 1")["items"]] == [
        i["value"] for i in page["facets"]["car"] if i["label"] == "CARRO 1"]
    search = {"confirmation_status": "declined", "visit_from": network["days"][1].isoformat()}
    facet = get(api_client, headers, f"{PATIENTS}/facets/unit", size=1, **search)
    assert facet["items"] == get(api_client, headers, facet_size=1, **search)["facets"]["unit"]
    response = api_client.get(f"{PATIENTS}/facets/shoe_size", headers=headers)
    assert response.status_code == 422
