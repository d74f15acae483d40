"""Bulk jobs run by the worker code on committed data: a search resolved through the index, a re-run after
a crash that changes nothing, and a confirmation over a search matching thousands of visits run by a real
Celery worker, with the index reflecting every change after the drain."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from indexing import names, sync
from indexing.client import get_client
from indexing.queries import bulk_targets
from indexing.queries.patients import PatientQuery, search
from storage import indexed
from storage import outbox
from storage.audit.models import AuditEvent
from storage.audit.service import Actor
from storage.cars import service as car_service
from storage.db import unit_of_work
from storage.imports import visit_writer
from storage.jobs import service as job_service
from storage.jobs.models import BulkJob, BulkJobItem
from storage.messages.models import Message
from storage.patients import service as patient_service
from storage.patients.models import Patient
from storage.visits.models import ConfirmationAttempt, Visit
from tests.factories import patient_data, visit_content
from tests.fixtures import wait_until
from tests.standins.fixtures import configure_messaging, twilio_standin, whatsapp_standin  # noqa: F401
from workers import enqueue
from workers.tasks.jobs import run_job

pytestmark = pytest.mark.usefixtures("committed")

TZ = ZoneInfo("America/Sao_Paulo")
ACTOR = Actor(user_id="00000000-0000-0000-0000-0000000000aa", role="operator")


def at(days: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(job_service.local_today() + timedelta(days=days), time(hour, minute), tzinfo=TZ)


def drain() -> None:
    """Everything the outbox holds into the index, searchable now."""
    sync.drain(max_batches=10_000)
    get_client().indices.refresh(index=f"{names.alias('patients')},{names.alias('visits')}")


def create_job(action: str, params: dict, **target) -> str:
    with unit_of_work() as session:
        return job_service.create(session, action, params, actor=ACTOR, **target).id


def job_state(job_id: str) -> tuple:
    with unit_of_work() as session:
        job = session.get(BulkJob, job_id)
        return job.status, job.total, job.processed, job.succeeded, job.failed, job.skipped


def item_results(job_id: str) -> list[tuple]:
    with unit_of_work() as session:
        rows = session.execute(
            select(BulkJobItem.item_id, BulkJobItem.outcome, BulkJobItem.code)
            .where(BulkJobItem.job_id == job_id).order_by(BulkJobItem.position)
        )
        return [tuple(r) for r in rows]


def audit_count(job_id: str) -> int:
    with unit_of_work() as session:
        return session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.details["job_id"].astext == job_id))


def test_tags_over_a_search_and_a_rerun_after_a_crash_changes_nothing():
    with unit_of_work() as session:
        car = car_service.get_or_create_by_source_key(session, "379|CARRO 1", {"label": "CARRO 1"}).id
        diabetic = [patient_service.create(session, patient_data(tags=["diabetes"])).id for _ in range(5)]
        others = [patient_service.create(session, patient_data(tags=["gestante"])).id for _ in range(3)]
        ids = visit_writer.insert_many(
            session, [visit_content(p, car, at(1, 6, 40) + timedelta(minutes=40 * i)) for i, p in enumerate(diabetic)],
            import_id=None)
        indexed.mark_changed(session, visits=ids, stale_patients=diabetic)
    drain()

    job_id = create_job("add_tags", {"tags": ["jejum"]}, search={"tag": ["diabetes"]})
    # A first run that died after its first committed batch (the worker was killed).
    with unit_of_work() as session:
        job_service.begin(session, job_id)
    matched = bulk_targets.patient_ids(get_client(), {"tag": ["diabetes"]}, limit=100, page_size=2)
    assert sorted(matched) == sorted(diabetic)
    with unit_of_work() as session:
        job_service.store_targets(session, job_id, matched)
    with unit_of_work() as session:
        assert job_service.process_batch(session, job_id, 2).processed == 2

    assert run_job(job_id, batch_size=2) == "done"
    first = (job_state(job_id), item_results(job_id), audit_count(job_id))
    assert run_job(job_id, batch_size=2) == "done"

    assert (job_state(job_id), item_results(job_id), audit_count(job_id)) == first
    assert first[0] == ("done", 5, 5, 5, 0, 0)
    assert [r[0] for r in first[1]] == matched and {r[1] for r in first[1]} == {"ok"}
    assert first[2] == 5
    with unit_of_work() as session:
        tags = dict(session.execute(select(Patient.id, Patient.tags)).all())
    assert {p: tags[p] for p in diabetic} == {p: ["diabetes", "jejum"] for p in diabetic}
    assert {p: tags[p] for p in others} == {p: ["gestante"] for p in others}

    drain()
    found = search(get_client(), PatientQuery(filters={"tag": ["jejum"]}, page_size=100))
    assert sorted(item["id"] for item in found.items) == sorted(diabetic)


def test_a_search_job_resolves_visits_through_the_index_in_the_worker_code():
    with unit_of_work() as session:
        car = car_service.get_or_create_by_source_key(session, "379|CARRO 1", {"label": "CARRO 1"}).id
        ana = patient_service.create(session, patient_data(name="Ana Lima", tags=["lote"])).id
        bia = patient_service.create(session, patient_data(name="Bia Souza")).id
        ids = visit_writer.insert_many(session, [
            visit_content(ana, car, at(1, 6, 40)), visit_content(ana, car, at(9, 6, 40)),
            visit_content(bia, car, at(1, 7, 20)),
        ], import_id=None)
        indexed.mark_changed(session, visits=ids, stale_patients=[ana, bia])
    drain()

    job_id = create_job("export", {"format": "csv", "rows": "visits"},
                        search={"tag": ["lote"], "visit_to": (job_service.local_today() + timedelta(days=2)).isoformat()})
    assert run_job(job_id) == "done"
    assert item_results(job_id) == [(ids[0], "ok", None)]


def make_many(patients: int, tagged: int) -> dict:
    """`patients` patients (the first `tagged` tagged `lote`), each with a visit tomorrow and the day after
    (5 cars, 40-minute slots), plus a visit in 5 days for every third tagged patient; committed and indexed."""
    with unit_of_work() as session:
        cars = [car_service.get_or_create_by_source_key(session, f"37{i}|CARRO {i}", {"label": f"CARRO {i}"}).id
                for i in range(1, 6)]
        ids = [patient_service.create(session, patient_data(cpf=None, tags=["lote"] if n < tagged else [])).id
               for n in range(patients)]
        contents = []
        for n, patient_id in enumerate(ids):
            slot = timedelta(minutes=40 * (n // 5 % 20))  # 06:40 to 19:20: the same local day
            for day in (1, 2):
                contents.append(visit_content(patient_id, cars[n % 5], at(day, 6, 40) + slot))
            if n < tagged and n % 3 == 0:
                contents.append(visit_content(patient_id, cars[n % 5], at(5, 6, 40) + slot))
        visit_ids = visit_writer.insert_many(session, contents, import_id=None)
        indexed.mark_changed(session, visits=visit_ids, stale_patients=ids)
    drain()
    return {"patients": ids, "cars": cars}


def test_confirm_over_a_search_matching_thousands_of_visits_with_a_real_worker(celery_worker):
    world = make_many(patients=1200, tagged=1000)
    tagged = world["patients"][:1000]
    window = (job_service.local_today() + timedelta(days=1), job_service.local_today() + timedelta(days=2))
    in_window = "patient_id = ANY(:tagged) AND visit_date BETWEEN :first AND :last"
    params = {"tagged": tagged, "first": window[0], "last": window[1]}
    with unit_of_work() as session:
        # 100 visits in the window already confirmed (skipped), 50 cancelled (not targets by the rule).
        changed = session.execute(text(
            "UPDATE visits SET confirmation_status = 'confirmed', confirmation_channel = 'whatsapp', "
            f"row_version = row_version + 1 WHERE id IN (SELECT id FROM visits WHERE {in_window} ORDER BY id LIMIT 100) "
            "RETURNING id, patient_id"), params).all()
        changed += session.execute(text(
            "UPDATE visits SET status = 'cancelled', row_version = row_version + 1 WHERE id IN (SELECT id FROM visits "
            f"WHERE {in_window} AND confirmation_status = 'pending' ORDER BY id DESC LIMIT 50) RETURNING id, patient_id"),
            params).all()
        assert len(changed) == 150
        indexed.mark_changed(session, visits=[v for v, _ in changed], stale_patients=[p for _, p in changed])
        total_visits = session.scalar(select(func.count(Visit.id)))
        assert total_visits == 1200 * 2 + 334
        pending_outside = session.scalar(text(
            "SELECT count(*) FROM visits WHERE confirmation_status = 'pending' AND NOT (" + in_window + ")"), params)
    drain()

    job_id = create_job(
        "confirm", {"channel": "phone"},
        search={"tag": ["lote"], "visit_from": window[0].isoformat(), "visit_to": window[1].isoformat()},
    )
    enqueue.enqueue_bulk(job_id)
    state = wait_until(lambda: (lambda s: s if s[0] in ("done", "failed") else None)(job_state(job_id)),
                       timeout=240, interval=0.5)

    assert state == ("done", 1950, 1950, 1850, 0, 100)
    with unit_of_work() as session:
        attempts = session.execute(
            select(ConfirmationAttempt.source, ConfirmationAttempt.channel, func.count())
            .group_by(ConfirmationAttempt.source, ConfirmationAttempt.channel)
        ).all()
        assert [tuple(a) for a in attempts] == [("bulk", "phone", 1850)]
        confirmed = session.scalar(select(func.count(Visit.id)).where(Visit.confirmation_status == "confirmed"))
        assert confirmed == 1950
        assert session.scalar(select(func.count(Visit.id)).where(Visit.confirmation_status == "pending")) == (
            pending_outside + 50)
        # One audit row per visit confirmed, on its patient.
        audited = session.execute(
            select(AuditEvent.entity_id, AuditEvent.details["visit_id"].astext)
            .where(AuditEvent.details["job_id"].astext == job_id, AuditEvent.action == "patient.bulk")
        ).all()
        confirmed_by_job = session.execute(select(ConfirmationAttempt.patient_id, ConfirmationAttempt.visit_id)).all()
        assert len(audited) == 1850
        assert sorted(tuple(a) for a in audited) == sorted(tuple(c) for c in confirmed_by_job)

    # The worker nudged the drain as batches landed; once the outbox is empty the index has every change.
    def drained() -> bool:
        with unit_of_work() as session:
            return outbox.backlog(session)[0] == 0

    assert wait_until(drained, timeout=120, interval=0.5)
    client = get_client()
    client.indices.refresh(index=f"{names.alias('patients')},{names.alias('visits')}")
    visits_index = names.alias("visits")
    assert client.count(index=visits_index, body={"query": {"term": {"confirmation_status": "confirmed"}}})[
        "count"] == 1950
    assert client.count(index=visits_index, body={"query": {"term": {"confirmation_channel": "phone"}}})[
        "count"] == 1850
    # Tagged patients still pending are exactly those with a visit in 5 days (every third one).
    still_pending = search(client, PatientQuery(filters={"tag": ["lote"], "confirmation_status": ["pending"]},
                                                page_size=1000))
    assert still_pending.total == 334
    assert {item["id"] for item in still_pending.items} == {p for n, p in enumerate(tagged) if n % 3 == 0}


def test_the_sweep_requeues_stalled_jobs_and_gives_up_after_too_many_runs():
    from workers.tasks.jobs import BULK_MAX_RUNS, resume_stalled_jobs

    lost = create_job("add_tags", {"tags": ["x"]}, visit_ids=["a"])
    hopeless = create_job("add_tags", {"tags": ["x"]}, visit_ids=["b"])
    finished = create_job("add_tags", {"tags": ["x"]}, visit_ids=["c"])
    with unit_of_work() as session:
        session.get(BulkJob, hopeless).attempts = BULK_MAX_RUNS
    assert run_job(finished) == "done"
    with unit_of_work() as session:
        session.execute(text("UPDATE bulk_jobs SET updated_at = now() - interval '11 minutes'"))

    assert resume_stalled_jobs() == 1
    assert job_state(lost)[0] == "queued"
    with unit_of_work() as session:
        gave_up = session.get(BulkJob, hopeless)
        assert (gave_up.status, gave_up.failure_code) == ("failed", "stalled")
    assert job_state(finished)[0] == "done"


@pytest.fixture
def sms_standin(configure_messaging, twilio_standin):
    """SMS through the real Twilio adapter against its local stand-in (set before the worker starts)."""
    configure_messaging()
    return twilio_standin


def test_send_message_queues_each_message_after_its_batch_and_the_worker_sends_it(sms_standin, celery_worker):
    with unit_of_work() as session:
        car = car_service.get_or_create_by_source_key(session, "379|CARRO 1", {"label": "CARRO 1"}).id
        ana = patient_service.create(session, patient_data(name="Ana Lima", phones=["(21) 98765-4321"])).id
        bia = patient_service.create(session, patient_data(name="Bia Souza", phones=["(21) 98765-1234"])).id
        session.get(Patient, bia).opted_out_at = func.now()
        visits = visit_writer.insert_many(session, [visit_content(ana, car, at(1, 6, 40)),
                                                     visit_content(bia, car, at(1, 7, 20))], import_id=None)
    job_id = create_job("send_message", {"template": "confirmation_request", "channel": "sms"}, visit_ids=visits)
    enqueue.enqueue_bulk(job_id)

    state = wait_until(lambda: (lambda s: s if s[0] in ("done", "failed") else None)(job_state(job_id)), timeout=60)
    assert state == ("done", 2, 2, 1, 1, 0)
    assert item_results(job_id) == [(visits[0], "ok", None), (visits[1], "error", "patient_opted_out")]

    def sent():
        with unit_of_work() as session:
            return session.scalars(select(Message).where(Message.status == "sent")).all()

    [message] = wait_until(sent, timeout=30, interval=0.2)
    assert (message.visit_id, message.reason, message.template, message.actor_id) == (
        visits[0], "bulk", "confirmation_request", ACTOR.user_id)
    [form] = sms_standin.sent()
    assert (form["To"], form["Body"]) == ("+5521987654321", message.body)
    assert form["Body"].startswith("Olá, Ana! Sua coleta domiciliar está agendada para")


def test_a_worker_killed_mid_job_is_resumed_by_the_sweep_and_does_no_item_twice(tmp_path):
    import signal

    from tests.workers.worker_process import FAST_RESUME, Worker
    from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app

    make_many(patients=1000, tagged=0)
    with unit_of_work() as session:
        visit_ids = list(session.scalars(select(Visit.id).order_by(Visit.start_at, Visit.id)))
    assert len(visit_ids) == 2000
    celery_app.control.purge()
    job_id = create_job("confirm", {"channel": "phone"}, visit_ids=visit_ids)

    first = Worker(DEFAULT_QUEUE, FAST_RESUME)
    second = None
    try:
        enqueue.enqueue_bulk(job_id)
        assert wait_until(lambda: job_state(job_id)[2] >= 200, timeout=120, interval=0.02)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        killed_at = job_state(job_id)
        assert (killed_at[0], killed_at[2] < 2000) == ("running", True)

        # A worker with beat, as after a restart: the sweep finds the heartbeat stopped and queues the job again.
        second = Worker(f"{SYNC_QUEUE},{DEFAULT_QUEUE}", FAST_RESUME, beat_schedule=tmp_path / "beat-schedule")
        state = wait_until(lambda: (lambda s: s if s[0] in ("done", "failed") else None)(job_state(job_id)),
                           timeout=180, interval=0.2)
        assert state, "the killed job was not resumed"
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()

    assert state == ("done", 2000, 2000, 2000, 0, 0)
    with unit_of_work() as session:
        # Each visit confirmed once: one attempt and one audit row per item, none repeated by the re-run.
        assert session.scalar(select(func.count(ConfirmationAttempt.id))) == 2000
        assert session.scalar(select(func.count(func.distinct(ConfirmationAttempt.visit_id)))) == 2000
        assert session.scalar(select(func.count(Visit.id)).where(Visit.confirmation_status == "confirmed")) == 2000
    assert audit_count(job_id) == 2000
