"""Fleet API: cars, drivers, collectors and teams (CRUD, pt-BR errors, masked phones, team conflicts), the
driver's car of a day, and the route sheet of a sample day (imported from the DasaExp sample, parsed, checked)."""

from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.errors import install as install_errors
from api.security import DriverCar, DriverCarOnDate, local_today
from indexing import names, sync
from indexing.client import get_client
from storage.audit.models import AuditEvent
from storage.cars.models import Car
from storage.db import unit_of_work
from storage.visits.models import Visit
from tests.fixtures import wait_until
from tests.storage.imports.helpers import DASAEXP_SAMPLE, run

CARS, DRIVERS, COLLECTORS, TEAMS = "/api/v1/cars", "/api/v1/drivers", "/api/v1/collectors", "/api/v1/teams"
STAMPS = ("id", "created_at", "updated_at")


def error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def without(body: dict, *keys: str) -> dict:
    return {k: v for k, v in body.items() if k not in (*STAMPS, *keys)}


@pytest.fixture
def staff(make_account):
    return {role: make_account(role) for role in ("admin", "operator", "viewer")}


# ---------------------------------------------------------------- cars


def test_cars_are_created_listed_changed_and_deleted(api_client, staff):
    admin, operator, viewer = staff["admin"].headers, staff["operator"].headers, staff["viewer"].headers
    response = api_client.post(CARS, headers=operator, json={
        "label": "CARRO 9", "base": "AV CENTER 4", "unit_code": "248", "plate": "abc-1d23", "model": "Fiat Doblò",
        "daily_capacity": 6})
    assert response.status_code == 201, response.text
    car = response.json()
    assert without(car) == {
        "label": "CARRO 9", "base": "AV CENTER 4", "room_code": None, "room_name": None, "unit_code": "248",
        "unit_name": None, "operational_unit": None, "plate": "ABC1D23", "model": "Fiat Doblò", "status": "active",
        "daily_capacity": 6, "imported": False,
    }
    spare = api_client.post(CARS, headers=operator, json={"label": "CARRO 10", "unit_code": "300"}).json()

    assert error(api_client.post(CARS, headers=operator, json={"label": "CARRO 11", "plate": "AB-12345"}), 422) == {
        "code": "invalid_plate", "message": "Placa inválida: use o formato ABC1234 ou ABC1D23.",
        "details": {"field": "plate"}}
    assert error(api_client.post(CARS, headers=operator, json={"label": "CARRO 11", "plate": "abc1d23"}), 409) == {
        "code": "car_plate_exists", "message": "Já existe um carro com esta placa.", "details": {"car_id": car["id"]}}
    assert error(api_client.patch(f"{CARS}/{car['id']}", headers=operator, json={"daily_capacity": 51}), 422) == {
        "code": "invalid_daily_capacity",
        "message": "A capacidade diária deve ser um número inteiro entre 1 e 50 visitas.",
        "details": {"field": "daily_capacity"}}
    # The statuses are an enum of the schema (the generated client knows them): an unknown one is a validation error.
    assert error(api_client.patch(f"{CARS}/{car['id']}", headers=operator, json={"status": "quebrado"}), 422) == {
        "code": "validation_error", "message": "Dados inválidos: verifique os campos indicados.",
        "details": [{"field": "body.status", "type": "literal_error"}]}
    assert error(api_client.patch(f"{CARS}/{car['id']}", headers=operator, json={"room_code": "1"}), 422)["code"] == (
        "validation_error")

    patched = api_client.patch(f"{CARS}/{car['id']}", headers=operator,
                               json={"status": "maintenance", "plate": "XYZ 9876", "daily_capacity": 5})
    assert (patched.status_code, patched.json()["status"], patched.json()["plate"],
            patched.json()["daily_capacity"]) == (200, "maintenance", "XYZ9876", 5)
    listing = api_client.get(CARS, headers=viewer)
    assert [c["label"] for c in listing.json()["items"]] == ["CARRO 9", "CARRO 10"]
    assert [c["id"] for c in api_client.get(CARS, headers=viewer, params={"status": "maintenance"}).json()["items"]] \
        == [car["id"]]
    assert [c["id"] for c in api_client.get(CARS, headers=viewer, params={"unit": "300"}).json()["items"]] == [
        spare["id"]]
    assert api_client.get(f"{CARS}/{car['id']}", headers=viewer).json() == patched.json()

    assert api_client.delete(f"{CARS}/{car['id']}", headers=operator).status_code == 403
    assert api_client.delete(f"{CARS}/{car['id']}", headers=admin).status_code == 204
    assert error(api_client.get(f"{CARS}/{car['id']}", headers=viewer), 404) == {
        "code": "car_not_found", "message": "Carro não encontrado.", "details": {"entity": "car", "id": car["id"]}}


