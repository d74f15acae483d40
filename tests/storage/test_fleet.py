"""Fleet rules in storage: car commands (plate, capacity, status, delete, relabel → outbox), drivers, collectors,
teams (one per car and day; a person in one team per day), the driver's car of a day, the route sheet query."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from storage.cars import repo as car_repo
from storage.cars import service as car_service
from storage.db import get_engine, get_sessionmaker, unit_of_work
from storage.errors import Conflict, Invalid, NotFound
from storage.outbox import OutboxEntry
from storage.patients import service as patient_service
from storage.patients.models import Patient
from storage.teams import repo as team_repo
from storage.teams import service as team_service
from storage.users import service as user_service
from storage.visits.models import Visit
from tests.factories import patient_data
from tests.fixtures import wait_until

TZ = ZoneInfo("America/Sao_Paulo")
DAY = date(2025, 6, 19)


def add_visit(session, patient_id, car_id, hour, minute=0, day=DAY, **fields):
    """A visit row written directly (the schedule commands are another domain's)."""
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)
    visit = Visit(row_version=1, patient_id=patient_id, car_id=car_id, start_at=start,
                  end_at=start + timedelta(minutes=40), visit_date=day, **fields)
    session.add(visit)
    session.flush()
    return visit


def outbox(session):
    return sorted((e.entity_type, e.entity_id) for e in session.scalars(select(OutboxEntry)))


def clear_outbox(session):
    for entry in session.scalars(select(OutboxEntry)):
        session.delete(entry)
    session.flush()


def invalid(call) -> tuple:
    with pytest.raises(Invalid) as caught:
        call()
    return caught.value.code, caught.value.message, caught.value.details.get("field")


def conflict(call) -> tuple:
    with pytest.raises(Conflict) as caught:
        call()
    return caught.value.code, caught.value.message, caught.value.details


# ---------------------------------------------------------------- cars


def test_a_car_made_by_hand_normalises_its_plate_and_takes_defaults(db_session):
    car = car_service.create(db_session, {"label": "  CARRO   9 ", "base": "AV CENTER 4", "plate": "abc-1d23",
                                          "model": "Fiat Doblò"})
    assert (car.label, car.base, car.plate, car.model, car.status, car.daily_capacity, car.source_key,
            car.row_version) == ("CARRO 9", "AV CENTER 4", "ABC1D23", "Fiat Doblò", "active", 7, None, 1)
    old = car_service.create(db_session, {"label": "CARRO 10", "plate": "xyz 1234", "daily_capacity": 50})
    assert (old.plate, old.daily_capacity) == ("XYZ1234", 50)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"label": "CARRO 1", "plate": "AB12345"},
         ("invalid_plate", "Placa inválida: use o formato ABC1234 ou ABC1D23.", "plate")),
        ({"label": "CARRO 1", "plate": "ABC1DD3"},
         ("invalid_plate", "Placa inválida: use o formato ABC1234 ou ABC1D23.", "plate")),
        ({"label": "CARRO 1", "daily_capacity": 0},
         ("invalid_daily_capacity", "A capacidade diária deve ser um número inteiro entre 1 e 50 visitas.",
          "daily_capacity")),
        ({"label": "CARRO 1", "daily_capacity": 51},
         ("invalid_daily_capacity", "A capacidade diária deve ser um número inteiro entre 1 e 50 visitas.",
          "daily_capacity")),
        ({"label": "CARRO 1", "status": "broken"},
         ("invalid_car_status", "Situação inválida: use active, maintenance ou inactive.", "status")),
        ({"label": " "}, ("missing_label", "Informe o nome do carro (ex.: CARRO 1).", "label")),
        ({"label": "C" * 41}, ("invalid_label", "O nome do carro deve ter no máximo 40 caracteres.", "label")),
        ({"label": "CARRO 1", "room_code": "379"}, ("unknown_fields", "Campos não permitidos.", None)),
    ],
)
def test_car_validation_errors(db_session, data, expected):
    assert invalid(lambda: car_service.create(db_session, data)) == expected


def test_a_plate_belongs_to_one_car(db_session):
    first = car_service.create(db_session, {"label": "CARRO 1", "plate": "ABC1234"})
    second = car_service.create(db_session, {"label": "CARRO 2"})
    assert conflict(lambda: car_service.update(db_session, second.id, {"plate": "abc-1234"})) == (
        "car_plate_exists", "Já existe um carro com esta placa.", {"car_id": first.id})
    assert car_service.update(db_session, first.id, {"plate": "ABC1234"}).plate == "ABC1234"  # its own plate


