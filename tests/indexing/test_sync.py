"""The outbox drain: creates, updates and deletes reach the index; stale writes never win."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from indexing import names, sync, writer
from indexing.documents import patient as patient_document
from opensearchpy import OpenSearch
from storage import outbox
from storage.db import unit_of_work
from storage.outbox import OutboxEntry
from storage.patients import repo as patient_repo
from storage.patients import service as patient_service
from indexing.client import get_client
from tests.factories import patient_data
from tests.indexing.conftest import create_patients, indexed


def pending() -> int:
    with unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(OutboxEntry))


def test_drain_applies_creates_updates_and_deletes(committed):
    keep, change, remove = create_patients(3)
    result = sync.drain()
    assert (result.claimed, result.applied_entities, result.failed_entities) == (3, 3, 0)
    assert pending() == 0
    assert indexed(keep)["_version"] == 1

    with unit_of_work() as session:
        patient_service.update(session, change, {"name": "Heloísa Nova"})
        patient_service.update(session, change, {"notes": "segunda mudança"})
        patient_service.delete(session, remove)
    result = sync.drain()
    # Two outbox rows of one patient coalesce into one write.
    assert (result.claimed, result.applied_entities) == (3, 2)
    assert pending() == 0
    assert indexed(change)["name"] == "Heloísa Nova"
    assert indexed(change)["_version"] == 3
    assert indexed(remove) is None
    assert indexed(keep)["_version"] == 1


def test_replayed_or_out_of_order_writes_never_overwrite_newer_data(committed, client):
    (patient_id,) = create_patients(1)
    with unit_of_work() as session:
        stale = patient_document.build(patient_repo.get(session, patient_id))
    with unit_of_work() as session:
        patient_service.update(session, patient_id, {"name": "Nome Atual"})
    sync.drain()
    assert indexed(patient_id)["_version"] == 2

    # An old batch arriving late (version 1) is a conflict: counted as success, data untouched.
    outcome = writer.write(client, [writer.IndexOp(names.alias("patients"), patient_id, 1, stale)])
    assert outcome.failed == {}
    assert indexed(patient_id)["name"] == "Nome Atual"

    # Replaying the whole outbox change again is harmless too.
    with unit_of_work() as session:
        outbox.record(session, "patient", patient_id)
    sync.drain()
    assert indexed(patient_id)["_version"] == 2
    assert indexed(patient_id)["name"] == "Nome Atual"


def test_a_stale_write_after_a_delete_cannot_bring_the_document_back(committed, client):
    (patient_id,) = create_patients(1)
    with unit_of_work() as session:
        stale = patient_document.build(patient_repo.get(session, patient_id))
    sync.drain()
    with unit_of_work() as session:
        patient_service.delete(session, patient_id)
    sync.drain()
    assert indexed(patient_id) is None
    writer.write(client, [writer.IndexOp(names.alias("patients"), patient_id, 1, stale)])
    assert indexed(patient_id) is None


def test_failures_back_off_and_keep_the_rows(committed):
    create_patients(2)
    unreachable = OpenSearch(hosts=["http://127.0.0.1:9"], timeout=1, max_retries=0)
    with unit_of_work() as session:
        result = sync.drain_batch(session, unreachable, limit=100)
    assert (result.claimed, result.applied_entities, result.failed_entities) == (2, 0, 2)
    with unit_of_work() as session:
        rows = list(session.scalars(select(OutboxEntry)))
        delays = [session.scalar(select(func.extract("epoch", e.available_at - func.now()))) for e in rows]
    assert [r.attempts for r in rows] == [1, 1]
    assert all("ConnectionError" in r.last_error for r in rows)
    assert all(0 < float(d) <= 1.5 for d in delays)
    assert all(r.transient for r in rows)
    # Not due yet: a drain right now, OpenSearch still unreachable, leaves them alone.
    assert sync.drain(client=unreachable).claimed == 0
    assert pending() == 2


UNREACHABLE = OpenSearch(hosts=["http://127.0.0.1:9"], timeout=1, max_retries=0)


def _fail_during_outage(attempts_before: int) -> None:
    """Drain once while OpenSearch is unreachable, as the rows' `attempts_before`-th failure (a long outage)."""
    with unit_of_work() as session:
        session.execute(update(OutboxEntry.__table__).values(attempts=attempts_before - 1))
    with unit_of_work() as session:
        result = sync.drain_batch(session, UNREACHABLE, limit=100)
    assert result.failed_entities == result.transient_failures == result.claimed


def _seconds_until_due() -> list[int]:
    with unit_of_work() as session:
        return sorted(round(float(d)) for d in session.scalars(
            select(func.extract("epoch", OutboxEntry.available_at - func.now())).select_from(OutboxEntry)))


def test_after_an_outage_the_first_clean_write_makes_the_backed_off_rows_due_at_once(committed):
    during = create_patients(2)
    _fail_during_outage(attempts_before=9)  # the ninth failure in a row: 256 s of backoff
    assert _seconds_until_due() == [256, 256]

    # OpenSearch is back; a new change arrives and its batch is written cleanly.
    after = create_patients(1)
    result = sync.drain()

    assert (result.applied_entities, result.released) == (3, 2)
    assert pending() == 0
    assert [indexed(p)["_version"] for p in during + after] == [1, 1, 1]