# ---------------------------------------------------------------- drivers and collectors


def test_drivers_and_collectors_with_phones_masked_for_viewers(api_client, staff, make_account):
    operator, viewer = staff["operator"].headers, staff["viewer"].headers
    account = make_account("driver")
    created = api_client.post(DRIVERS, headers=operator,
                              json={"name": "Carlos  Souza", "phone": "(21) 99876-5432", "user_id": account.id})
    assert created.status_code == 201, created.text
    driver = created.json()
    assert without(driver) == {"name": "Carlos Souza", "phone": "21998765432", "phone_masked": "(21) *****-5432",
                               "status": "active", "user_id": account.id}
    assert without(api_client.get(f"{DRIVERS}/{driver['id']}", headers=viewer).json()) == {
        "name": "Carlos Souza", "phone": None, "phone_masked": "(21) *****-5432", "status": "active",
        "user_id": account.id}
    assert [d["phone"] for d in api_client.get(DRIVERS, headers=viewer).json()["items"]] == [None]
    assert [d["phone"] for d in api_client.get(DRIVERS, headers=operator).json()["items"]] == ["21998765432"]

    assert error(api_client.post(DRIVERS, headers=operator, json={"name": "Davi", "phone": "9999"}), 422) == {
        "code": "invalid_phone", "message": "Telefone inválido: use DDD + número.", "details": {"field": "phone"}}
    assert error(api_client.post(DRIVERS, headers=operator, json={"name": "Davi", "user_id": account.id}), 409) == {
        "code": "user_already_linked", "message": "Este usuário já está vinculado a outro motorista.",
        "details": {"driver_id": driver["id"]}}
    assert error(api_client.post(DRIVERS, headers=operator,
                                 json={"name": "Vera", "user_id": staff["viewer"].id}), 422) == {
        "code": "user_not_driver", "message": "O usuário vinculado precisa ter o perfil de motorista.",
        "details": {"field": "user_id"}}
    assert error(api_client.get(f"{DRIVERS}/nao-existe", headers=viewer), 404) == {
        "code": "driver_not_found", "message": "Motorista não encontrado.",
        "details": {"entity": "driver", "id": "nao-existe"}}

    collector = api_client.post(COLLECTORS, headers=operator, json={
        "name": "Beatriz Lima", "phone": "21 3456-7890",
        "registration": {"council": "coren", "number": "123.456", "state": "rj"}})
    assert collector.status_code == 201, collector.text
    assert without(collector.json()) == {
        "name": "Beatriz Lima", "phone": "2134567890", "phone_masked": "(21) *****-7890", "status": "active",
        "registration": {"council": "COREN", "number": "123456", "state": "RJ", "display": "COREN-RJ 123456"}}
    assert [c["phone"] for c in api_client.get(COLLECTORS, headers=viewer).json()["items"]] == [None]
    assert error(api_client.post(COLLECTORS, headers=operator, json={
        "name": "Outra", "registration": {"council": "COREN", "number": "123456"}}), 422) == {
        "code": "incomplete_registration", "message": "Informe conselho, número e UF do registro profissional.",
        "details": {"field": "registration"}}
    patched = api_client.patch(f"{COLLECTORS}/{collector.json()['id']}", headers=operator,
                               json={"status": "inactive", "registration": None})
    assert (patched.json()["status"], patched.json()["registration"]) == ("inactive", None)
    assert api_client.get(COLLECTORS, headers=viewer, params={"status": "active"}).json() == {"items": [], "next_cursor": None}


# ---------------------------------------------------------------- teams


