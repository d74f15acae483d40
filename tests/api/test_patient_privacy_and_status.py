"""One masking rule for every route that shows a patient; inactive patients in search and bookings; a car by its
label where the label names one car; the suggestion box with a one-letter last word."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from indexing import names, sync
from indexing.client import get_client
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.jobs import service as job_service
from storage.messages import service as message_service
from storage.patients import service as patient_service
from storage.visits import service as visit_service
from tests.factories import patient_data
from tests.storage.visits.helpers import make_car
from workers.tasks.jobs import run_job

TZ = ZoneInfo("America/Sao_Paulo")
PATIENTS = "/api/v1/patients"
VISITS = "/api/v1/visits"
CPF, PHONE, EMAIL, CARD = "52998224725", "21998765432", "walter.pinto@example.com.br", "073186173990487"


def drain() -> None:
    assert sync.drain(max_batches=100).failed_entities == 0
    get_client().indices.refresh(index=f"{names.alias('patients')},{names.alias('visits')}")


def tomorrow(hour: int, minute: int = 0, days: int = 1) -> datetime:
    return datetime.combine(job_service.local_today() + timedelta(days=days), time(hour, minute), TZ)


@pytest.fixture
def walter(committed) -> dict[str, str]:
    """Walter Pinto (CPF, mobile, e-mail, card) with a visit tomorrow in CARRO 9 and a message about it."""
    with unit_of_work() as session:
        car = make_car(session, label="CARRO 9").id
        patient = patient_service.create(session, patient_data(
            name="Walter Pinto", cpf=CPF, phones=[PHONE], email=EMAIL,
            health_plan={"code": "80", "name": "AMIL", "card_number": CARD})).id
        visit, _ = visit_service.create(session, {"patient_id": patient, "car_id": car, "start": tomorrow(7, 20),
                                             "end": tomorrow(8, 0)}, actor_id=None)
        message_service.request(session, template="reminder", channel="whatsapp", visit_id=visit.id, actor_id=None)
        visit_id = visit.id
    drain()
    return {"patient": patient, "visit": visit_id, "car": car}


def shown(api_client, role_headers, walter) -> dict[str, object]:
    """Everything the routes show of Walter's CPF, phones, e-mail and card, for one role."""
    day = (job_service.local_today() + timedelta(days=1)).isoformat()
    search = api_client.get(PATIENTS, params={"q": "walter"}, headers=role_headers).json()["items"][0]
    suggestion = api_client.get(f"{PATIENTS}/suggest", params={"q": "walter"}, headers=role_headers).json()["items"][0]
    profile = api_client.get(f"{PATIENTS}/{walter['patient']}", headers=role_headers).json()
    schedule = api_client.get(VISITS, params={"date": day}, headers=role_headers).json()["cars"][0]["visits"][0]
    visit = api_client.get(f"{VISITS}/{walter['visit']}", headers=role_headers).json()
    log = api_client.get("/api/v1/messages", params={"patient_id": walter["patient"]}, headers=role_headers).json()
    return {
        "search": (search["cpf"], search["phones"]),
        "suggest": suggestion["cpf_masked"],
        "profile": (profile["cpf"], [p["number"] for p in profile["phones"]], profile["email"],
                    profile["health_plan"]["card_number"], profile["messages"][0]["to_phone"]),
        "schedule": ([p["number"] for p in schedule["patient"]["phones"]], schedule["patient"]["email"],
                     schedule["payers"][0]["card_number"]),
        "visit": ([p["number"] for p in visit["patient"]["phones"]], visit["patient"]["email"],
                  visit["payers"][0]["card_number"]),
        "messages": log["items"][0]["to_phone"],
    }


def test_one_masking_rule_for_search_suggest_profile_schedule_visit_and_messages(walter, api_client, make_account):
    masked_phone, masked_email, masked_card = "(21) *****-5432", "w***@example.com.br", "***********0487"
    assert shown(api_client, make_account("viewer").headers, walter) == {
        "search": ("***.982.247-**", [masked_phone]),
        "suggest": "***.982.247-**",
        "profile": ("***.982.247-**", [masked_phone], masked_email, masked_card, masked_phone),
        "schedule": ([masked_phone], masked_email, masked_card),
        "visit": ([masked_phone], masked_email, masked_card),
        "messages": masked_phone,
    }
    for role in ("operator", "admin"):
        assert shown(api_client, make_account(role).headers, walter) == {
            "search": (CPF, [PHONE]),
            "suggest": "***.982.247-**",  # autocomplete never shows a whole CPF
            "profile": (CPF, [PHONE], EMAIL, CARD, f"+55{PHONE}"),
            "schedule": ([PHONE], EMAIL, CARD),
            "visit": ([PHONE], EMAIL, CARD),
            "messages": f"+55{PHONE}",
        }, role


def test_a_one_letter_last_word_is_a_prefix_in_suggestions(walter, api_client, make_account):
    headers = make_account("viewer").headers
    for q in ("walter", "walter p", "walter pinto", "walter P", "w pinto"):
        items = api_client.get(f"{PATIENTS}/suggest", params={"q": q}, headers=headers).json()["items"]
        assert [item["id"] for item in items] == [walter["patient"]], q
    assert api_client.get(f"{PATIENTS}/suggest", params={"q": "walter x"}, headers=headers).json()["items"] == []


# ------------------------------------------------------------------------------------ inactive patients