def test_update_changes_fleet_fields_and_an_unknown_car_is_not_found(db_session):
    car = car_service.create(db_session, {"label": "CARRO 1"})
    updated = car_service.update(db_session, car.id, {"status": "maintenance", "daily_capacity": 5, "model": "Kangoo",
                                                      "plate": None})
    assert (updated.status, updated.daily_capacity, updated.model, updated.plate) == ("maintenance", 5, "Kangoo", None)
    with pytest.raises(NotFound) as caught:
        car_service.update(db_session, "missing", {"status": "active"})
    assert (caught.value.code, caught.value.message) == ("car_not_found", "Carro não encontrado.")
    assert invalid(lambda: car_service.update(db_session, car.id, {"unit_code": "1"}))[0] == "unknown_fields"


def test_relabelling_a_car_bumps_and_queues_its_visits_and_their_patients(db_session):
    car = car_service.create(db_session, {"label": "CARRO 1", "base": "AV CENTER 1"})
    other_car = car_service.create(db_session, {"label": "CARRO 2"})
    ana = patient_service.create(db_session, patient_data())
    bia = patient_service.create(db_session, patient_data())
    visits = [add_visit(db_session, ana.id, car.id, 7), add_visit(db_session, bia.id, car.id, 8),
              add_visit(db_session, ana.id, car.id, 9, day=DAY + timedelta(days=1))]
    untouched = add_visit(db_session, bia.id, other_car.id, 10)
    patient_versions = {p.id: p.row_version for p in (ana, bia)}
    clear_outbox(db_session)

    car_service.update(db_session, car.id, {"status": "maintenance", "plate": "ABC1234"})
    assert outbox(db_session) == []  # nothing indexed shows status or plate

    car_service.update(db_session, car.id, {"label": "CARRO 7"})
    db_session.expire_all()
    assert outbox(db_session) == sorted([("visit", v.id) for v in visits] + [("patient", ana.id), ("patient", bia.id)])
    assert [db_session.get(Visit, v.id).row_version for v in visits] == [2, 2, 2]
    assert db_session.get(Visit, untouched.id).row_version == 1
    assert {p: db_session.get(Patient, p).row_version for p in patient_versions} == {
        p: v + 1 for p, v in patient_versions.items()}

    clear_outbox(db_session)
    # The base is in the visit documents and in the patients' nested visits (their car facet shows it).
    car_service.update(db_session, car.id, {"base": "AV CENTER 9"})
    assert outbox(db_session) == sorted([("visit", v.id) for v in visits] + [("patient", ana.id), ("patient", bia.id)])


def test_an_imported_car_or_a_car_with_visits_is_never_deleted(db_session):
    imported = car_service.get_or_create_by_source_key(db_session, "379|AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84",
                                                       {"label": "CARRO 1", "base": "AV CENTER 1"})
    assert conflict(lambda: car_service.delete(db_session, imported.id)) == (
        "car_imported", "Carros da agenda importada não podem ser excluídos; desative-o.", {})
    busy = car_service.create(db_session, {"label": "CARRO 2"})
    patient = patient_service.create(db_session, patient_data())
    add_visit(db_session, patient.id, busy.id, 7)
    add_visit(db_session, patient.id, busy.id, 9)
    assert conflict(lambda: car_service.delete(db_session, busy.id)) == (
        "car_has_visits", "O carro tem visitas registradas e não pode ser excluído; desative-o.", {"visits": 2})
    assert car_service.update(db_session, imported.id, {"status": "inactive"}).status == "inactive"

    spare = car_service.create(db_session, {"label": "CARRO 3"})
    driver = team_service.create_member(db_session, "driver", {"name": "Carlos"})
    collector = team_service.create_member(db_session, "collector", {"name": "Beatriz"})
    team = team_service.assign(db_session, {"car_id": spare.id, "day": DAY, "driver_id": driver.id,
                                            "collector_id": collector.id})
    team_id = team.id
    car_service.delete(db_session, spare.id)
    db_session.expunge_all()
    assert (car_repo.get(db_session, spare.id), team_repo.get_team(db_session, team_id)) == (None, None)


def test_list_cars_filters_by_status_and_unit(db_session):
    a = car_service.create(db_session, {"label": "CARRO 1", "unit_code": "248", "base": "AV CENTER 1"})
    b = car_service.create(db_session, {"label": "CARRO 2", "unit_code": "248", "status": "maintenance"})
    c = car_service.create(db_session, {"label": "CARRO 1", "unit_code": "300", "operational_unit": "UND84"})
    assert [car.id for car in car_repo.list_cars(db_session)] == [b.id, a.id, c.id]
    assert [car.id for car in car_repo.list_cars(db_session, status="active")] == [a.id, c.id]
    assert [car.id for car in car_repo.list_cars(db_session, unit="248")] == [b.id, a.id]
    assert [car.id for car in car_repo.list_cars(db_session, unit="UND84")] == [c.id]