def _crew(client, headers):
    cars = [client.post(CARS, headers=headers, json={"label": f"CARRO {n}", "base": "AV CENTER 1"}).json()["id"]
            for n in (1, 2)]
    drivers = [client.post(DRIVERS, headers=headers, json={"name": n}).json()["id"] for n in ("Carlos", "Davi")]
    collectors = [client.post(COLLECTORS, headers=headers, json={
        "name": n, "registration": {"council": "CRBM", "number": str(1000 + i), "state": "RJ"}}).json()["id"]
        for i, n in enumerate(("Beatriz", "Elisa"))]
    return cars, drivers, collectors


def test_teams_one_per_car_and_day_and_one_per_person_and_day(api_client, staff):
    operator, viewer = staff["operator"].headers, staff["viewer"].headers
    (car1, car2), (carlos, davi), (beatriz, elisa) = _crew(api_client, operator)
    response = api_client.post(TEAMS, headers=operator, json={
        "car_id": car1, "date": "2025-06-19", "driver_id": carlos, "collector_id": beatriz, "notes": "sair às 6h"})
    assert response.status_code == 201, response.text
    team = response.json()
    assert without(team) == {
        "date": "2025-06-19", "car": {"id": car1, "label": "CARRO 1", "base": "AV CENTER 1", "plate": None},
        "driver": {"id": carlos, "name": "Carlos"},
        "collector": {"id": beatriz, "name": "Beatriz", "registration": {
            "council": "CRBM", "number": "1000", "state": "RJ", "display": "CRBM-RJ 1000"}},
        "notes": "sair às 6h",
    }
    same_day = {"date": "2025-06-19"}
    assert error(api_client.post(TEAMS, headers=operator, json={
        **same_day, "car_id": car2, "driver_id": carlos, "collector_id": elisa}), 409) == {
        "code": "driver_already_assigned", "message": "Motorista já escalado em outra equipe neste dia.",
        "details": {"team_id": team["id"], "car_id": car1}}
    assert error(api_client.post(TEAMS, headers=operator, json={
        **same_day, "car_id": car2, "driver_id": davi, "collector_id": beatriz}), 409) == {
        "code": "collector_already_assigned", "message": "Coletora já escalada em outra equipe neste dia.",
        "details": {"team_id": team["id"], "car_id": car1}}
    assert error(api_client.post(TEAMS, headers=operator, json={
        **same_day, "car_id": car1, "driver_id": davi, "collector_id": elisa}), 409) == {
        "code": "team_exists", "message": "Este carro já tem uma equipe neste dia.", "details": {"team_id": team["id"]}}
    assert error(api_client.post(TEAMS, headers=operator, json={
        "date": "19/06/2025", "car_id": car2, "driver_id": davi, "collector_id": elisa}), 422)["details"] == [
        {"field": "body.date", "type": "value_error"}]

    second = api_client.post(TEAMS, headers=operator, json={
        **same_day, "car_id": car2, "driver_id": davi, "collector_id": elisa}).json()
    assert error(api_client.patch(f"{TEAMS}/{second['id']}", headers=operator, json={"collector_id": beatriz}),
                 409)["code"] == "collector_already_assigned"
    listing = api_client.get(TEAMS, headers=viewer, params={"date": "2025-06-19"}).json()
    assert (listing["date"], [t["id"] for t in listing["items"]]) == ("2025-06-19", [team["id"], second["id"]])
    assert api_client.get(TEAMS, headers=viewer, params={"date": "2025-06-20"}).json() == {
        "date": "2025-06-20", "items": [], "next_cursor": None}

    # Swap the people between the two cars: free one side first, as anyone would on paper.
    assert api_client.delete(f"{TEAMS}/{second['id']}", headers=operator).status_code == 204
    moved = api_client.patch(f"{TEAMS}/{team['id']}", headers=operator, json={"driver_id": davi, "notes": None})
    assert (moved.status_code, moved.json()["driver"], moved.json()["notes"]) == (
        200, {"id": davi, "name": "Davi"}, None)
    assert api_client.get(f"{TEAMS}/{team['id']}", headers=viewer).json() == moved.json()
    assert error(api_client.get(f"{TEAMS}/{second['id']}", headers=viewer), 404)["message"] == "Equipe não encontrada."

    assert error(api_client.delete(f"{DRIVERS}/{davi}", headers=staff["admin"].headers), 409) == {
        "code": "driver_has_teams", "message": "O motorista já fez parte de equipes e não pode ser excluído; desative-o.",
        "details": None}
    assert api_client.delete(f"{DRIVERS}/{carlos}", headers=staff["admin"].headers).status_code == 204
    api_client.patch(f"{CARS}/{car2}", headers=operator, json={"status": "inactive"})
    assert error(api_client.post(TEAMS, headers=operator, json={
        "date": "2025-06-21", "car_id": car2, "driver_id": davi, "collector_id": elisa}), 409)["code"] == (
        "car_not_active")