def test_after_an_outage_with_no_new_change_a_ping_makes_the_backed_off_rows_due(committed):
    during = create_patients(2)
    _fail_during_outage(attempts_before=6)

    # Still down: the ping fails, nothing is released.
    assert sync.drain(client=UNREACHABLE).released == 0
    assert _seconds_until_due() == [32, 32]
    # Back: nothing else is due, the ping answers, the rows are written now.
    result = sync.drain()
    assert (result.claimed, result.applied_entities, result.released) == (2, 2, 2)
    assert [indexed(p)["_version"] for p in during] == [1, 1]


def test_rows_whose_own_document_failed_keep_their_backoff_after_a_clean_write(committed):
    with unit_of_work() as session:
        outbox.record(session, "spaceship", "42")  # refused for what it is, not because OpenSearch was down
    assert sync.drain().failed_entities == 1
    with unit_of_work() as session:
        session.execute(update(OutboxEntry.__table__).values(available_at=func.now() + timedelta(seconds=60)))

    (patient_id,) = create_patients(1)
    result = sync.drain()

    assert (result.applied_entities, result.released) == (1, 0)
    assert indexed(patient_id)["_version"] == 1
    with unit_of_work() as session:
        (entry,) = session.scalars(select(OutboxEntry))
    assert (entry.entity_id, entry.transient, entry.attempts) == ("42", False, 1)
    assert _seconds_until_due() == [60]


def test_only_429_and_5xx_item_failures_count_as_opensearch_failures(committed, client):
    bad, good = create_patients(2)
    alias = names.alias("patients")
    outcome = writer.write(client, [writer.IndexOp(alias, bad, 1, {"id": bad, "unknown_field": 1}),
                                  writer.IndexOp(alias, good, 1, {"id": good, "name": "ok"})])
    assert (list(outcome.failed), outcome.transient) == ([bad], set())


def test_item_level_failures_are_backed_off_per_entity(committed, client):
    good, bad = create_patients(2)
    # Break one document on purpose: a concrete index that rejects it (strict mapping).
    with unit_of_work() as session:
        entries = outbox.claim_due(session, 10, bulk=False)
        assert {e.entity_id for e in entries} == {good, bad}
    alias = names.alias("patients")
    outcome = writer.write(
        client,
        [writer.IndexOp(alias, good, 1, {"id": good, "name": "ok"}), writer.IndexOp(alias, bad, 1, {"id": bad, "unknown_field": 1})],
    )
    assert list(outcome.failed) == [bad]
    assert outcome.failed[bad].startswith("strict_dynamic_mapping_exception")


def test_unknown_entity_types_are_backed_off_not_dropped(committed):
    with unit_of_work() as session:
        outbox.record(session, "spaceship", "42")
    result = sync.drain()
    assert (result.claimed, result.failed_entities) == (1, 1)
    with unit_of_work() as session:
        (entry,) = session.scalars(select(OutboxEntry))
    assert (entry.entity_type, entry.attempts, entry.last_error) == ("spaceship", 1, "unknown entity type")


def test_backlog_reports_count_and_age(committed):
    with unit_of_work() as session:
        assert outbox.backlog(session) == (0, None)
    create_patients(3)
    with unit_of_work() as session:
        count, age = outbox.backlog(session)
    assert count == 3
    assert 0 <= age < 60


def bulk_flags() -> list[tuple[str, bool]]:
    with unit_of_work() as session:
        return [tuple(r) for r in session.execute(select(OutboxEntry.entity_id, OutboxEntry.bulk).order_by(OutboxEntry.id))]


def test_a_bulk_writers_rows_are_marked_and_peoples_are_not(committed):
    (person,) = create_patients(1)
    sync.drain()
    with unit_of_work() as session:
        outbox.mark_bulk(session)
        importer = patient_service.create(session, patient_data()).id
    with unit_of_work() as session:
        outbox.mark_bulk(session)
        patient_service.delete(session, person)  # a delete's row (outbox.record) carries the mark too
    assert bulk_flags() == [(importer, True), (person, True)]
    with unit_of_work() as session:
        patient_service.update(session, importer, {"notes": "editado por alguém"})
    assert bulk_flags() == [(importer, True), (person, True), (importer, False)]


def test_a_persons_change_is_drained_before_a_backlog_recorded_earlier_and_searchable_at_once(committed):
    with unit_of_work() as session:
        outbox.mark_bulk(session)
        backlog = [patient_service.create(session, patient_data()).id for _ in range(30)]
    (person,) = create_patients(1)

    # A batch of 10, as if the import's 30 rows were the oldest of a long backlog.
    result = sync.drain(max_batches=1, batch_size=10)
    assert (result.claimed, result.applied_entities) == (1, 1)
    assert indexed(person) is not None and all(indexed(p) is None for p in backlog)
    # Refreshed by the drain: found by a search without waiting for the refresh interval.
    hits = get_client().search(index=names.alias("patients"), body={"query": {"ids": {"values": [person]}}})
    assert hits["hits"]["total"]["value"] == 1

    # Then the backlog, oldest first.
    result = sync.drain(max_batches=1, batch_size=10)
    assert result.claimed == 10
    assert [indexed(p) is not None for p in backlog] == [True] * 10 + [False] * 20
    sync.drain()
    assert pending() == 0 and all(indexed(p) is not None for p in backlog)