# ---------------------------------------------------------------- drivers and collectors


def test_drivers_normalise_phones_and_link_only_driver_accounts(db_session):
    account = user_service.create(db_session, {"email": "carlos@coleta.test", "name": "Carlos", "role": "driver",
                                               "password": "senha-do-carlos"})
    driver = team_service.create_member(db_session, "driver", {"name": " Carlos  Souza ", "phone": "(21) 99876-5432",
                                                     "user_id": account.id})
    assert (driver.name, driver.phone, driver.status, driver.user_id) == ("Carlos Souza", "21998765432", "active",
                                                                          account.id)
    assert conflict(lambda: team_service.create_member(db_session, "driver", {"name": "Outro", "user_id": account.id})) == (
        "user_already_linked", "Este usuário já está vinculado a outro motorista.", {"driver_id": driver.id})
    viewer = user_service.create(db_session, {"email": "vera@coleta.test", "name": "Vera", "role": "viewer",
                                              "password": "senha-da-vera1"})
    assert invalid(lambda: team_service.create_member(db_session, "driver", {"name": "Vera", "user_id": viewer.id})) == (
        "user_not_driver", "O usuário vinculado precisa ter o perfil de motorista.", "user_id")
    assert invalid(lambda: team_service.create_member(db_session, "driver", {"name": "X", "phone": "123"})) == (
        "invalid_phone", "Telefone inválido: use DDD + número.", "phone")
    assert invalid(lambda: team_service.update_member(db_session, "driver", driver.id, {"status": "on_leave"})) == (
        "invalid_status", "Situação inválida: use active ou inactive.", "status")
    assert invalid(lambda: team_service.create_member(db_session, "driver", {"name": ""})) == (
        "missing_name", "Informe o nome.", "name")
    updated = team_service.update_member(db_session, "driver", driver.id, {"phone": None, "user_id": None, "status": "inactive"})
    assert (updated.phone, updated.user_id, updated.status) == (None, None, "inactive")
    with pytest.raises(NotFound) as caught:
        team_service.update_member(db_session, "driver", "missing", {"name": "X"})
    assert (caught.value.code, caught.value.message) == ("driver_not_found", "Motorista não encontrado.")


def test_collectors_keep_a_complete_unique_registration(db_session):
    collector = team_service.create_member(db_session, "collector", {
        "name": "Beatriz Lima", "phone": "21 3456-7890",
        "registration": {"council": "coren", "number": "123.456", "state": "rj"},
    })
    assert (collector.phone, collector.council, collector.registration_number, collector.registration_state) == (
        "2134567890", "COREN", "123456", "RJ")
    same = {"name": "Outra", "registration": {"council": "COREN", "number": "123456", "state": "RJ"}}
    assert conflict(lambda: team_service.create_member(db_session, "collector", same)) == (
        "collector_registration_exists", "Já existe uma coletora com este registro profissional.", {})
    cases = [
        ({"council": "COREN", "number": "1"}, ("incomplete_registration",
                                               "Informe conselho, número e UF do registro profissional.",
                                               "registration")),
        ({"council": "CRM", "number": "1", "state": "RJ"}, (
            "invalid_council", "Conselho profissional inválido: use COREN, CRBM, CRF ou CRBIO.",
            "registration.council")),
        ({"council": "CRBM", "number": "abc", "state": "RJ"}, (
            "invalid_registration_number", "Número de registro inválido: use os dígitos (ex.: 123456).",
            "registration.number")),
        ({"council": "CRBM", "number": "4321", "state": "XX"}, (
            "invalid_state", "UF inválida: use a sigla do estado (ex.: RJ).", "registration.state")),
    ]
    for registration, expected in cases:
        assert invalid(lambda: team_service.create_member(
            db_session, "collector", {"name": "X", "registration": registration})) == expected
    cleared = team_service.update_member(db_session, "collector", collector.id, {"registration": None})
    assert (cleared.council, cleared.registration_number, cleared.registration_state) == (None, None, None)