# ---------------------------------------------------------------- the driver's car


@pytest.fixture
def driver_app():
    """A tiny app with the two driver dependencies (today, or the `date` query parameter)."""
    app = FastAPI()
    install_errors(app)

    @app.get("/car")
    def car(car_id: DriverCar) -> dict[str, str]:
        return {"car_id": car_id}

    @app.get("/car-on")
    def car_on(car_id: DriverCarOnDate) -> dict[str, str]:
        return {"car_id": car_id}

    return TestClient(app)


def test_a_drivers_car_is_the_car_of_their_team_of_the_day(api_client, staff, make_account, driver_app):
    operator = staff["operator"].headers
    today = local_today()
    (car1, car2), (carlos, davi), (beatriz, elisa) = _crew(api_client, operator)
    account = make_account("driver")
    standing = make_account("driver", car_id=car1)
    api_client.patch(f"{DRIVERS}/{davi}", headers=operator, json={"user_id": account.id})

    none_today = driver_app.get("/car", headers=account.headers)
    assert error(none_today, 403) == {"code": "no_car_assigned", "message": "Nenhum carro atribuído a você hoje.",
                                      "details": None}
    team = api_client.post(TEAMS, headers=operator, json={
        "date": today.isoformat(), "car_id": car2, "driver_id": davi, "collector_id": elisa}).json()
    assert driver_app.get("/car", headers=account.headers).json() == {"car_id": car2}
    tomorrow = today + timedelta(days=1)
    assert error(driver_app.get("/car-on", headers=account.headers, params={"date": tomorrow.isoformat()}), 403) == {
        "code": "no_car_assigned", "message": f"Nenhum carro atribuído a você em {tomorrow:%d/%m/%Y}.",
        "details": None}
    api_client.post(TEAMS, headers=operator, json={
        "date": tomorrow.isoformat(), "car_id": car1, "driver_id": davi, "collector_id": beatriz})
    assert driver_app.get("/car-on", headers=account.headers, params={"date": tomorrow.isoformat()}).json() == {
        "car_id": car1}
    # An account with a standing car (users.car_id) keeps it when no team of the day names it.
    assert driver_app.get("/car", headers=standing.headers).json() == {"car_id": car1}
    assert error(driver_app.get("/car", headers=operator), 403)["code"] == "forbidden"

    assignment = api_client.get(f"{DRIVERS}/me/assignment", headers=account.headers)
    assert assignment.status_code == 200, assignment.text
    assert assignment.json() == {
        "date": today.isoformat(), "car": {"id": car2, "label": "CARRO 2", "base": "AV CENTER 1", "plate": None},
        "team": api_client.get(f"{TEAMS}/{team['id']}", headers=operator).json(),
        "route_sheet_url": f"/api/v1/cars/{car2}/route-sheet?date={today.isoformat()}",
    }


# ---------------------------------------------------------------- the route sheet


