"""Confirmation attempts: what each outcome does to the visit, the outbox, and the patient's record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.errors import Conflict, Invalid, NotFound
from storage.outbox import OutboxEntry
from storage.patients.models import Patient
from storage.visits import confirmations
from storage.visits import index_repo as visit_index_repo
from storage.visits import repo as visit_repo
from storage.visits import service as visit_service
from tests.storage.visits.helpers import DAY, booking, make_car, make_patient

OPERATOR = "00000000-0000-0000-0000-0000000000bb"


@pytest.fixture
def visit(db_session):
    car = make_car(db_session)
    visit, _ = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "07:20", "08:00"), actor_id=None)
    return visit


def state(visit) -> tuple:
    return visit.confirmation_status, visit.confirmation_channel, visit.confirmed_at


@pytest.mark.parametrize(
    "outcome, expected",
    [
        ("confirmed", ("confirmed", "whatsapp", "at")),
        ("declined", ("declined", "whatsapp", None)),
        ("no_answer", ("pending", None, None)),
        ("wrong_number", ("pending", None, None)),
        ("reschedule_requested", ("pending", None, None)),
    ],
)
def test_each_outcome_sets_the_visits_confirmation_state(db_session, visit, outcome, expected):
    db_session.flush()
    db_session.execute(OutboxEntry.__table__.delete())

    attempt = confirmations.record_attempt(
        db_session, visit.id, channel="whatsapp", outcome=outcome, notes=" ligou às 9h ", actor_id=OPERATOR,
    )

    assert (attempt.visit_id, attempt.patient_id, attempt.channel, attempt.outcome, attempt.notes, attempt.actor_id,
            attempt.source) == (visit.id, visit.patient_id, "whatsapp", outcome, "ligou às 9h", OPERATOR, "staff")
    assert state(visit) == tuple(attempt.at if value == "at" else value for value in expected)
    # Always a new version (the document counts attempts) and outbox rows for the visit and the patient.
    assert visit.row_version == 2
    assert sorted((e.entity_type, e.entity_id) for e in db_session.scalars(select(OutboxEntry))) == sorted(
        [("visit", visit.id), ("patient", visit.patient_id)])


def test_unanswered_calls_never_undo_a_confirmation_but_a_reschedule_request_does(db_session, visit):
    confirmed = confirmations.record_attempt(db_session, visit.id, channel="phone", outcome="confirmed", actor_id=None)
    for outcome in ("no_answer", "wrong_number"):
        confirmations.record_attempt(db_session, visit.id, channel="sms", outcome=outcome, actor_id=None)
    assert state(visit) == ("confirmed", "phone", confirmed.at)

    confirmations.record_attempt(db_session, visit.id, channel="whatsapp", outcome="reschedule_requested",
                                 actor_id=None, source="inbound_message")
    assert state(visit) == ("pending", "phone", None)

    confirmations.record_attempt(db_session, visit.id, channel="whatsapp", outcome="declined", actor_id=None)
    assert (visit.status, visit.confirmation_status) == ("scheduled", "declined")
    assert [(a.outcome, a.source) for a in visit_repo.attempts_by_visit(db_session, [visit.id])[visit.id]] == [
        ("confirmed", "staff"), ("no_answer", "staff"), ("wrong_number", "staff"),
        ("reschedule_requested", "inbound_message"), ("declined", "staff"),
    ]


def test_the_patients_record_counts_attempts_and_channels_that_confirmed(db_session, visit):
    car2 = make_car(db_session, label="CARRO 2")
    other, _ = visit_service.create(db_session, booking(visit.patient_id, car2.id, "10:00", "10:40"), actor_id=None)
    for visit_id, channel, outcome in [
        (visit.id, "phone", "no_answer"), (visit.id, "whatsapp", "confirmed"), (other.id, "sms", "confirmed"),
        (other.id, "phone", "declined"),
    ]:
        confirmations.record_attempt(db_session, visit_id, channel=channel, outcome=outcome, actor_id=None)
    visit_service.change_status(db_session, other.id, "cancelled", actor_id=None)

    stats = visit_index_repo.patient_visit_stats(db_session, [visit.patient_id], DAY)[visit.patient_id]

    assert (stats.confirmation_attempts, stats.confirmed_attempts, stats.confirmation_channels) == (
        4, 2, ("sms", "whatsapp"))
    assert visit_index_repo.attempt_stats(db_session, [make_patient(db_session).id]) == {}


def test_attempts_need_a_scheduled_visit_and_valid_values(db_session, visit):
    with pytest.raises(Invalid) as excinfo:
        confirmations.record_attempt(db_session, visit.id, channel="telegram", outcome="confirmed", actor_id=None)
    assert (excinfo.value.code, excinfo.value.details) == ("invalid_channel", {"field": "channel"})
    with pytest.raises(Invalid) as excinfo:
        confirmations.record_attempt(db_session, visit.id, channel="sms", outcome="maybe", actor_id=None)
    assert (excinfo.value.code, excinfo.value.details) == ("invalid_outcome", {"field": "outcome"})
    with pytest.raises(Invalid) as excinfo:
        confirmations.record_attempt(db_session, visit.id, channel="sms", outcome="confirmed", actor_id=None, source="x")
    assert excinfo.value.code == "invalid_source"
    with pytest.raises(NotFound) as excinfo:
        confirmations.record_attempt(db_session, "nope", channel="sms", outcome="confirmed", actor_id=None)
    assert excinfo.value.code == "visit_not_found"

    visit_service.change_status(db_session, visit.id, "cancelled", actor_id=None)
    with pytest.raises(Conflict) as excinfo:
        confirmations.record_attempt(db_session, visit.id, channel="sms", outcome="confirmed", actor_id=None)
    assert (excinfo.value.code, excinfo.value.message, excinfo.value.details) == (
        "visit_not_scheduled", "Só visitas agendadas podem ser confirmadas; esta está cancelada.", {"visit_id": visit.id})
    assert db_session.get(Patient, visit.patient_id) is not None
