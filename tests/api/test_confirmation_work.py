"""Working the confirmations: the queue of a day's open visits, the day's message log, the exact text of a
message before sending it, and the daily reminder as it will run (the same rule as the reminder itself)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.messages import service
from storage.messages.models import Message
from storage.patients.models import Patient
from storage.visits import confirmations
from tests.storage.messages.helpers import LOCAL_TZ, at, make_patient, make_visit, tomorrow
from messaging.reminder import next_reminder

QUEUE = "/api/v1/confirmations/queue"
MESSAGES = "/api/v1/messages"


@pytest.fixture
def operator(make_account):
    return make_account("operator", name="Olga")


@pytest.fixture
def day_world(committed, operator):
    """Tomorrow: Ana (pending, 2 attempts, a message), Bia (declined, other unit), Caio (confirmed), a cancelled
    visit, one dropped by the export; Duda opted out and Edu with a landline only (both pending)."""
    day = tomorrow()
    with unit_of_work() as session:
        car1 = car_service.create(session, {"label": "CARRO 1", "base": "AV CENTER 1"})
        car2 = car_service.create(session, {"label": "CARRO 2", "base": "AV CENTER 2"})
        ana = make_patient(session, name="Ana Lima", phones=["(11) 98765-4321", "(11) 3456-7890"],
                           preferred_channel="whatsapp", preferred_contact_time="manhã")
        bia = make_patient(session, name="Bia Souza", phones=["(11) 97777-1111"])
        caio = make_patient(session, name="Caio Dias", phones=["(11) 96666-2222"])
        duda = make_patient(session, name="Duda Reis", phones=["(11) 95555-3333"])
        edu = make_patient(session, name="Edu Melo", phones=["(11) 3333-4444"])
        visits = {
            "ana": make_visit(session, ana, at(day, 7, 20), car_id=car2.id, unit_code="248"),
            "bia": make_visit(session, bia, at(day, 7, 20), car_id=car1.id, unit_code="379",
                              confirmation_status="declined"),
            "caio": make_visit(session, caio, at(day, 6, 40), car_id=car1.id, unit_code="248",
                               confirmation_status="confirmed"),
            "cancelled": make_visit(session, caio, at(day, 9), car_id=car1.id, status="cancelled"),
            "dropped": make_visit(session, caio, at(day, 10), car_id=car1.id, missing_from_latest_export=True),
            "duda": make_visit(session, duda, at(day, 8), car_id=car1.id, unit_code="248"),
            "edu": make_visit(session, edu, at(day, 9, 40), car_id=None, unit_code="248"),
        }
        session.get(Patient, duda.id).opted_out_at = func.now()
        confirmations.record_attempt(session, visits["ana"].id, channel="phone", outcome="no_answer",
                                     actor_id=None)
        confirmations.record_attempt(session, visits["ana"].id, channel="phone", outcome="no_answer",
                                     actor_id=operator.id, notes="caixa postal")
        message = service.request(session, template="confirmation_request", channel="whatsapp",
                                  visit_id=visits["ana"].id, actor_id=operator.id)
        return {"day": day, "visits": {k: v.id for k, v in visits.items()}, "message": message.id,
                "patients": {"ana": ana.id}, "cars": {"1": car1.id, "2": car2.id}}


def test_the_queue_lists_the_open_visits_by_start_then_car_with_phones_attempts_and_last_message(
        api_client, operator, day_world):
    v = day_world["visits"]
    response = api_client.get(QUEUE, headers=operator.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["date"], body["total"], body["next_cursor"]) == (day_world["day"].isoformat(), 4, None)
    # 07:20 in CARRO 1 (Bia) before 07:20 in CARRO 2 (Ana); no car sorts as an empty label.
    assert [i["visit_id"] for i in body["items"]] == [v["bia"], v["ana"], v["duda"], v["edu"]]
    ana = body["items"][1]
    assert ana["car"] == {"id": day_world["cars"]["2"], "label": "CARRO 2", "base": "AV CENTER 2"}
    assert datetime.fromisoformat(ana["start"]) == at(day_world["day"], 7, 20)
    assert ana["start"].endswith("-03:00")
    assert ana["patient"] == {
        "id": day_world["patients"]["ana"], "name": "Ana Lima",
        "phones": [{"number": "11987654321", "kind": "mobile"}, {"number": "1134567890", "kind": "landline"}],
        "preferred_channel": "whatsapp", "preferred_contact_time": "manhã", "opted_out": False,
    }
    assert ana["confirmation"]["status"] == "pending" and ana["confirmation"]["attempts"] == 2
    last = ana["confirmation"]["last_attempt"]
    assert (last["channel"], last["outcome"], last["actor_id"], last["actor_name"]) == (
        "phone", "no_answer", operator.id, "Olga")
    assert {k: ana["last_message"][k] for k in ("id", "template", "channel", "status")} == {
        "id": day_world["message"], "template": "confirmation_request", "channel": "whatsapp", "status": "queued"}
    assert body["items"][2]["patient"]["opted_out"] is True
    assert (body["items"][3]["car"], body["items"][3]["last_message"]) == (None, None)


def test_the_queue_filters_by_status_and_unit_and_pages(api_client, operator, day_world):
    v = day_world["visits"]
    declined = api_client.get(QUEUE, params={"status": "declined"}, headers=operator.headers).json()
    assert ([i["visit_id"] for i in declined["items"]], declined["total"]) == ([v["bia"]], 1)
    unit = api_client.get(QUEUE, params={"unit": "248", "limit": 2}, headers=operator.headers).json()
    assert ([i["visit_id"] for i in unit["items"]], unit["total"]) == ([v["ana"], v["duda"]], 3)
    rest = api_client.get(QUEUE, params={"unit": "248", "limit": 2, "cursor": unit["next_cursor"]},
                          headers=operator.headers).json()
    assert ([i["visit_id"] for i in rest["items"]], rest["next_cursor"]) == ([v["edu"]], None)
    confirmed = api_client.get(QUEUE, params={"status": "confirmed"}, headers=operator.headers).json()
    assert [i["visit_id"] for i in confirmed["items"]] == [v["caio"]]
    other_day = api_client.get(QUEUE, params={"date": "2025-06-20"}, headers=operator.headers).json()
    assert (other_day["total"], other_day["items"]) == (0, [])
    bad = api_client.get(QUEUE, params={"cursor": "eyJ4IjoxfQ"}, headers=operator.headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_cursor")


def test_the_day_s_message_log_filters_by_day_status_and_channel(api_client, operator, day_world, make_account):
    v = day_world["visits"]
    with unit_of_work() as session:
        sms = service.request(session, template="reminder", channel="sms", visit_id=v["bia"], actor_id=None).id
        service.mark_failed(session, sms, "provider:30003")
        later = make_patient(session, phones=["(11) 94444-5555"])
        elsewhere = service.request(session, template="reminder", channel="sms", actor_id=None,
                                    visit_id=make_visit(session, later, at(day_world["day"] + timedelta(days=3), 8)).id).id
    day = day_world["day"].isoformat()
    everything = api_client.get(MESSAGES, params={"date": day}, headers=operator.headers).json()
    assert [m["id"] for m in everything["items"]] == [sms, day_world["message"]]
    failed = api_client.get(MESSAGES, params={"date": day, "status": "failed"}, headers=operator.headers).json()
    assert [(m["id"], m["last_error"]) for m in failed["items"]] == [(sms, "provider:30003")]
    whatsapp = api_client.get(MESSAGES, params={"date": day, "channel": "whatsapp"}, headers=operator.headers)
    assert [m["id"] for m in whatsapp.json()["items"]] == [day_world["message"]]
    unfiltered = api_client.get(MESSAGES, headers=make_account("viewer").headers).json()
    assert [m["id"] for m in unfiltered["items"]] == [elsewhere, sms, day_world["message"]]
    assert unfiltered["items"][0]["to_phone"] != "+5511944445555"  # masked for viewers


def test_the_preview_is_the_exact_text_sending_would_queue_and_stores_nothing(api_client, operator, day_world):
    v = day_world["visits"]
    body = {"visit_id": v["ana"], "template": "confirmation_request", "channel": "sms"}
    preview = api_client.post(f"{MESSAGES}/preview", json=body, headers=operator.headers)
    assert preview.status_code == 200
    with unit_of_work() as session:
        before = session.scalar(select(func.count()).select_from(Message))
    sent = api_client.post(MESSAGES, json=body, headers=operator.headers).json()
    shown = preview.json()
    assert (shown["body"], shown["to_phone"], shown["channel"], shown["visit_id"], shown["patient_id"]) == (
        sent["body"], sent["to_phone"], "sms", v["ana"], day_world["patients"]["ana"])
    # 'Olá' is outside GSM 03.38: UCS-2, 70 characters per single SMS, 67 per part.
    assert len(shown["body"]) == 178 and shown["segments"] == 3
    whatsapp = api_client.post(f"{MESSAGES}/preview", json={**body, "channel": "whatsapp"}, headers=operator.headers)
    assert whatsapp.json()["segments"] == 1
    with unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == before + 1  # only the real send

    opted = api_client.post(f"{MESSAGES}/preview", json={**body, "visit_id": v["duda"]}, headers=operator.headers)
    assert (opted.status_code, opted.json()["error"]["code"]) == (409, "patient_opted_out")
    landline = api_client.post(f"{MESSAGES}/preview", json={**body, "visit_id": v["edu"]}, headers=operator.headers)
    assert (landline.status_code, landline.json()["error"]["code"]) == (422, "no_mobile_phone")
    cancelled = api_client.post(f"{MESSAGES}/preview", json={**body, "visit_id": v["cancelled"]},
                                headers=operator.headers)
    assert (cancelled.status_code, cancelled.json()["error"]["code"]) == (409, "visit_cancelled")


def test_the_reminder_panel_shows_what_the_reminder_will_do_by_its_own_rule(api_client, operator, day_world):
    v, day = day_world["visits"], day_world["day"]
    status = api_client.get(f"{MESSAGES}/reminder", params={"date": day.isoformat()}, headers=operator.headers).json()
    assert {k: status[k] for k in ("enabled", "target_date", "template", "channel", "recipients", "excluded")} == {
        "enabled": True, "target_date": day.isoformat(), "template": "confirmation_request", "channel": "whatsapp",
        "recipients": 1,
        "excluded": {"confirmed": 1, "declined": 1, "already_sent": 0, "opted_out": 1, "no_mobile_phone": 1,
                     "invalid": 0},
    }
    recipients = api_client.get(f"{MESSAGES}/reminder/recipients", params={"date": day.isoformat()},
                                headers=operator.headers).json()
    assert recipients["items"] == [{
        "visit_id": v["ana"], "patient_id": day_world["patients"]["ana"], "patient_name": "Ana Lima",
        "to_phone": "+5511987654321", "channel": "whatsapp",
        "start": at(day, 7, 20).isoformat(),
        "car": {"id": day_world["cars"]["2"], "label": "CARRO 2", "base": "AV CENTER 2"},
    }]

    # The reminder runs and does exactly that; afterwards the panel counts it as sent.
    with unit_of_work() as session:
        run = service.request_reminders(session, day)
    with unit_of_work() as session:
        reminded = [session.get(Message, i).visit_id for i in run.message_ids]
    assert reminded == [i["visit_id"] for i in recipients["items"]]
    after = api_client.get(f"{MESSAGES}/reminder", params={"date": day.isoformat()}, headers=operator.headers).json()
    assert (after["recipients"], after["excluded"]["already_sent"]) == (0, 1)


def test_the_recipients_come_in_start_order_a_page_at_a_time(api_client, operator, day_world):
    day = day_world["day"]
    with unit_of_work() as session:
        early = make_visit(session, make_patient(session, name="Fabi Luz", phones=["(11) 91111-2222"]), at(day, 6)).id
    params = {"date": day.isoformat(), "limit": 1}
    first = api_client.get(f"{MESSAGES}/reminder/recipients", params=params, headers=operator.headers).json()
    assert [(r["visit_id"], r["patient_name"], r["car"]) for r in first["items"]] == [(early, "Fabi Luz", None)]
    second = api_client.get(f"{MESSAGES}/reminder/recipients", params={**params, "cursor": first["next_cursor"]},
                            headers=operator.headers).json()
    assert ([r["visit_id"] for r in second["items"]], second["next_cursor"]) == ([day_world["visits"]["ana"]], None)
    bad = api_client.get(f"{MESSAGES}/reminder/recipients", params={**params, "cursor": "WzFd"},
                         headers=operator.headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_cursor")


def test_the_next_run_is_today_before_the_hour_and_tomorrow_after_it():
    before = datetime(2026, 12, 7, 16, 59, tzinfo=LOCAL_TZ)
    after = datetime(2026, 12, 7, 17, 0, tzinfo=LOCAL_TZ)
    assert next_reminder(before) == (datetime(2026, 12, 7, 17, 0, tzinfo=LOCAL_TZ), before.date() + timedelta(days=1))
    assert next_reminder(after) == (datetime(2026, 12, 8, 17, 0, tzinfo=LOCAL_TZ), before.date() + timedelta(days=2))