class RouteSheet(HTMLParser):
    """The parts of the route sheet the tests read: title, header cells, visit rows (cells by class), tags."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.meta: dict[str, str] = {}
        self.rows: list[dict] = []
        self.tags: list[str] = []
        self._row: dict | None = None
        self._cell: str | None = None
        self._in_title = False
        self._text: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "h1":
            self._in_title = True
        elif tag == "tr" and attrs.get("class") in ("visit", "cancelled-visit"):
            self._row = {"kind": attrs["class"], "visit_id": attrs["data-visit-id"]}
            self.rows.append(self._row)
        elif tag == "td":
            self._cell, self._text = attrs.get("class"), []
        elif tag == "br" and self._cell:
            self._text.append("\n")

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_title = False
        elif tag == "td" and self._cell:
            (self._row if self._row is not None else self.meta)[self._cell] = "".join(self._text).strip()
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._cell:
            self._text.append(data)

    def visits(self, kind: str = "visit") -> list[dict]:
        return [row for row in self.rows if row["kind"] == kind]


SAMPLE_DAY = date(2025, 6, 19)
TZ = ZoneInfo("America/Sao_Paulo")
NOTE = '<script>alert("oi")</script> portão & <b>cachorro</b>'


def test_the_route_sheet_of_a_sample_day(api_client, staff, make_account):
    report = run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)
    assert (report["status"], report["imported"]) == ("succeeded", 60)
    admin, operator = staff["admin"].headers, staff["operator"].headers
    with unit_of_work() as session:
        cars = {(c.base, c.label): c.id for c in session.scalars(select(Car))}
        car_id, other_car = cars[("AV CENTER 1", "CARRO 1")], cars[("AV CENTER 2", "CARRO 1")]
        visits = {v.start_at.astimezone(TZ).strftime("%H:%M"): v for v in session.scalars(
            select(Visit).where(Visit.car_id == car_id, Visit.visit_date == SAMPLE_DAY))}
        visits["10:40"].notes = NOTE  # typed by a person: must come out as text
        visits["08:40"].status = "cancelled"
        patient_ids = {v.patient_id for v in visits.values()}

    account = make_account("driver")
    (spare_car, _), (carlos, _), (beatriz, _) = _crew(api_client, operator)
    api_client.patch(f"{DRIVERS}/{carlos}", headers=operator, json={"user_id": account.id, "name": "Carlos Souza"})
    api_client.patch(f"{COLLECTORS}/{beatriz}", headers=operator, json={
        "name": "Beatriz Lima", "registration": {"council": "COREN", "number": "123456", "state": "RJ"}})
    team = api_client.post(TEAMS, headers=operator, json={
        "car_id": car_id, "date": SAMPLE_DAY.isoformat(), "driver_id": carlos, "collector_id": beatriz,
        "notes": "abastecer antes"})
    assert team.status_code == 201, team.text

    response = api_client.get(f"{CARS}/{car_id}/route-sheet", headers=operator, params={"date": "2025-06-19"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"pt-BR\">")
    assert "@page { size: A4 landscape; margin: 10mm; }" in page and "@media print" in page

    sheet = RouteSheet(page)
    assert sheet.title == "Folha de rota — CARRO 1 · AV CENTER 1 — 19/06/2025"
    assert sheet.meta == {
        "date": "19/06/2025 (quinta-feira)", "car": "CARRO 1 · AV CENTER 1",
        "unit": "Barra - Aventura Center · 248 · UND84", "vehicle": "—", "driver": "Carlos Souza",
        "collector": "Beatriz Lima (COREN-RJ 123456)", "count": "4 (capacidade diária: 7)",
        "team-notes": "abastecer antes",
    }
    rows = sheet.visits()
    assert [(r["seq"], r["time"], r["patient"]) for r in rows] == [
        ("1", "06:40–07:20", "PAULO CAMPOS FERNANDES"),
        ("2", "07:20–08:00", "LÚCIA BARBOSA ARAÚJO"),
        ("3", "10:40–11:20", "APARECIDA DE MEDEIROS SANTOS"),
        ("4", "11:20–12:00", "LARISSA SILVA MELO"),
    ]
    assert [r["visit_id"] for r in rows] == [visits[t].id for t in ("06:40", "07:20", "10:40", "11:20")]
    assert [(r["time"], r["patient"]) for r in sheet.visits("cancelled-visit")] == [
        ("08:40–09:20", "APARECIDA SIMONE MOREIRA LIMA")]

    paulo, lucia, aparecida, larissa = rows
    # A split visit (two export rows, two payers) is one stop with every exam and both payers.
    assert paulo["exams"] == (
        "7 exame(s): 1014, 1004, 1013, 1020, 1019, 1008, 1003\n"
        "TGP, TRIGLICERIDEOS, TGO · PCR ULTRASSENSIVEL, ACIDO URICO, TRIGLICERIDEOS, CREATININA, "
        "COLESTEROL TOTAL E FRACOES")
    assert paulo["payers"] == "CASSI\nPARTICULAR"
    assert (paulo["contacts"], paulo["notes"], paulo["confirmation"]) == (
        "sem telefone", "paciente em jejum de 8h", "Confirmada (WhatsApp)")
    assert paulo["address"] == "estrada do pontal, 1358\nbloco 2 apto 1342\nleblon\nrio de janeiro/RJ\nCEP 22646-605"
    assert lucia["contacts"] == "Residencial: (21) 3631-4480\nCelular: (21) 94200-7672"
    assert lucia["address"].endswith("\nRef.: proximo ao mercado")
    assert (lucia["notes"], lucia["confirmation"]) == ("portaria exige documento | paciente em jejum de 8h",
                                                       "Pendente")
    assert larissa["contacts"] == "Celular: (21) 93794-8257\nResidencial: (21) 3702-5276"
    assert larissa["notes"] == "⚠️ idosa acamada, chamar filha"
    # The note's HTML is text: escaped in the page, no tag of it parsed.
    assert aparecida["notes"] == NOTE
    assert "&lt;script&gt;alert(&quot;oi&quot;)&lt;/script&gt; portão &amp; &lt;b&gt;cachorro&lt;/b&gt;" in page
    assert "script" not in sheet.tags and "b" not in sheet.tags

    # Every patient listed (cancelled included: the name shows) has one audited read.
    with unit_of_work() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.read")).all()
        assert sorted(e.entity_id for e in events) == sorted(patient_ids)
        assert {(e.actor_id, e.entity_type, tuple(sorted(e.details.items()))) for e in events} == {
            (staff["operator"].id, "patient", (("car_id", car_id), ("date", "2025-06-19"), ("via", "route_sheet")))}

    # The driver of the team reads the sheet of their car that day, and no other.
    mine = api_client.get(f"{CARS}/{car_id}/route-sheet", headers=account.headers, params={"date": "2025-06-19"})
    assert [r["patient"] for r in RouteSheet(mine.text).visits()] == [r["patient"] for r in rows]
    assert error(api_client.get(f"{CARS}/{other_car}/route-sheet", headers=account.headers,
                                params={"date": "2025-06-19"}), 403) == {
        "code": "not_your_car", "message": "Você só pode ver a folha de rota do carro da sua equipe nesta data.",
        "details": None}
    assert error(api_client.get(f"{CARS}/{car_id}/route-sheet", headers=account.headers,
                                params={"date": "2025-06-20"}), 403)["code"] == "no_car_assigned"
    assert api_client.get(f"{CARS}/{car_id}/route-sheet", headers=staff["viewer"].headers).status_code == 403

    # A car without a team or visits that day still prints, saying so.
    empty = RouteSheet(api_client.get(f"{CARS}/{spare_car}/route-sheet", headers=admin,
                                      params={"date": "2025-06-19"}).text)
    assert (empty.meta["team"], empty.meta["count"], empty.rows) == ("não definida", "0 (capacidade diária: 7)", [])

    # Cars of the export are never deleted; their new label reaches the visit and patient documents.
    assert error(api_client.delete(f"{CARS}/{car_id}", headers=admin), 409) == {
        "code": "car_has_visits", "message": "O carro tem visitas registradas e não pode ser excluído; desative-o.",
        "details": {"visits": 15}}
    assert api_client.patch(f"{CARS}/{car_id}", headers=operator, json={"label": "CARRO 1A"}).status_code == 200
    client = get_client()
    paulo_visit = visits["06:40"]

    def relabelled():
        sync.drain(max_batches=100)
        client.indices.refresh(index=names.alias("visits"))
        document = client.get(index=names.alias("visits"), id=paulo_visit.id, ignore=[404])
        return document.get("_source", {}).get("car") == "CARRO 1A"

    assert wait_until(relabelled, timeout=15)
    patient = client.get(index=names.alias("patients"), id=paulo_visit.patient_id)["_source"]
    assert patient["cars"] == ["CARRO 1A", "CARRO 2"]
