"""Message commands on a real PostgreSQL: request, claim and outcome, delivery status, inbound replies, opt-out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.errors import Conflict, Invalid, NotFound
from storage.messages import service
from storage.messages.models import InboundMessage, Message, MessageEvent
from storage.outbox import OutboxEntry
from storage.patients.models import Patient
from storage.visits.models import ConfirmationAttempt, Visit
from tests.storage.messages.helpers import at, make_patient, make_visit, messages_of, today, tomorrow

PHONE = "(11) 98765-4321"
E164 = "+5511987654321"


def _visit_state(session, visit_id):
    session.expire_all()
    visit = session.get(Visit, visit_id)
    return visit.confirmation_status, visit.confirmation_channel


def _attempts(session, visit_id):
    return [(a.channel, a.outcome, a.source, a.actor_id) for a in session.scalars(
        select(ConfirmationAttempt).where(ConfirmationAttempt.visit_id == visit_id).order_by(ConfirmationAttempt.at))]


def _outbox(session):
    return [(e.entity_type, e.entity_id) for e in session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]


# ------------------------------------------------------------------ request


def test_request_renders_the_visit_and_queues_the_message(db_session):
    patient = make_patient(db_session, name="JOSÉ DA SILVA", phones=[PHONE])
    visit = make_visit(db_session, patient, at(tomorrow(), 7, 20), street="Rua das Flores", number="123")

    message = service.request(db_session, template="confirmation_request", channel="sms", visit_id=visit.id,
                              actor_id="user-1")

    day = tomorrow().strftime("%d/%m")
    assert message.body == (
        f"Olá, José! Sua coleta domiciliar está agendada para {day} às 07:20, em Rua das Flores, 123. "
        "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens."
    )
    assert (message.patient_id, message.visit_id, message.channel, message.template) == (
        patient.id, visit.id, "sms", "confirmation_request")
    assert (message.to_phone, message.status, message.attempts, message.reason, message.actor_id) == (
        E164, "queued", 0, "manual", "user-1")
    assert (message.provider, message.provider_message_id, message.dedupe_key) == (None, None, None)


def test_a_patient_only_request_names_the_nearest_scheduled_visit(db_session):
    patient = make_patient(db_session, phones=[PHONE])
    make_visit(db_session, patient, at(today() - timedelta(days=1), 8))  # past
    make_visit(db_session, patient, at(tomorrow(), 6, 40), status="cancelled")
    nearest = make_visit(db_session, patient, at(tomorrow(), 10))
    make_visit(db_session, patient, at(tomorrow() + timedelta(days=3), 7))

    message = service.request(db_session, template="reminder", channel="whatsapp", patient_id=patient.id,
                              actor_id=None, reason="bulk")

    assert (message.visit_id, message.reason) == (nearest.id, "bulk")
    assert " às 10:00, " in message.body


def test_request_refuses_what_cannot_be_sent(db_session):
    patient = make_patient(db_session, phones=[PHONE])
    visit = make_visit(db_session, patient, at(tomorrow(), 7, 20))
    other = make_patient(db_session)
    landline_only = make_patient(db_session, phones=["(11) 3456-7890"])
    landline_visit = make_visit(db_session, landline_only, at(tomorrow(), 8))
    cancelled = make_visit(db_session, patient, at(tomorrow(), 11), status="cancelled")
    no_visits = make_patient(db_session)

    def code(**kwargs):
        arguments = {"template": "reminder", "channel": "sms", "actor_id": None, **kwargs}
        with pytest.raises((Conflict, Invalid, NotFound)) as error:
            service.request(db_session, **arguments)
        return type(error.value).__name__, error.value.code

    assert code(visit_id=visit.id, patient_id=other.id) == ("Invalid", "visit_patient_mismatch")
    assert code(visit_id=landline_visit.id) == ("Invalid", "no_mobile_phone")
    assert code(visit_id=cancelled.id) == ("Conflict", "visit_cancelled")
    assert code(patient_id=no_visits.id) == ("Invalid", "no_upcoming_visit")
    assert code(visit_id=visit.id, template="promocao") == ("Invalid", "unknown_template")
    assert code(visit_id=visit.id, channel="email") == ("Invalid", "invalid_channel")
    assert code() == ("Invalid", "missing_target")
    assert code(visit_id="00000000-0000-0000-0000-000000000000") == ("NotFound", "visit_not_found")
    assert code(patient_id="00000000-0000-0000-0000-000000000000") == ("NotFound", "patient_not_found")

    service.opt_out(db_session, patient.id, channel="sms")
    assert code(visit_id=visit.id) == ("Conflict", "patient_opted_out")
    assert messages_of(db_session) == []


def test_whatsapp_prefers_the_number_marked_whatsapp(db_session):
    patient = make_patient(db_session, phones=["(11) 3456-7890", "(11) 98765-4321",
                                               {"number": "(21) 99876-5432", "kind": "whatsapp"}])
    visit = make_visit(db_session, patient, at(tomorrow(), 7))
    whatsapp = service.request(db_session, template="reminder", channel="whatsapp", visit_id=visit.id, actor_id=None)
    sms = service.request(db_session, template="reminder", channel="sms", visit_id=visit.id, actor_id=None)
    assert (whatsapp.to_phone, sms.to_phone) == ("+5521998765432", "+5511987654321")


# ------------------------------------------------------------------ claim and outcome


def _queued(session, **patient):
    person = make_patient(session, phones=[PHONE], **patient)
    visit = make_visit(session, person, at(tomorrow(), 7, 20))
    return service.request(session, template="reminder", channel="sms", visit_id=visit.id, actor_id=None)


def test_a_message_is_claimed_once(db_session):
    message = _queued(db_session)

    claim = service.mark_sending(db_session, message.id, provider="twilio")
    assert (claim.message_id, claim.to_phone, claim.body, claim.attempts) == (
        message.id, E164, message.body, 1)
    assert service.mark_sending(db_session, message.id, provider="twilio") is None

    service.mark_sent(db_session, message.id, provider="twilio", provider_message_id="SM1")
    assert service.mark_sending(db_session, message.id, provider="twilio") is None
    db_session.refresh(message)
    assert (message.status, message.provider, message.provider_message_id, message.attempts) == (
        "sent", "twilio", "SM1", 1)
    assert message.sent_at is not None


def test_retry_release_unclaim_and_failure(db_session):
    message = _queued(db_session)
    service.mark_sending(db_session, message.id, provider="twilio")
    service.release_for_retry(db_session, message.id, "http_500:20500")
    db_session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("queued", 1, "http_500:20500")

    service.mark_sending(db_session, message.id, provider="twilio")
    service.unclaim(db_session, message.id)
    db_session.refresh(message)
    assert (message.status, message.attempts) == ("queued", 1)

    service.mark_sending(db_session, message.id, provider="twilio")
    service.mark_failed(db_session, message.id, "http_400:21211")
    db_session.refresh(message)
    assert (message.status, message.attempts, message.last_error) == ("failed", 2, "http_400:21211")


def test_the_claim_cancels_a_message_whose_patient_opted_out_or_visit_was_cancelled(db_session):
    opted = _queued(db_session)
    cancelled = _queued(db_session)
    # Changed behind the service's back after the request: the claim still finds out.
    db_session.get(Patient, opted.patient_id).opted_out_at = func.now()
    db_session.get(Visit, cancelled.visit_id).status = "cancelled"
    db_session.flush()

    assert service.mark_sending(db_session, opted.id, provider="twilio") is None
    assert service.mark_sending(db_session, cancelled.id, provider="twilio") is None
    db_session.expire_all()
    assert [(m.status, m.last_error, m.attempts) for m in (db_session.get(Message, opted.id),
                                                           db_session.get(Message, cancelled.id))] == [
        ("cancelled", "patient_opted_out", 0), ("cancelled", "visit_cancelled", 0)]


# ------------------------------------------------------------------ delivery status


def _sent(session, provider_message_id="SM1"):
    message = _queued(session)
    service.mark_sending(session, message.id, provider="twilio")
    service.mark_sent(session, message.id, provider="twilio", provider_message_id=provider_message_id)
    return message


def _event(session, status, provider_status=None, **kwargs):
    return service.apply_status_event(
        session, provider="twilio", provider_message_id=kwargs.pop("sid", "SM1"),
        provider_status=provider_status or status, status=status, **kwargs)


def test_status_events_move_forward_once_and_never_back(db_session):
    message = _sent(db_session)

    assert _event(db_session, "delivered") is True
    assert _event(db_session, "delivered") is False  # replay
    assert _event(db_session, "sent") is True  # late, out of order: stored, no step back
    db_session.refresh(message)
    assert message.status == "delivered"
    assert _event(db_session, "failed", "undelivered", error_code="30003") is True
    db_session.refresh(message)
    assert message.status == "delivered"
    assert _event(db_session, "read") is True
    db_session.refresh(message)
    assert message.status == "read"

    rows = db_session.execute(
        select(MessageEvent.event_key, MessageEvent.status, MessageEvent.message_id).order_by(MessageEvent.id)).all()
    assert [tuple(r) for r in rows] == [
        ("SM1:delivered", "delivered", message.id), ("SM1:sent", "sent", message.id),
        ("SM1:undelivered", "failed", message.id), ("SM1:read", "read", message.id)]


def test_a_failure_before_delivery_fails_the_message_with_the_provider_code(db_session):
    message = _sent(db_session)
    _event(db_session, "failed", "undelivered", error_code="30003")
    db_session.refresh(message)
    assert (message.status, message.last_error) == ("failed", "provider:30003")
    _event(db_session, "delivered")
    db_session.refresh(message)
    assert message.status == "failed"


def test_an_event_that_beats_our_own_commit_is_applied_when_the_send_is_recorded(db_session):
    message = _queued(db_session)
    service.mark_sending(db_session, message.id, provider="twilio")
    assert _event(db_session, "delivered", sid="SM-early") is True

    service.mark_sent(db_session, message.id, provider="twilio", provider_message_id="SM-early")
    db_session.refresh(message)
    assert message.status == "delivered"
    assert db_session.scalar(select(MessageEvent.message_id).where(MessageEvent.event_key == "SM-early:delivered")) \
        == message.id


def test_events_of_unknown_messages_are_kept_once(db_session):
    assert _event(db_session, "delivered", sid="SM-unknown") is True
    assert _event(db_session, "delivered", sid="SM-unknown") is False
    assert db_session.scalar(select(func.count()).select_from(MessageEvent)) == 1


# ------------------------------------------------------------------ inbound


def _inbound(session, body, sender=E164, message_id="IN1", channel="sms", provider="twilio", **kwargs):
    return service.handle_inbound(session, provider=provider, channel=channel, provider_message_id=message_id,
                                  from_phone=sender, body=body, **kwargs)


@pytest.mark.parametrize(("reply", "outcome"), [
    ("SIM", "confirmed"), ("1", "confirmed"), (" sim! ", "confirmed"),
    ("NÃO", "declined"), ("2", "declined"), ("não.", "declined"),
])
def test_a_reply_confirms_or_declines_the_nearest_scheduled_visit(db_session, reply, outcome):
    patient = make_patient(db_session, phones=[PHONE])
    make_visit(db_session, patient, at(today() - timedelta(days=2), 8))
    make_visit(db_session, patient, at(tomorrow(), 6, 40), status="cancelled")
    nearest = make_visit(db_session, patient, at(tomorrow(), 7, 20))
    later = make_visit(db_session, patient, at(tomorrow() + timedelta(days=7), 7, 20))
    db_session.query(OutboxEntry).delete()

    result = _inbound(db_session, reply)

    assert (result.action, result.patient_id, result.visit_id, result.replay) == (
        outcome, patient.id, nearest.id, False)
    assert _visit_state(db_session, nearest.id) == (outcome, "sms")
    assert _visit_state(db_session, later.id) == ("pending", None)
    assert _attempts(db_session, nearest.id) == [("sms", outcome, "inbound_message", None)]
    assert ("visit", nearest.id) in _outbox(db_session)
    row = db_session.scalar(select(InboundMessage))
    assert (row.provider, row.provider_message_id, row.channel, row.from_phone, row.body, row.action,
            row.patient_id, row.visit_id) == ("twilio", "IN1", "sms", E164, reply, outcome, patient.id, nearest.id)


def test_a_replayed_inbound_message_is_handled_once(db_session):
    patient = make_patient(db_session, phones=[PHONE])
    visit = make_visit(db_session, patient, at(tomorrow(), 7, 20))

    first = _inbound(db_session, "SIM")
    again = _inbound(db_session, "SIM")

    assert (first.replay, again.replay) == (False, True)
    assert (again.inbound_id, again.action, again.visit_id) == (first.inbound_id, "confirmed", visit.id)
    assert len(_attempts(db_session, visit.id)) == 1
    assert db_session.scalar(select(func.count()).select_from(InboundMessage)) == 1


@pytest.mark.parametrize("reply", ["SAIR", "sair", "Parar", "STOP"])
def test_sair_opts_out_every_patient_of_that_phone(db_session, reply):
    mother = make_patient(db_session, phones=[PHONE])
    son = make_patient(db_session, phones=["11 98765-4321", "(11) 91111-2222"])
    stranger = make_patient(db_session)
    # A queued message of the mother's is cancelled by her opt-out.
    visit = make_visit(db_session, mother, at(tomorrow(), 9))
    pending = service.request(db_session, template="reminder", channel="sms", visit_id=visit.id, actor_id=None)
    db_session.query(OutboxEntry).delete()

    result = _inbound(db_session, reply, channel="whatsapp", provider="whatsapp_cloud", sender="+5511987654321")

    assert (result.action, result.visit_id) == ("opted_out", None)
    db_session.expire_all()
    states = {p.id: (p.opted_out_at is not None, p.opted_out_channel) for p in db_session.scalars(select(Patient))}
    assert states[mother.id] == (True, "whatsapp")
    assert states[son.id] == (True, "whatsapp")
    assert states[stranger.id] == (False, None)
    assert sorted(_outbox(db_session)) == sorted([("patient", mother.id), ("patient", son.id)])
    assert db_session.get(Message, pending.id).status == "cancelled"
    # Opting out again changes nothing and keeps the first date.
    first_date = db_session.get(Patient, mother.id).opted_out_at
    assert service.opt_out(db_session, mother.id, channel="sms") is False
    assert db_session.get(Patient, mother.id).opted_out_at == first_date


def test_other_texts_unknown_senders_and_missing_visits_are_stored_without_action(db_session):
    patient = make_patient(db_session, phones=[PHONE])
    visit = make_visit(db_session, patient, at(tomorrow(), 7, 20))
    lonely = make_patient(db_session, phones=["(21) 99999-0000"])

    assert _inbound(db_session, "Sim, confirmo! Obrigada", message_id="a").action == "none"
    assert _inbound(db_session, "SIM", message_id="b", sender="+5511900001111").action == "unknown_sender"
    assert _inbound(db_session, "SIM", message_id="c", sender="+14155550100").action == "unknown_sender"
    no_visit = _inbound(db_session, "SIM", message_id="d", sender="+5521999990000")
    assert (no_visit.action, no_visit.patient_id) == ("no_visit", lonely.id)
    assert _visit_state(db_session, visit.id) == ("pending", None)
    assert db_session.scalar(select(func.count()).select_from(InboundMessage)) == 4


def test_whatsapp_numbers_without_the_ninth_digit_find_the_patient(db_session):
    patient = make_patient(db_session, phones=[PHONE])
    visit = make_visit(db_session, patient, at(tomorrow(), 7, 20))

    result = _inbound(db_session, "1", sender="+551187654321", channel="whatsapp", provider="whatsapp_cloud")

    assert (result.action, result.visit_id) == ("confirmed", visit.id)
    assert _visit_state(db_session, visit.id) == ("confirmed", "whatsapp")


def test_a_shared_phone_answers_for_the_patient_we_last_wrote_to(db_session):
    mother = make_patient(db_session, phones=[PHONE])
    son = make_patient(db_session, phones=[PHONE])
    mother_visit = make_visit(db_session, mother, at(tomorrow(), 7, 20))
    son_visit = make_visit(db_session, son, at(tomorrow(), 8))

    ambiguous = _inbound(db_session, "SIM", message_id="x")
    assert (ambiguous.action, ambiguous.patient_id, ambiguous.visit_id) == ("ambiguous", None, None)

    service.request(db_session, template="confirmation_request", channel="sms", visit_id=son_visit.id, actor_id=None)
    answered = _inbound(db_session, "SIM", message_id="y")
    assert (answered.action, answered.patient_id, answered.visit_id) == ("confirmed", son.id, son_visit.id)
    assert _visit_state(db_session, mother_visit.id) == ("pending", None)