def test_people_in_teams_are_deactivated_not_deleted(db_session):
    car = car_service.create(db_session, {"label": "CARRO 1"})
    driver = team_service.create_member(db_session, "driver", {"name": "Carlos"})
    collector = team_service.create_member(db_session, "collector", {"name": "Beatriz"})
    spare_driver = team_service.create_member(db_session, "driver", {"name": "Davi"})
    team_service.assign(db_session, {"car_id": car.id, "day": DAY, "driver_id": driver.id,
                                     "collector_id": collector.id})
    assert conflict(lambda: team_service.delete_member(db_session, "driver", driver.id))[0] == "driver_has_teams"
    assert conflict(lambda: team_service.delete_member(db_session, "collector", collector.id)) == (
        "collector_has_teams", "A coletora já fez parte de equipes e não pode ser excluída; desative-a.", {})
    team_service.delete_member(db_session, "driver", spare_driver.id)
    assert team_repo.get_member(db_session, "driver", spare_driver.id) is None


# ---------------------------------------------------------------- teams


@pytest.fixture
def crew(db_session):
    """Two active cars, two drivers and two collectors."""
    cars = [car_service.create(db_session, {"label": f"CARRO {n}", "base": "AV CENTER 1"}) for n in (1, 2)]
    drivers = [team_service.create_member(db_session, "driver", {"name": name}) for name in ("Carlos", "Davi")]
    collectors = [team_service.create_member(db_session, "collector", {"name": name}) for name in ("Beatriz", "Elisa")]
    return cars, drivers, collectors


def test_a_team_per_car_and_day_and_a_person_in_one_team_per_day(db_session, crew):
    (car1, car2), (carlos, davi), (beatriz, elisa) = crew
    team = team_service.assign(db_session, {"car_id": car1.id, "day": "2025-06-19", "driver_id": carlos.id,
                                            "collector_id": beatriz.id, "notes": " sair às 6h "})
    assert (team.car_id, team.day, team.driver.name, team.collector.name, team.notes) == (
        car1.id, DAY, "Carlos", "Beatriz", "sair às 6h")

    assert conflict(lambda: team_service.assign(db_session, {
        "car_id": car1.id, "day": DAY, "driver_id": davi.id, "collector_id": elisa.id})) == (
        "team_exists", "Este carro já tem uma equipe neste dia.", {"team_id": team.id})
    assert conflict(lambda: team_service.assign(db_session, {
        "car_id": car2.id, "day": DAY, "driver_id": carlos.id, "collector_id": elisa.id})) == (
        "driver_already_assigned", "Motorista já escalado em outra equipe neste dia.",
        {"team_id": team.id, "car_id": car1.id})
    assert conflict(lambda: team_service.assign(db_session, {
        "car_id": car2.id, "day": DAY, "driver_id": davi.id, "collector_id": beatriz.id})) == (
        "collector_already_assigned", "Coletora já escalada em outra equipe neste dia.",
        {"team_id": team.id, "car_id": car1.id})

    # The next day everyone is free again.
    next_day = team_service.assign(db_session, {"car_id": car2.id, "day": DAY + timedelta(days=1),
                                                "driver_id": carlos.id, "collector_id": beatriz.id})
    second = team_service.assign(db_session, {"car_id": car2.id, "day": DAY, "driver_id": davi.id,
                                              "collector_id": elisa.id})
    assert conflict(lambda: team_service.update_team(db_session, second.id, {"driver_id": carlos.id}))[0] == (
        "driver_already_assigned")
    swapped = team_service.update_team(db_session, next_day.id, {"driver_id": davi.id, "notes": None})
    assert (swapped.driver.name, swapped.notes) == ("Davi", None)
    assert [t.id for t in team_repo.list_teams(db_session, DAY)] == [team.id, second.id]
    assert [t.id for t in team_repo.list_teams(db_session, DAY, car_id=car2.id)] == [second.id]

    team_service.delete_team(db_session, second.id)
    assert [t.id for t in team_repo.list_teams(db_session, DAY)] == [team.id]
    with pytest.raises(NotFound) as caught:
        team_service.delete_team(db_session, second.id)
    assert (caught.value.code, caught.value.message) == ("team_not_found", "Equipe não encontrada.")


