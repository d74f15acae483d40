"""Message routes: request a message (202), the message log (masked for viewers), the profile's messages,
and one message end to end: API → real worker → Twilio stand-in → signed status webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from storage.audit.models import AuditEvent
from storage.db import unit_of_work
from storage.messages import service
from storage.messages.models import Message
from tests.fixtures import wait_until
from tests.standins import twilio as twilio_fake
from tests.standins.fixtures import configure_messaging, twilio_standin, whatsapp_standin  # noqa: F401
from tests.storage.messages.helpers import at, make_patient, make_visit, tomorrow

MESSAGES = "/api/v1/messages"


@pytest.fixture
def operator(make_account):
    return make_account("operator")


def _patient_and_visit(phones=("(11) 98765-4321",), name="Maria Souza", hour=7):
    with unit_of_work() as session:
        patient = make_patient(session, name=name, phones=list(phones))
        visit = make_visit(session, patient, at(tomorrow(), hour, 20))
        return patient.id, visit.id


def _error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_an_operator_requests_a_message_and_gets_it_queued(api_client, operator):
    patient_id, visit_id = _patient_and_visit()

    response = api_client.post(MESSAGES, json={"visit_id": visit_id, "template": "confirmation_request",
                                               "channel": "whatsapp"}, headers=operator.headers)

    assert response.status_code == 202
    body = response.json()
    day = tomorrow().strftime("%d/%m")
    assert {k: body[k] for k in ("patient_id", "visit_id", "channel", "template", "to_phone", "status", "attempts",
                                 "reason", "actor_id", "provider", "provider_message_id", "last_error", "sent_at")} == {
        "patient_id": patient_id, "visit_id": visit_id, "channel": "whatsapp", "template": "confirmation_request",
        "to_phone": "+5511987654321", "status": "queued", "attempts": 0, "reason": "manual",
        "actor_id": operator.id, "provider": None, "provider_message_id": None, "last_error": None, "sent_at": None,
    }
    assert body["body"] == (
        f"Olá, Maria! Sua coleta domiciliar está agendada para {day} às 07:20, em Rua das Flores, 123. "
        "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens.")
    with unit_of_work() as session:
        assert session.get(Message, body["id"]).status == "queued"


def test_a_message_to_a_patient_names_their_next_visit(api_client, operator):
    patient_id, visit_id = _patient_and_visit()
    response = api_client.post(MESSAGES, json={"patient_id": patient_id, "template": "preparation", "channel": "sms"},
                               headers=operator.headers)
    assert response.status_code == 202
    assert (response.json()["visit_id"], response.json()["template"]) == (visit_id, "preparation")
    assert "jejum de 8 horas" in response.json()["body"]


def test_what_cannot_be_sent_is_refused(api_client, operator):
    patient_id, visit_id = _patient_and_visit()
    landline_patient, landline_visit = _patient_and_visit(phones=("(11) 3456-7890",))

    def post(**body):
        return api_client.post(MESSAGES, json={"template": "reminder", "channel": "sms", **body},
                               headers=operator.headers)

    _error(post(visit_id=landline_visit), 422, "no_mobile_phone")
    _error(post(visit_id=visit_id, patient_id=landline_patient), 422, "visit_patient_mismatch")
    _error(post(visit_id="00000000-0000-0000-0000-000000000000"), 404, "visit_not_found")
    _error(post(), 422, "validation_error")
    _error(post(visit_id=visit_id, template="promocao"), 422, "validation_error")
    _error(post(visit_id=visit_id, channel="email"), 422, "validation_error")
    with unit_of_work() as session:
        service.opt_out(session, patient_id, channel="sms")
    refused = post(visit_id=visit_id)
    _error(refused, 409, "patient_opted_out")
    assert refused.json()["error"]["message"] == "O paciente pediu para não receber mensagens."
    with unit_of_work() as session:
        assert session.scalars(select(Message)).all() == []


def test_the_message_log_is_newest_first_paged_audited_and_masked_for_viewers(api_client, operator, make_account):
    patient_id, visit_id = _patient_and_visit()
    with unit_of_work() as session:
        ids = [service.request(session, template=t, channel="sms", visit_id=visit_id, actor_id=operator.id).id
               for t in ("confirmation_request", "reminder", "preparation")]
    viewer = make_account("viewer")

    page = api_client.get(MESSAGES, params={"patient_id": patient_id, "limit": 2}, headers=operator.headers).json()
    assert [m["id"] for m in page["items"]] == ids[::-1][:2]
    assert page["items"][0]["to_phone"] == "+5511987654321"
    assert isinstance(page["next_cursor"], str)
    rest = api_client.get(MESSAGES, params={"patient_id": patient_id, "cursor": page["next_cursor"]},
                          headers=operator.headers).json()
    assert ([m["id"] for m in rest["items"]], rest["next_cursor"]) == ([ids[0]], None)

    masked = api_client.get(MESSAGES, params={"patient_id": patient_id}, headers=viewer.headers).json()
    assert [m["to_phone"] for m in masked["items"]] == ["(11) *****-4321"] * 3
    _error(api_client.get(MESSAGES, params={"patient_id": "00000000-0000-0000-0000-000000000000"},
                          headers=operator.headers), 404, "patient_not_found")
    with unit_of_work() as session:
        audit = session.execute(select(AuditEvent.actor_id, AuditEvent.action, AuditEvent.entity_id,
                                       AuditEvent.details).order_by(AuditEvent.id)).all()
    assert [tuple(a) for a in audit] == [
        (operator.id, "patient.read", patient_id, {"view": "messages"}),
        (operator.id, "patient.read", patient_id, {"view": "messages"}),
        (viewer.id, "patient.read", patient_id, {"view": "messages"}),
    ]


def test_the_patient_profile_shows_the_latest_50_messages_and_the_opt_out(api_client, operator, make_account):
    patient_id, visit_id = _patient_and_visit()
    with unit_of_work() as session:
        ids = [service.request(session, template="reminder", channel="sms", visit_id=visit_id, actor_id=None).id
               for _ in range(52)]
    profile = api_client.get(f"/api/v1/patients/{patient_id}", headers=operator.headers).json()
    assert [m["id"] for m in profile["messages"]] == ids[::-1][:50]
    assert profile["messages"][0]["to_phone"] == "+5511987654321"
    assert (profile["opted_out_at"], profile["opted_out_channel"]) == (None, None)

    with unit_of_work() as session:
        service.opt_out(session, patient_id, channel="whatsapp")
    viewed = api_client.get(f"/api/v1/patients/{patient_id}", headers=make_account("viewer").headers).json()
    assert {m["to_phone"] for m in viewed["messages"]} == {"(11) *****-4321"}
    assert {m["status"] for m in viewed["messages"]} == {"cancelled"}
    assert viewed["opted_out_at"] is not None and viewed["opted_out_channel"] == "whatsapp"


# ------------------------------------------------------------------ end to end


def _twilio_signature(url: str, form: dict[str, str]) -> str:
    payload = url + "".join(k + form[k] for k in sorted(form))
    return base64.b64encode(hmac.new(twilio_fake.AUTH_TOKEN.encode(), payload.encode(), hashlib.sha1).digest()).decode()


def test_a_message_goes_out_through_a_worker_and_its_delivery_comes_back(
    api_client, operator, configure_messaging, twilio_standin, request
):
    configure_messaging()
    request.getfixturevalue("celery_worker")
    patient_id, visit_id = _patient_and_visit()

    queued = api_client.post(MESSAGES, json={"visit_id": visit_id, "template": "reminder", "channel": "sms"},
                             headers=operator.headers).json()

    def current():
        return api_client.get(MESSAGES, params={"patient_id": patient_id}, headers=operator.headers).json()["items"][0]

    assert wait_until(lambda: current()["status"] == "sent", timeout=20)
    sent = current()
    [form] = twilio_standin.sent()
    assert (form["To"], form["From"], form["Body"]) == ("+5511987654321", twilio_fake.FROM_NUMBER, queued["body"])
    assert sent["provider_message_id"] == twilio_standin.accepted()[0].answer_json()["sid"]

    callback = {"MessageSid": sent["provider_message_id"], "MessageStatus": "delivered",
                "AccountSid": twilio_fake.ACCOUNT_SID}
    url = "http://testserver/api/v1/webhooks/twilio/status"
    response = api_client.post(url, content=urlencode(callback), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": _twilio_signature(url, callback)})
    assert response.status_code == 204
    assert current()["status"] == "delivered"
