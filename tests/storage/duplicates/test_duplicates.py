"""The master patient index in PostgreSQL: the check on write, decisions, merge and exact unmerge."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.audit import service as audit_service
from storage.audit.models import AuditEvent
from storage.duplicates import golden, merging
from storage.duplicates import repo as duplicate_repo
from storage.duplicates import service as duplicate_service
from storage.duplicates.models import DuplicatePair, PatientMatchKeys
from storage.errors import Conflict, Invalid
from storage.messages.models import Message
from storage.outbox import OutboxEntry
from storage.patients import service as patient_service
from storage.patients.models import Patient
from storage.visits.models import ConfirmationAttempt, Visit
from tests.factories import make_cpf

ACTOR = audit_service.Actor(user_id="00000000-0000-0000-0000-0000000000aa", role="operator")
TZ = ZoneInfo("America/Sao_Paulo")


def create(session, **data):
    patient = patient_service.create(session, data)
    session.flush()
    return patient


def test_a_second_registration_warns_of_the_first_and_enters_the_queue(db_session):
    first = create(db_session, name="JOSÉ DA SILVA", birth_date="1970-01-01", phones=["21 98111-2222"])
    assert duplicate_service.check_on_write(db_session, [first.id], "create") == {}
    second = create(db_session, name="Jose da Silva", birth_date="1970-01-01")
    other = create(db_session, name="Maria da Silva", birth_date="1985-05-05")

    warnings = duplicate_service.check_on_write(db_session, [second.id, other.id], "create")

    assert list(warnings) == [second.id]
    [warning] = warnings[second.id]
    assert (warning.code, warning.patient_id) == ("possible_duplicate", first.id)
    pair = duplicate_repo.find_pair(db_session, first.id, second.id)
    assert (pair.status, pair.found_by, pair.score) == ("pending", "create", warning.score)
    assert [e["field"] for e in pair.explanation][:4] == ["given_name", "surname", "other_names", "birth_date"]
    assert {e["field"]: e["level"] for e in pair.explanation}["birth_date"] == "exact"
    assert db_session.get(PatientMatchKeys, second.id).keys


def test_a_pair_decided_different_never_warns_again(db_session):
    first = create(db_session, name="Ana Paula Tavares", birth_date="1990-02-03")
    duplicate_service.check_on_write(db_session, [first.id], "create")
    second = create(db_session, name="Ana Paula Tavares", birth_date="1990-02-03")
    [warning] = duplicate_service.check_on_write(db_session, [second.id], "create")[second.id]
    pair = duplicate_repo.find_pair(db_session, first.id, second.id)

    duplicate_service.decide(db_session, pair.id, "different", ACTOR)

    assert duplicate_service.check_on_write(db_session, [second.id], "import") == {}
    assert duplicate_service.check_on_write(db_session, [first.id], "import") == {}
    db_session.refresh(pair)
    assert (pair.status, pair.decided_by, pair.score) == ("different", ACTOR.user_id, warning.score)
    events = db_session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "duplicate.decide")).all()
    assert sorted(events) == sorted([first.id, second.id])
    with pytest.raises(Conflict) as refused:
        merging.merge(db_session, first.id, second.id, ACTOR)
    assert refused.value.code == "duplicate_decided_different"


def test_decide_refuses_an_unknown_decision(db_session):
    with pytest.raises(Invalid) as refused:
        duplicate_service.decide(db_session, "x", "maybe", ACTOR)
    assert refused.value.code == "invalid_decision"


def _visit(session, patient_id: str, days: int) -> Visit:
    start = datetime(2026, 12, 1, 7, 20, tzinfo=TZ) + timedelta(days=days)
    visit = Visit(patient_id=patient_id, start_at=start, end_at=start + timedelta(minutes=40), visit_date=start.date(),
                  status="scheduled", confirmation_status="pending")
    session.add(visit)
    session.flush()
    return visit


def _outbox(session) -> list[tuple]:
    rows = session.execute(select(OutboxEntry.entity_type, OutboxEntry.entity_id, OutboxEntry.deleted_version)
                           .order_by(OutboxEntry.id)).all()
    return [tuple(r) for r in rows]


def test_merge_moves_everything_keeps_the_golden_record_and_unmerge_restores_both_exactly(db_session):
    survivor = create(db_session, name="Jose Silva Tavares", birth_date="1970-01-01", phones=["21 98111-2222"],
                      tags=["idoso"], notes="portão azul", priority="normal")
    other = create(db_session, name="José da Silva Tavares", cpf=make_cpf(901), birth_date="1970-01-01",
                   phones=["(21) 3333-4444"], tags=["jejum"], notes="ligar antes", priority="high",
                   address={"street": "Rua A", "number": "5", "zip_code": "20000-000", "city": "Rio de Janeiro"})
    kept_visit, moved_visit = _visit(db_session, survivor.id, 1), _visit(db_session, other.id, 2)
    attempt = ConfirmationAttempt(visit_id=moved_visit.id, patient_id=other.id, channel="phone", outcome="no_answer")
    message = Message(patient_id=other.id, visit_id=moved_visit.id, channel="sms", template="confirmation_request",
                      body="Olá", to_phone="+5521999990000")
    db_session.add_all([attempt, message])
    audit_service.record(db_session, ACTOR, "patient.read", "patient", other.id)
    db_session.flush()
    duplicate_service.check_on_write(db_session, [survivor.id, other.id], "create")
    before = {p.id: merging.snapshot(p) for p in (survivor, other)}
    db_session.query(OutboxEntry).delete()

    merge = merging.merge(db_session, survivor.id, other.id, ACTOR)

    db_session.expire_all()
    assert (other.status, other.merged_into_id, other.cpf) == ("merged", survivor.id, None)
    assert survivor.name == "José da Silva Tavares"  # the fuller variant, with its accent
    assert survivor.cpf == make_cpf(901)
    assert [p["number"] for p in survivor.phones] == ["21981112222", "2133334444"]
    assert (survivor.tags, survivor.priority, survivor.notes) == (["idoso", "jejum"], "high", "portão azul\nligar antes")
    assert (survivor.street, survivor.zip_code) == ("Rua A", "20000000")
    assert db_session.get(Visit, moved_visit.id).patient_id == survivor.id
    assert db_session.get(ConfirmationAttempt, attempt.id).patient_id == survivor.id
    assert db_session.get(Message, message.id).patient_id == survivor.id
    assert merge.record["moved"] == {"visits": [moved_visit.id], "confirmation_attempts": [attempt.id],
                                     "messages": [message.id], "inbound_messages": []}
    assert len(merge.record["audit_event_ids"]) == 1
    assert db_session.get(PatientMatchKeys, other.id) is None
    assert duplicate_repo.find_pair(db_session, survivor.id, other.id).status == "same"
    assert _outbox(db_session) == [("visit", moved_visit.id, None), ("patient", survivor.id, None),
                                   ("patient", other.id, other.row_version)]
    actions = db_session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "patient.merge")).all()
    assert sorted(actions) == sorted([survivor.id, other.id])
    with pytest.raises(Conflict) as again:
        merging.merge(db_session, survivor.id, other.id, ACTOR)
    assert again.value.code == "patient_merged"

    db_session.query(OutboxEntry).delete()
    merging.unmerge(db_session, other.id, ACTOR)

    db_session.expire_all()
    assert merging.snapshot(survivor) == before[survivor.id]
    assert merging.snapshot(other) == before[other.id]
    assert db_session.get(Visit, moved_visit.id).patient_id == other.id
    assert db_session.get(Visit, kept_visit.id).patient_id == survivor.id
    assert db_session.get(ConfirmationAttempt, attempt.id).patient_id == other.id
    assert db_session.get(Message, message.id).patient_id == other.id
    assert duplicate_repo.find_pair(db_session, survivor.id, other.id).status == "pending"
    assert db_session.get(PatientMatchKeys, other.id).keys
    assert sorted(_outbox(db_session)) == sorted([("visit", moved_visit.id, None), ("patient", survivor.id, None),
                                                  ("patient", other.id, None)])
    with pytest.raises(Conflict) as not_merged:
        merging.unmerge(db_session, other.id, ACTOR)
    assert not_merged.value.code == "patient_not_merged"


def test_unmerge_keeps_changes_made_since_and_goes_last_merge_first(db_session):
    survivor = create(db_session, name="Rita Nunes", birth_date="1950-03-03")
    first = create(db_session, name="Rita de Cássia Nunes", birth_date="1950-03-03", notes="primeiro")
    second = create(db_session, name="Rita Nunes", birth_date="1950-03-03", email="rita@exemplo.com.br")
    merging.merge(db_session, survivor.id, first.id, ACTOR)
    merging.merge(db_session, survivor.id, second.id, ACTOR)
    with pytest.raises(Conflict) as refused:
        merging.unmerge(db_session, first.id, ACTOR)
    assert refused.value.code == "merge_not_latest"

    patient_service.update(db_session, survivor.id, {"email": "nova@exemplo.com.br"})
    merging.unmerge(db_session, second.id, ACTOR)
    merging.unmerge(db_session, first.id, ACTOR)

    db_session.refresh(survivor)
    assert (survivor.name, survivor.notes, survivor.email) == ("Rita Nunes", None, "nova@exemplo.com.br")
    assert db_session.get(Patient, second.id).status == "active"


def test_merge_refuses_the_same_patient(db_session):
    patient = create(db_session, name="Paulo Souza")
    with pytest.raises(Invalid) as refused:
        merging.merge(db_session, patient.id, patient.id, ACTOR)
    assert refused.value.code == "merge_same_patient"


def test_golden_record_rules():
    survivor = {"name": "Jose Silva", "name_folded": "jose silva", "cpf": None, "birth_date": None, "gender": "male",
                "phones": [{"number": "11987654321", "kind": "mobile"}], "tags": ["b"], "email": None,
                "preferred_channel": "sms", "street": None, "zip_code": None, "health_plan_code": "80",
                "health_plan_name": "AMIL", "notes": "x", "priority": "low", "status": "inactive", "opted_out_at": None}
    other = {"name": "José da Silva", "cpf": "52998224725", "birth_date": "1970-01-01", "gender": "female",
             "phones": [{"number": "11987654321", "kind": "mobile"}, {"number": "1133334444", "kind": "landline"}],
             "tags": ["a"], "email": "j@x.com.br", "preferred_channel": "whatsapp", "street": "Rua B",
             "zip_code": "01000000", "health_plan_code": None, "notes": "x", "priority": "urgent", "status": "active",
             "opted_out_at": "2026-01-01T00:00:00+00:00", "opted_out_channel": "sms"}

    changes = golden.golden(survivor, other, survivor_is_newer=False)

    assert changes["name"] == "José da Silva" and changes["name_folded"] == "jose da silva"
    assert (changes["cpf"], changes["birth_date"]) == ("52998224725", "1970-01-01")
    assert "gender" not in changes  # the survivor's own
    assert [p["number"] for p in changes["phones"]] == ["11987654321", "1133334444"]
    assert changes["tags"] == ["a", "b"]
    assert (changes["email"], changes["preferred_channel"]) == ("j@x.com.br", "whatsapp")  # the other is newer
    assert (changes["street"], changes["zip_code"]) == ("Rua B", "01000000")
    assert "health_plan_code" not in changes  # the newer record has no plan: the survivor's stays
    assert "notes" not in changes
    assert (changes["priority"], changes["status"], changes["opted_out_channel"]) == ("urgent", "active", "sms")


def test_a_merged_away_patient_cannot_be_booked(db_session):
    from storage.cars import service as car_service
    from storage.visits import service as visit_commands

    survivor = create(db_session, name="Clara Nunes")
    other = create(db_session, name="Clara Nunes")
    car = car_service.create(db_session, {"label": "CARRO 9", "base": "AV CENTER 1"})
    merging.merge(db_session, survivor.id, other.id, ACTOR)
    start = datetime(2026, 12, 20, 7, 20, tzinfo=TZ)

    with pytest.raises(Conflict) as refused:
        visit_commands.create(db_session, {"patient_id": other.id, "car_id": car.id, "start": start,
                                           "end": start + timedelta(minutes=40)}, actor_id=None)

    assert (refused.value.code, refused.value.details) == ("patient_merged", {"merged_into": survivor.id})


def test_a_merged_away_record_is_changed_only_by_unmerge(db_session):
    survivor = create(db_session, name="Elza Soares")
    other = create(db_session, name="Elza Soares")
    merging.merge(db_session, survivor.id, other.id, ACTOR)
    for change in (lambda: patient_service.update(db_session, other.id, {"notes": "x"}),
                   lambda: patient_service.delete(db_session, other.id)):
        with pytest.raises(Conflict) as refused:
            change()
        assert refused.value.code == "patient_merged"