@pytest.fixture
def registry(committed) -> dict[str, str]:
    """Three Marias: two active, one inactive whose name matches best; a visit tomorrow for the inactive one."""
    with unit_of_work() as session:
        car = make_car(session, label="CARRO 5").id
        ids = {key: patient_service.create(session, patient_data(name=name)).id for key, name in (
            ("inactive", "Maria Souza"), ("active", "Maria Souza Lima"), ("other", "Maria de Souza Costa"))}
        visit, _ = visit_service.create(session, {"patient_id": ids["inactive"], "car_id": car, "start": tomorrow(9, 0),
                                             "end": tomorrow(9, 40)}, actor_id=None)
        patient_service.update(session, ids["inactive"], {"status": "inactive"})
    drain()
    return {**ids, "car": car, "visit": visit.id}


def test_inactive_patients_show_their_status_can_be_filtered_and_come_last(registry, api_client, make_account):
    headers = make_account("operator").headers
    page = api_client.get(PATIENTS, params={"q": "maria souza"}, headers=headers).json()
    # "Maria Souza" meets the words best, yet comes after the active Marias.
    assert [item["status"] for item in page["items"]] == ["active", "active", "inactive"]
    assert page["items"][-1]["id"] == registry["inactive"]
    for sort in ("name", "next_visit", "-last_visit"):
        items = api_client.get(PATIENTS, params={"q": "maria", "sort": sort}, headers=headers).json()["items"]
        assert items[-1]["id"] == registry["inactive"], sort
    only = api_client.get(PATIENTS, params={"status": "inactive"}, headers=headers).json()
    assert [item["id"] for item in only["items"]] == [registry["inactive"]]
    assert api_client.get(PATIENTS, params={"status": "active"}, headers=headers).json()["total"] == 2
    response = api_client.get(PATIENTS, params={"status": "deleted"}, headers=headers)
    assert response.status_code == 422
    suggestions = api_client.get(f"{PATIENTS}/suggest", params={"q": "maria sou"}, headers=headers).json()["items"]
    assert [(s["id"], s["status"]) for s in suggestions][-1] == (registry["inactive"], "inactive")


def test_an_inactive_patient_cannot_be_booked(registry, api_client, make_account):
    headers = make_account("operator").headers

    def refused(response) -> None:
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert (error["code"], error["message"], error["details"]) == (
            "patient_inactive",
            "Paciente inativo: reative o cadastro antes de agendar, reagendar ou reativar uma visita.",
            {"patient_id": registry["inactive"]},
        )

    refused(api_client.post(VISITS, json={"patient_id": registry["inactive"], "car_id": registry["car"],
                                          "start": tomorrow(11, 0).isoformat(), "end": tomorrow(11, 40).isoformat()},
                            headers=headers))
    url = f"{VISITS}/{registry['visit']}"
    refused(api_client.patch(url, json={"start": tomorrow(10, 0).isoformat()}, headers=headers))
    # Cancelling stays possible; reinstating is a booking again.
    assert api_client.patch(url, json={"status": "cancelled"}, headers=headers).status_code == 200
    refused(api_client.patch(url, json={"status": "scheduled"}, headers=headers))

    # A bulk move onto them fails that item, with the same code.
    assert api_client.patch(f"{PATIENTS}/{registry['inactive']}", json={"status": "active"},
                            headers=headers).status_code == 200
    assert api_client.patch(url, json={"status": "scheduled"}, headers=headers).status_code == 200
    assert api_client.patch(f"{PATIENTS}/{registry['inactive']}", json={"status": "inactive"},
                            headers=headers).status_code == 200
    job = api_client.post("/api/v1/bulk", json={"action": "reschedule", "visit_ids": [registry["visit"]],
                                                "params": {"shift_minutes": 60}}, headers=headers).json()
    assert run_job(job["id"]) == "done"
    item = api_client.get(f"/api/v1/bulk/{job['id']}", headers=headers).json()["items"][0]
    assert (item["outcome"], item["code"]) == ("error", "patient_inactive")


# ------------------------------------------------------------------------------------ cars by label


def test_a_visit_takes_a_car_by_its_label_where_one_car_bears_it(walter, api_client, make_account):
    headers = make_account("operator").headers
    with unit_of_work() as session:
        make_car(session, label="CARRO 3", base="AV CENTER 1")
        make_car(session, label="CARRO 3", base="AV CENTER 2")
        other = car_service.create(session, {"label": "CARRO 12", "base": "AV CENTER 1", "unit_code": "248"}).id
    url = f"{VISITS}/{walter['visit']}"

    moved = api_client.patch(url, json={"car": "CARRO 12"}, headers=headers)
    assert moved.status_code == 200, moved.text
    assert moved.json()["car"] == {"id": other, "label": "CARRO 12", "base": "AV CENTER 1"}
    moved = api_client.patch(url, json={"car": "carro 9"}, headers=headers)
    assert moved.json()["car"]["id"] == walter["car"]

    response = api_client.patch(url, json={"car": "CARRO 3"}, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "ambiguous_car")
    assert [c["base"] for c in response.json()["error"]["details"]["candidates"]] == ["AV CENTER 1", "AV CENTER 2"]
    response = api_client.patch(url, json={"car": "CARRO 40"}, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "car_not_found")
    booked = api_client.post(VISITS, json={"patient_id": walter["patient"], "car": "CARRO 12",
                                           "start": tomorrow(10, 0).isoformat(), "end": tomorrow(10, 40).isoformat()},
                             headers=headers)
    assert booked.status_code == 201, booked.text
    assert booked.json()["car"]["id"] == other