def test_only_active_cars_and_people_make_a_team(db_session, crew):
    (car1, car2), (carlos, davi), (beatriz, elisa) = crew
    car_service.update(db_session, car1.id, {"status": "maintenance"})
    team_service.update_member(db_session, "driver", davi.id, {"status": "inactive"})
    team_service.update_member(db_session, "collector", elisa.id, {"status": "inactive"})
    data = {"day": DAY, "driver_id": carlos.id, "collector_id": beatriz.id}
    assert conflict(lambda: team_service.assign(db_session, {**data, "car_id": car1.id})) == (
        "car_not_active", "O carro não está ativo (em manutenção ou inativo) e não pode receber equipe.",
        {"status": "maintenance"})
    assert conflict(lambda: team_service.assign(db_session, {**data, "car_id": car2.id, "driver_id": davi.id})) == (
        "driver_inactive", "Motorista inativo não pode ser escalado.", {})
    assert conflict(lambda: team_service.assign(db_session, {**data, "car_id": car2.id, "collector_id": elisa.id})) == (
        "collector_inactive", "Coletora inativa não pode ser escalada.", {})
    assert invalid(lambda: team_service.assign(db_session, {**data, "car_id": car2.id, "day": "19/06/2025"})) == (
        "invalid_date", "Data inválida: use AAAA-MM-DD.", "date")
    with pytest.raises(NotFound) as caught:
        team_service.assign(db_session, {**data, "car_id": car2.id, "collector_id": "missing"})
    assert (caught.value.code, caught.value.message) == ("collector_not_found", "Coletora não encontrada.")


def test_the_car_of_a_driver_account_comes_from_the_team_of_the_day(db_session, crew):
    (car1, car2), (carlos, davi), (beatriz, elisa) = crew
    account = user_service.create(db_session, {"email": "davi@coleta.test", "name": "Davi", "role": "driver",
                                               "password": "senha-do-davi1"})
    team_service.update_member(db_session, "driver", davi.id, {"user_id": account.id})
    team_service.assign(db_session, {"car_id": car2.id, "day": DAY, "driver_id": davi.id, "collector_id": elisa.id})
    team_service.assign(db_session, {"car_id": car1.id, "day": DAY, "driver_id": carlos.id,
                                     "collector_id": beatriz.id})
    assert team_repo.car_of_user(db_session, account.id, DAY) == car2.id
    assert team_repo.car_of_user(db_session, account.id, DAY + timedelta(days=1)) is None


# ---------------------------------------------------------------- the route sheet query


def test_route_sheet_rows_are_the_cars_visits_of_the_day_in_time_order(db_session):
    car = car_service.create(db_session, {"label": "CARRO 1"})
    other = car_service.create(db_session, {"label": "CARRO 2"})
    ana = patient_service.create(db_session, patient_data(name="Ana Lima"))
    bia = patient_service.create(db_session, patient_data(name="Bia Souza"))
    late = add_visit(db_session, ana.id, car.id, 10, 40)
    early = add_visit(db_session, bia.id, car.id, 6, 40, notes="jejum")
    cancelled = add_visit(db_session, ana.id, car.id, 8, 0, status="cancelled")
    add_visit(db_session, bia.id, other.id, 7, 20)
    add_visit(db_session, bia.id, car.id, 7, 20, day=DAY + timedelta(days=1))
    rows = car_repo.route_sheet_rows(db_session, car.id, DAY)
    assert [(r.id, r.patient_name, r.status) for r in rows] == [
        (early.id, "Bia Souza", "scheduled"), (cancelled.id, "Ana Lima", "cancelled"),
        (late.id, "Ana Lima", "scheduled")]
    assert (rows[0].notes, rows[0].patient_phones) == ("jejum", bia.phones)


def test_of_two_concurrent_assignments_of_one_driver_only_one_wins(committed):
    """The up-front check cannot see an uncommitted team; the unique constraint can, and says the same 409."""
    with unit_of_work() as session:
        cars = [car_service.create(session, {"label": f"CARRO {n}"}).id for n in (1, 2)]
        driver = team_service.create_member(session, "driver", {"name": "Carlos"}).id
        collectors = [team_service.create_member(session, "collector", {"name": n}).id for n in ("Beatriz", "Elisa")]
    first, second = get_sessionmaker()(), get_sessionmaker()()
    outcome: dict = {}

    def assign_in_second():
        try:
            team_service.assign(second, {"car_id": cars[1], "day": DAY, "driver_id": driver,
                                         "collector_id": collectors[1]})
            outcome["team"] = True
        except Conflict as error:
            outcome["error"] = (error.code, error.message, error.details)

    try:
        team_service.assign(first, {"car_id": cars[0], "day": DAY, "driver_id": driver, "collector_id": collectors[0]})
        thread = threading.Thread(target=assign_in_second)
        thread.start()
        assert wait_until(lambda: _waiting_on_locks() > 0)  # the second insert waits on the first's key
        first.commit()
        thread.join(timeout=10)
        assert outcome == {"error": ("driver_already_assigned", "Motorista já escalado em outra equipe neste dia.",
                                     {})}
    finally:
        second.rollback()
        first.close()
        second.close()


def _waiting_on_locks() -> int:
    with get_engine().connect() as connection:
        return connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one()
