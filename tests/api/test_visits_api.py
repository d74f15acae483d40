"""Visit routes: booking, overlaps (409 naming the other visit), rescheduling, status, confirmation attempts,
the day's schedule from the index (order, filters, masking, the driver's reduced view), the audit trail,
the patient profile's visit history, and a real worker bringing each change to the index."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from indexing import names, sync
from indexing.client import get_client
from storage.audit.models import AuditEvent
from storage.db import unit_of_work
from tests.fixtures import wait_until
from tests.storage.visits.helpers import DAY, at, make_car, make_patient

VISITS = "/api/v1/visits"
PHONE = "21998765432"


@pytest.fixture
def operator(make_account):
    return make_account("operator")


@pytest.fixture
def world(committed):
    """Two cars (CARRO 1 capacity 2, CARRO 10) and three patients, committed."""
    with unit_of_work() as session:
        car1 = make_car(session, label="CARRO 1", capacity=2).id
        car10 = make_car(session, label="CARRO 10", base="AV CENTER 2").id
        patients = [
            make_patient(session, name="Heloísa Gonçalves", phones=[PHONE], email="heloisa@example.com.br",
                         health_plan={"code": "67", "name": "BRADESCO SAÚDE", "card_number": "12345678901"}).id,
            make_patient(session, name="Walter Lima").id,
            make_patient(session, name="Ruth Souza").id,
        ]
    return {"car1": car1, "car10": car10, "patients": patients}


def body(world, patient: int = 0, car: str = "car1", start: str = "07:20", end: str = "08:00", day: date = DAY, **extra):
    return {"patient_id": world["patients"][patient], "car_id": world[car], "start": at(start, day).isoformat(),
            "end": at(end, day).isoformat(), **extra}


def drain() -> None:
    assert sync.drain().failed_entities == 0
    for index in ("visits", "patients"):
        get_client().indices.refresh(index=names.alias(index))


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def audit_rows() -> list[tuple]:
    with unit_of_work() as session:
        return [(e.action, e.entity_type, e.entity_id, e.details)
                for e in session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "patient")
                                         .order_by(AuditEvent.id))]


def test_booking_returns_the_visit_with_warnings_and_get_adds_nothing_but_an_audit_row(api_client, operator, world):
    response = api_client.post(VISITS, json=body(world, exam_codes=["1009"], exam_names=["VITAMINA D"],
                                                 notes="portão azul", reason="encaixe"),
                               headers=operator.headers)
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["warnings"] == []
    assert (visit["date"], visit["start"], visit["end"], visit["status"], visit["row_version"]) == (
        "2025-06-18", "2025-06-18T07:20:00-03:00", "2025-06-18T08:00:00-03:00", "scheduled", 1)
    assert visit["patient"]["phones"] == [{"number": PHONE, "kind": "mobile"}]
    assert visit["patient"]["email"] == "heloisa@example.com.br"
    assert visit["car"] == {"id": world["car1"], "label": "CARRO 1", "base": "AV CENTER 1"}
    assert visit["payers"] == [{"code": "67", "name": "BRADESCO SAÚDE", "card_number": "12345678901"}]
    assert visit["exams"] == {"codes": ["1009"], "names": ["VITAMINA D"], "total": 1}
    assert visit["confirmation"] == {"status": "pending", "channel": None, "confirmed_at": None, "attempts": 0,
                                     "last_attempt": None}
    assert (visit["source_ids"], visit["missing_from_latest_export"], visit["confirmation_attempts"]) == ([], False, [])
    assert [(h["kind"], h["to_status"], h["new_car_id"], h["actor_id"], h["reason"]) for h in visit["history"]] == [
        ("created", "scheduled", world["car1"], operator.id, "encaixe")]

    fetched = api_client.get(f"{VISITS}/{visit['id']}", headers=operator.headers).json()
    assert fetched == {**visit, "warnings": []}
    assert audit_rows()[-2:] == [
        ("patient.update", "patient", world["patients"][0], {"visit_id": visit["id"], "change": "visit.create"}),
        ("patient.read", "patient", world["patients"][0], {"visit_id": visit["id"]}),
    ]


def test_overlapping_bookings_are_409_naming_the_other_visit(api_client, operator, world):
    first = api_client.post(VISITS, json=body(world), headers=operator.headers).json()

    car = error_of(api_client.post(VISITS, json=body(world, patient=1, start="07:40", end="08:20"),
                                   headers=operator.headers), 409)
    assert car == {"code": "visit_overlap_car", "details": {"visit_id": first["id"]},
                   "message": "O CARRO 1 (AV CENTER 1) já tem uma visita das 07:20 às 08:00 de 18/06/2025 nesse horário."}
    patient = error_of(api_client.post(VISITS, json=body(world, car="car10", start="06:40", end="07:40"),
                                       headers=operator.headers), 409)
    assert (patient["code"], patient["details"]) == ("visit_overlap_patient", {"visit_id": first["id"]})

    # Adjacent slots are fine, and the third visit of CARRO 1 that day is over its capacity of 2: a warning.
    assert api_client.post(VISITS, json=body(world, patient=1, start="08:00", end="08:40"),
                           headers=operator.headers).status_code == 201
    third = api_client.post(VISITS, json=body(world, patient=2, start="06:40", end="07:20"), headers=operator.headers)
    assert third.status_code == 201
    assert third.json()["warnings"] == [{
        "code": "car_over_capacity",
        "message": "O CARRO 1 (AV CENTER 1) tem 3 visitas em 18/06/2025, acima da capacidade diária de 2.",
    }]


def test_bad_bookings_are_422_and_unknown_references_404(api_client, operator, world):
    missing = error_of(api_client.post(VISITS, json={"patient_id": world["patients"][0]}, headers=operator.headers), 422)
    assert sorted(d["field"] for d in missing["details"]) == ["body.car_id", "body.end", "body.start"]
    extra = error_of(api_client.post(VISITS, json=body(world, shoe=42), headers=operator.headers), 422)
    assert [d["field"] for d in extra["details"]] == ["body.shoe"]
    backwards = error_of(api_client.post(VISITS, json=body(world, start="08:00", end="07:20"), headers=operator.headers), 422)
    assert (backwards["code"], backwards["details"]) == ("invalid_time_range", {"field": "end"})
    assert error_of(api_client.post(VISITS, json={**body(world), "car_id": "nope"}, headers=operator.headers),
                    404)["code"] == "car_not_found"
    assert error_of(api_client.post(VISITS, json={**body(world), "patient_id": "nope"}, headers=operator.headers),
                    404)["code"] == "patient_not_found"
    for response in (
        api_client.get(f"{VISITS}/nope", headers=operator.headers),
        api_client.patch(f"{VISITS}/nope", json={"status": "cancelled"}, headers=operator.headers),
        api_client.post(f"{VISITS}/nope/confirmation-attempts", json={"channel": "sms", "outcome": "confirmed"},
                        headers=operator.headers),
    ):
        assert error_of(response, 404)["code"] == "visit_not_found"
    assert error_of(api_client.get(VISITS, params={"date": "18/06/2025"}, headers=operator.headers),
                    422)["code"] == "validation_error"
    assert error_of(api_client.get(VISITS, params={"date": "2025-06-18", "status": "done"}, headers=operator.headers),
                    422)["code"] == "validation_error"


def test_patch_reschedules_changes_status_and_refuses_forbidden_moves(api_client, operator, world):
    visit = api_client.post(VISITS, json=body(world), headers=operator.headers).json()
    url = f"{VISITS}/{visit['id']}"

    # api.md's `car` is accepted for `car_id`; a new start alone keeps the duration.
    moved = api_client.patch(url, json={"car": world["car10"], "start": at("10:00").isoformat(), "reason": "pedido"},
                             headers=operator.headers)
    assert moved.status_code == 200, moved.text
    moved = moved.json()
    assert (moved["car"]["label"], moved["start"], moved["end"], moved["warnings"], moved["row_version"]) == (
        "CARRO 10", "2025-06-18T10:00:00-03:00", "2025-06-18T10:40:00-03:00", [], 2)
    assert [(h["kind"], h["old_car_id"], h["new_car_id"], h["reason"]) for h in moved["history"]][-1] == (
        "rescheduled", world["car1"], world["car10"], "pedido")

    collected = api_client.patch(url, json={"status": "collected"}, headers=operator.headers).json()
    assert collected["status"] == "collected"
    error = error_of(api_client.patch(url, json={"status": "cancelled"}, headers=operator.headers), 409)
    assert error == {"code": "visit_status_transition", "message": "Uma visita coletada não pode passar a cancelada.",
                     "details": {"visit_id": visit["id"], "status": "collected"}}
    assert error_of(api_client.patch(url, json={"start": at("11:00").isoformat()}, headers=operator.headers),
                    409)["code"] == "visit_not_scheduled"
    # Back to scheduled (a mistaken mark) and, in the same request, to a new slot.
    back = api_client.patch(url, json={"status": "scheduled", "start": at("11:20").isoformat(), "reason": "engano"},
                            headers=operator.headers).json()
    assert (back["status"], back["start"]) == ("scheduled", "2025-06-18T11:20:00-03:00")
    assert [(h["kind"], h["from_status"], h["to_status"]) for h in back["history"]] == [
        ("created", None, "scheduled"), ("rescheduled", "scheduled", "scheduled"), ("status", "scheduled", "collected"),
        ("status", "collected", "scheduled"), ("rescheduled", "scheduled", "scheduled"),
    ]
    cancelled = api_client.patch(url, json={"status": "cancelled", "reason": "paciente viajou"},
                                 headers=operator.headers).json()
    assert (cancelled["status"], cancelled["history"][-1]["reason"]) == ("cancelled", "paciente viajou")

    other = api_client.post(VISITS, json=body(world, patient=1, car="car10", start="11:20", end="12:00"),
                            headers=operator.headers).json()
    error = error_of(api_client.patch(url, json={"status": "scheduled"}, headers=operator.headers), 409)
    assert (error["code"], error["details"]) == ("visit_overlap_car", {"visit_id": other["id"]})
    assert error_of(api_client.patch(url, json={"car_id": None}, headers=operator.headers), 422)["code"] == "missing_value"
    updates = [row[3]["fields"] for row in audit_rows() if row[3].get("change") == "visit.update"]
    assert updates == [["car_id", "start"], ["status"], ["status", "start"], ["status"]]


def test_confirmation_attempts_update_the_visit_and_show_on_the_patient_profile(api_client, operator, world):
    visit = api_client.post(VISITS, json=body(world), headers=operator.headers).json()
    url = f"{VISITS}/{visit['id']}/confirmation-attempts"

    first = api_client.post(url, json={"channel": "phone", "outcome": "no_answer", "notes": "caixa postal"},
                            headers=operator.headers)
    assert first.status_code == 201, first.text
    assert {k: first.json()[k] for k in ("visit_id", "channel", "outcome", "notes", "actor_id", "source")} == {
        "visit_id": visit["id"], "channel": "phone", "outcome": "no_answer", "notes": "caixa postal",
        "actor_id": operator.id, "source": "staff"}
    second = api_client.post(url, json={"channel": "whatsapp", "outcome": "confirmed"}, headers=operator.headers).json()

    fetched = api_client.get(f"{VISITS}/{visit['id']}", headers=operator.headers).json()
    assert fetched["confirmation"] == {
        "status": "confirmed", "channel": "whatsapp", "confirmed_at": second["at"], "attempts": 2,
        "last_attempt": {"at": second["at"], "channel": "whatsapp", "outcome": "confirmed"},
    }
    assert [a["outcome"] for a in fetched["confirmation_attempts"]] == ["no_answer", "confirmed"]
    assert error_of(api_client.post(url, json={"channel": "pombo", "outcome": "confirmed"}, headers=operator.headers),
                    422)["code"] == "validation_error"

    profile = api_client.get(f"/api/v1/patients/{world['patients'][0]}", headers=operator.headers).json()
    assert [(v["id"], v["car"], v["status"], v["confirmation_status"], v["start"]) for v in profile["visits"]] == [
        (visit["id"], "CARRO 1", "scheduled", "confirmed", "2025-06-18T07:20:00-03:00")]
    assert [(a["channel"], a["outcome"], a["notes"]) for a in profile["visits"][0]["confirmation_attempts"]] == [
        ("phone", "no_answer", "caixa postal"), ("whatsapp", "confirmed", None)]
    assert profile["name"] == "Heloísa Gonçalves"


def test_the_schedule_from_the_index_by_car_and_time_with_filters_and_masking(api_client, operator, make_account, world):
    ids = {}
    for key, patient, car, start, end in [
        ("c10", 0, "car10", "06:40", "07:20"), ("c1-late", 1, "car1", "08:00", "08:40"),
        ("c1-early", 2, "car1", "06:40", "07:20"), ("c1-cancelled", 0, "car1", "10:00", "10:40"),
    ]:
        ids[key] = api_client.post(VISITS, json=body(world, patient=patient, car=car, start=start, end=end,
                                                     exam_codes=["1009"], notes=f"nota {key}"),
                                   headers=operator.headers).json()["id"]
    api_client.patch(f"{VISITS}/{ids['c1-cancelled']}", json={"status": "cancelled"}, headers=operator.headers)
    api_client.post(f"{VISITS}/{ids['c10']}/confirmation-attempts", json={"channel": "sms", "outcome": "declined"},
                    headers=operator.headers)
    api_client.post(VISITS, json=body(world, patient=1, day=date(2025, 6, 19)), headers=operator.headers)
    drain()
    key_of = {v: k for k, v in ids.items()}

    day = api_client.get(VISITS, params={"date": "2025-06-18"}, headers=operator.headers).json()
    assert (day["date"], day["total"]) == ("2025-06-18", 4)
    assert [(c["car"], [key_of[v["id"]] for v in c["visits"]]) for c in day["cars"]] == [
        ("CARRO 1", ["c1-early", "c1-late", "c1-cancelled"]), ("CARRO 10", ["c10"])]
    c10 = day["cars"][1]["visits"][0]
    assert c10["patient"]["name"] == "Heloísa Gonçalves"
    assert c10["patient"]["phones"] == [{"number": PHONE, "kind": "mobile"}]
    assert c10["payers"] == [{"code": "67", "name": "BRADESCO SAÚDE", "card_number": "12345678901"}]
    assert (c10["notes"], c10["exams"]["codes"], c10["address"]["street"], c10["address"]["city"]) == (
        "nota c10", ["1009"], "Rua das Flores", "São Paulo")
    assert (c10["confirmation"]["status"], c10["confirmation"]["attempts"], c10["confirmation"]["last_attempt"]["outcome"]) == (
        "declined", 1, "declined")
    assert (c10["source_ids"], c10["missing_from_latest_export"], c10["status"]) == ([], False, "scheduled")

    filtered = api_client.get(VISITS, params={"date": "2025-06-18", "car": ["CARRO 10", world["car1"]],
                                              "status": "cancelled"}, headers=operator.headers).json()
    assert [(c["car"], [key_of[v["id"]] for v in c["visits"]]) for c in filtered["cars"]] == [
        ("CARRO 1", ["c1-cancelled"])]
    only10 = api_client.get(VISITS, params={"date": "2025-06-18", "car": "carro 10"}, headers=operator.headers).json()
    assert [c["car"] for c in only10["cars"]] == ["CARRO 10"]

    viewer = api_client.get(VISITS, params={"date": "2025-06-18", "car": "CARRO 10"},
                            headers=make_account("viewer").headers).json()
    masked = viewer["cars"][0]["visits"][0]
    assert (masked["patient"]["phones"], masked["patient"]["email"], masked["payers"][0]["card_number"]) == (
        [{"number": "(21) *****-5432", "kind": "mobile"}], "h***@example.com.br", "*******8901")
    today = api_client.get(VISITS, headers=operator.headers).json()
    assert today["date"] == datetime.now(ZoneInfo("America/Sao_Paulo")).date().isoformat()


def test_a_driver_sees_only_their_cars_day_without_payers(api_client, operator, make_account, world):
    for patient, car, start, end in [(0, "car1", "06:40", "07:20"), (1, "car10", "06:40", "07:20"),
                                     (2, "car1", "07:20", "08:00")]:
        api_client.post(VISITS, json=body(world, patient=patient, car=car, start=start, end=end, notes="cão bravo"),
                        headers=operator.headers)
    drain()
    driver = make_account("driver", car_id=world["car1"])

    response = api_client.get(VISITS, params={"date": "2025-06-18", "car": "CARRO 10"}, headers=driver.headers)
    assert response.status_code == 200, response.text
    mine = response.json()
    assert (mine["total"], [c["car"] for c in mine["cars"]]) == (2, ["CARRO 1"])
    first = mine["cars"][0]["visits"][0]
    assert set(first) == {"id", "start", "end", "status", "patient", "address", "exams", "notes"}
    assert first["patient"] == {"name": "Heloísa Gonçalves", "phones": [{"number": PHONE, "kind": "mobile"}]}
    assert (first["start"], first["notes"]) == ("2025-06-18T06:40:00-03:00", "cão bravo")
    assert "12345678901" not in response.text

    carless = make_account("driver")
    assert api_client.get(VISITS, params={"date": "2025-06-18"}, headers=carless.headers).json() == {
        "date": "2025-06-18", "total": 0, "cars": []}
    visit_id = first["id"]
    assert error_of(api_client.get(f"{VISITS}/{visit_id}", headers=driver.headers), 403)["code"] == "forbidden"
    assert error_of(api_client.post(VISITS, json=body(world), headers=driver.headers), 403)["code"] == "forbidden"


def test_a_real_worker_brings_each_change_to_the_schedule_and_the_patient_index(api_client, operator, world,
                                                                                celery_worker):
    def listed(**params) -> list[tuple]:
        get_client().indices.refresh(index=names.alias("visits"))
        page = api_client.get(VISITS, params={"date": "2025-06-18", **params}, headers=operator.headers).json()
        return [(v["status"], v["start"], v["confirmation"]["status"], c["car"]) for c in page["cars"] for v in c["visits"]]

    def patient_document() -> dict:
        get_client().indices.refresh(index=names.alias("patients"))
        return get_client().get(index=names.alias("patients"), id=world["patients"][0])["_source"]

    visit = api_client.post(VISITS, json=body(world), headers=operator.headers).json()
    assert wait_until(lambda: listed() == [("scheduled", "2025-06-18T07:20:00-03:00", "pending", "CARRO 1")])

    api_client.post(f"{VISITS}/{visit['id']}/confirmation-attempts", json={"channel": "whatsapp", "outcome": "confirmed"},
                    headers=operator.headers)
    assert wait_until(lambda: listed() == [("scheduled", "2025-06-18T07:20:00-03:00", "confirmed", "CARRO 1")])
    assert wait_until(lambda: patient_document()["confirmation_rate"] == 1.0)
    assert patient_document()["confirmation_channels"] == ["whatsapp"]

    api_client.patch(f"{VISITS}/{visit['id']}", json={"car_id": world["car10"], "start": at("09:00").isoformat()},
                     headers=operator.headers)
    assert wait_until(lambda: listed() == [("scheduled", "2025-06-18T09:00:00-03:00", "pending", "CARRO 10")])

    api_client.patch(f"{VISITS}/{visit['id']}", json={"status": "no_show"}, headers=operator.headers)
    assert wait_until(lambda: listed(status="no_show") == [("no_show", "2025-06-18T09:00:00-03:00", "pending", "CARRO 10")])
    assert wait_until(lambda: patient_document()["cars"] == ["CARRO 10"])
