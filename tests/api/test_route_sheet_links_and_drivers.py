"""A route sheet through a short-lived signed link; a driver marks their visits collected or no-show; the
audit trail searched as a whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from api.route_sheet_links import AUDIENCE, KIND
from api.settings import get_settings
from storage.audit.models import AuditEvent
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.users import service as user_service
from storage.visits.models import VisitStatusChange
from tests.storage.messages.helpers import at, make_patient, make_visit, today

CARS = "/api/v1/cars"


@pytest.fixture
def fleet(committed):
    """Two cars; a visit today in each; a driver whose standing car is the first."""
    from tests.fixtures import create_account

    with unit_of_work() as session:
        mine = car_service.create(session, {"label": "CARRO 1", "base": "AV CENTER 1"}).id
        other = car_service.create(session, {"label": "CARRO 2", "base": "AV CENTER 2"}).id
        ana = make_patient(session, name="Ana Lima")
        bia = make_patient(session, name="Bia Souza")
        visit = make_visit(session, ana, at(today(), 7, 20), car_id=mine).id
        elsewhere = make_visit(session, bia, at(today(), 8), car_id=other).id
        cancelled = make_visit(session, bia, at(today(), 10), car_id=mine, status="cancelled").id
    driver = create_account("driver", car_id=mine, name="Davi Motorista")
    return {"mine": mine, "other": other, "visit": visit, "elsewhere": elsewhere, "cancelled": cancelled,
            "driver": driver, "ana": ana.id, "bia": bia.id}


def _link(api_client, account, car_id, **params):
    response = api_client.post(f"{CARS}/{car_id}/route-sheet/link", params=params, headers=account.headers)
    assert response.status_code == 201, response.json()
    return response.json()


def _forge(**claims) -> str:
    base = {"iss": "coleta", "aud": AUDIENCE, "type": KIND, "sub": "x", "ver": 0, "car": "c", "date": "2026-01-01",
            "iat": datetime.now(UTC), "exp": datetime.now(UTC) + timedelta(minutes=5), "jti": "j" * 22}
    return jwt.encode({**base, **claims}, get_settings().secret_key.get_secret_value(), algorithm="HS256")


def test_a_link_opens_the_sheet_without_a_token_and_is_audited_as_its_maker(api_client, fleet, make_account):
    operator = make_account("operator")
    made = _link(api_client, operator, fleet["mine"])
    assert made["url"].startswith("/api/v1/route-sheets/")
    expires = datetime.fromisoformat(made["expires_at"])
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    token = made["url"].rsplit("/", 1)[1]
    assert len(jwt.decode(token, options={"verify_signature": False})["jti"]) >= 22  # 128 random bits

    page = api_client.get(made["url"])  # no Authorization
    assert page.status_code == 200
    assert "Ana Lima" in page.text and "CARRO 1" in page.text
    assert (page.headers["cache-control"], page.headers["referrer-policy"]) == ("no-store", "no-referrer")
    with unit_of_work() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.read")).all()
    # Ana's visit, and Bia's cancelled one (listed so nobody goes there).
    assert sorted((e.actor_id, e.actor_role, e.entity_id, e.details["via"]) for e in events) == sorted([
        (operator.id, "operator", fleet["ana"], "route_sheet_link"), (operator.id, "operator", fleet["bia"], "route_sheet_link")])

    # An access token is not a link, and a link is not an access token.
    assert api_client.get(f"/api/v1/route-sheets/{operator.access_token}").json()["error"]["code"] == "link_not_found"
    refused = api_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_token")


def test_expired_forged_and_voided_links_are_refused(api_client, fleet, make_account):
    operator = make_account("operator")
    expired = _forge(sub=operator.id, car=fleet["mine"], date=today().isoformat(),
                     exp=datetime.now(UTC) - timedelta(seconds=1))
    gone = api_client.get(f"/api/v1/route-sheets/{expired}")
    assert gone.status_code == 410
    assert gone.json()["error"] == {"code": "link_expired", "message": "Este link da folha de rota expirou; gere outro.",
                                    "details": None}
    tampered = jwt.encode(jwt.decode(expired, options={"verify_signature": False}), "outra-chave-" * 4,
                          algorithm="HS256")
    assert api_client.get(f"/api/v1/route-sheets/{tampered}").status_code == 404
    assert api_client.get("/api/v1/route-sheets/abc").json()["error"]["code"] == "link_not_found"
    wrong_kind = _forge(sub=operator.id, car=fleet["mine"], date=today().isoformat(), type="access")
    assert api_client.get(f"/api/v1/route-sheets/{wrong_kind}").status_code == 404

    made = _link(api_client, operator, fleet["mine"])
    with unit_of_work() as session:
        user_service.update(session, operator.id, {"active": False})
    assert api_client.get(made["url"]).json()["error"]["code"] == "link_not_found"


def test_a_driver_links_only_their_car_and_a_changed_team_voids_the_link(api_client, fleet):
    driver = fleet["driver"]
    other = api_client.post(f"{CARS}/{fleet['other']}/route-sheet/link", headers=driver.headers)
    assert (other.status_code, other.json()["error"]["code"]) == (403, "not_your_car")
    made = _link(api_client, driver, fleet["mine"])
    assert api_client.get(made["url"]).status_code == 200
    with unit_of_work() as session:
        user_service.update(session, driver.id, {"car_id": fleet["other"]})
    moved = api_client.get(made["url"])
    assert (moved.status_code, moved.json()["error"]["code"]) == (403, "not_your_car")
    missing = api_client.post(f"{CARS}/00000000-0000-0000-0000-000000000000/route-sheet/link",
                              headers=driver.headers)
    assert missing.status_code == 403  # a driver learns nothing about other cars


def test_a_driver_marks_their_visit_collected_and_history_and_audit_name_them(api_client, fleet):
    driver = fleet["driver"]
    response = api_client.patch(f"/api/v1/visits/{fleet['visit']}", json={"status": "collected", "reason": "ok"},
                                headers=driver.headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["patient"]["name"]) == (fleet["visit"], "collected", "Ana Lima")
    assert "payers" not in body and "history" not in body
    with unit_of_work() as session:
        change = session.scalars(select(VisitStatusChange).where(VisitStatusChange.visit_id == fleet["visit"],
                                                                 VisitStatusChange.kind == "status")).one()
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "patient.update")).one()
    assert (change.from_status, change.to_status, change.actor_id, change.reason) == (
        "scheduled", "collected", driver.id, "ok")
    assert (event.actor_id, event.actor_role, event.details) == (
        driver.id, "driver", {"visit_id": fleet["visit"], "change": "visit.update", "fields": ["status"]})
    # Tapping twice changes nothing; collected → no-show is not a move anyone may make.
    assert api_client.patch(f"/api/v1/visits/{fleet['visit']}", json={"status": "collected"},
                            headers=driver.headers).status_code == 200
    moved = api_client.patch(f"/api/v1/visits/{fleet['visit']}", json={"status": "no_show"}, headers=driver.headers)
    assert (moved.status_code, moved.json()["error"]["code"]) == (409, "visit_status_transition")


@pytest.mark.parametrize(("body", "code"), [
    ({"status": "cancelled"}, "driver_field_forbidden"),
    ({"status": "scheduled"}, "driver_field_forbidden"),
    ({"status": "no_show", "start": "2030-01-01T07:00:00-03:00"}, "driver_field_forbidden"),
    ({"reason": "só o motivo"}, "driver_field_forbidden"),
])
def test_a_driver_may_set_nothing_else(api_client, fleet, body, code):
    response = api_client.patch(f"/api/v1/visits/{fleet['visit']}", json=body, headers=fleet["driver"].headers)
    assert (response.status_code, response.json()["error"]["code"]) == (403, code)


def test_a_driver_may_not_touch_another_car_s_visit_nor_a_cancelled_one(api_client, fleet):
    driver = fleet["driver"]
    other = api_client.patch(f"/api/v1/visits/{fleet['elsewhere']}", json={"status": "no_show"},
                             headers=driver.headers)
    assert (other.status_code, other.json()["error"]["code"]) == (403, "not_your_car")
    cancelled = api_client.patch(f"/api/v1/visits/{fleet['cancelled']}", json={"status": "no_show"},
                                 headers=driver.headers)
    assert (cancelled.status_code, cancelled.json()["error"]["code"]) == (409, "visit_status_transition")


def test_the_audit_trail_is_searched_by_actor_action_entity_and_period(api_client, fleet, make_account):
    admin = make_account("admin", name="Ada Admin")
    operator = make_account("operator", name="Olga")
    api_client.get(f"/api/v1/visits/{fleet['visit']}", headers=operator.headers)
    api_client.patch(f"/api/v1/visits/{fleet['visit']}", json={"status": "no_show"}, headers=fleet["driver"].headers)

    everything = api_client.get("/api/v1/audit", headers=admin.headers).json()
    assert [(e["action"], e["actor_name"]) for e in everything["items"]] == [
        ("patient.update", "Davi Motorista"), ("patient.read", "Olga")]
    reads = api_client.get("/api/v1/audit", params={"action": "patient.read", "actor_id": operator.id},
                           headers=admin.headers).json()
    assert [(e["entity_type"], e["entity_id"]) for e in reads["items"]] == [("patient", fleet["ana"])]
    page = api_client.get("/api/v1/audit", params={"entity_type": "patient", "entity_id": fleet["ana"], "limit": 1},
                          headers=admin.headers).json()
    rest = api_client.get("/api/v1/audit", params={"entity_type": "patient", "entity_id": fleet["ana"],
                                                   "cursor": page["next_cursor"]}, headers=admin.headers).json()
    assert [e["action"] for e in page["items"] + rest["items"]] == ["patient.update", "patient.read"]
    day = today()
    assert len(api_client.get("/api/v1/audit", params={"from": day.isoformat(), "to": day.isoformat()},
                              headers=admin.headers).json()["items"]) == 2
    assert api_client.get("/api/v1/audit", params={"to": (day - timedelta(days=1)).isoformat()},
                          headers=admin.headers).json()["items"] == []
    backwards = api_client.get("/api/v1/audit", params={"from": day.isoformat(),
                                                        "to": (day - timedelta(days=1)).isoformat()},
                               headers=admin.headers)
    assert (backwards.status_code, backwards.json()["error"]["code"]) == (422, "invalid_range")
    far = api_client.get("/api/v1/audit", params={"from": "0001-01-01", "to": "9999-12-31"}, headers=admin.headers)
    assert len(far.json()["items"]) == 2
    assert api_client.get("/api/v1/audit", headers=operator.headers).status_code == 403


def test_the_trail_shows_what_the_system_and_the_command_line_did(api_client, make_account):
    from storage.audit import service as audit_service

    admin = make_account("admin")
    with unit_of_work() as session:
        user_service.create(session, {"email": "cli@coleta.local", "name": "Pela Linha", "role": "viewer",
                                      "password": "senha-da-linha-123"},
                            actor=audit_service.Actor(user_id=None, role="system", user_agent="cli"))
    response = api_client.get("/api/v1/audit", params={"action": "user.create"}, headers=admin.headers)
    assert response.status_code == 200, response.text
    created = [e for e in response.json()["items"] if e["actor_id"] is None]
    assert [(e["actor_role"], e["actor_name"], e["user_agent"]) for e in created] == [("system", None, "cli")]
