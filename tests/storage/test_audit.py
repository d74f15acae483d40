"""The audit trail: rows written in the caller's transaction, read newest first, never edited."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.audit import repo as audit_repo
from storage.audit import service as audit_service
from storage.audit.models import AuditEvent
from storage.db import unit_of_work

ACTOR = audit_service.Actor(
    user_id="u-1", role="operator", ip="10.0.0.7", request_id="req-12345678", user_agent="Mozilla/5.0 " + "x" * 300
)


def test_record_adds_the_row_to_the_callers_transaction(db_session):
    event = audit_service.record(db_session, ACTOR, "patient.update", "patient", "p-1", {"fields": ["notes"]})
    db_session.flush()

    stored = db_session.get(AuditEvent, event.id)
    assert (stored.actor_id, stored.actor_role, stored.action, stored.entity_type, stored.entity_id) == (
        "u-1", "operator", "patient.update", "patient", "p-1",
    )
    assert (stored.ip, stored.request_id, stored.details) == ("10.0.0.7", "req-12345678", {"fields": ["notes"]})
    assert stored.user_agent == ("Mozilla/5.0 " + "x" * 300)[:200]
    assert stored.occurred_at is not None


def test_unknown_actions_are_refused(db_session):
    with pytest.raises(ValueError):
        audit_service.record(db_session, ACTOR, "patient.peek", "patient", "p-1")


def test_list_for_entity_is_newest_first_and_pages_with_before(db_session):
    ids = [audit_service.record(db_session, ACTOR, "patient.read", "patient", "p-1") for _ in range(3)]
    audit_service.record(db_session, ACTOR, "patient.read", "patient", "p-2")
    db_session.flush()
    ids = [e.id for e in ids]

    assert [e.id for e in audit_repo.list_for_entity(db_session, "patient", "p-1")] == ids[::-1]
    assert [e.id for e in audit_repo.list_for_entity(db_session, "patient", "p-1", limit=2)] == [ids[2], ids[1]]
    assert [e.id for e in audit_repo.list_for_entity(db_session, "patient", "p-1", before_id=ids[1])] == [ids[0]]
    assert [e.entity_id for e in audit_repo.list_by_actor(db_session, "u-1")] == ["p-2", "p-1", "p-1", "p-1"]


def test_a_rolled_back_change_takes_its_audit_row_with_it(committed):
    with pytest.raises(RuntimeError), unit_of_work() as session:
        audit_service.record(session, ACTOR, "patient.delete", "patient", "p-9")
        session.flush()
        raise RuntimeError("the change failed")
    with unit_of_work() as session:
        assert audit_repo.list_for_entity(session, "patient", "p-9") == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'patient.read'",
        "UPDATE audit_events SET details = '{}' WHERE false",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE id = -1",
    ],
)
def test_the_database_refuses_to_update_or_delete_audit_rows(db_session, statement):
    audit_service.record(db_session, ACTOR, "patient.read", "patient", "p-1")
    db_session.flush()

    with pytest.raises(DBAPIError) as error, db_session.begin_nested():
        db_session.execute(text(statement))
    assert "audit_events is append-only" in str(error.value)
    assert db_session.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1
