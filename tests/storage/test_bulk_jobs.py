"""Bulk jobs in storage: up-front validation, target resolution, per-item results (partial failures,
skips, the owners' conflicts), audit rows per patient, export files, and re-runs that change nothing."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from api.schemas.patients import PatientSearch
from storage import indexed
from storage.audit.models import AuditEvent
from storage.audit.service import Actor
from storage.cars import service as car_service
from storage.cars.models import Car
from storage.errors import Invalid, NotFound
from storage.imports import visit_writer
from storage.jobs import repo as job_repo
from storage.jobs import service as job_service
from storage.jobs.models import BulkJobItem
from storage.messages.models import Message
from storage.outbox import OutboxEntry
from storage.patients import service as patient_service
from storage.patients.models import Patient
from storage.visits.models import ConfirmationAttempt, Visit
from tests.factories import patient_data, visit_content

TZ = ZoneInfo("America/Sao_Paulo")
ACTOR = Actor(user_id="00000000-0000-0000-0000-0000000000aa", role="operator", ip="10.0.0.1", request_id="req-1")
MISSING = "00000000-0000-0000-0000-000000000404"


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A local time `days` from today."""
    return datetime.combine(job_service.local_today() + timedelta(days=days), time(hour, minute), tzinfo=TZ)


def make_car(session, label: str, base: str = "AV CENTER 1") -> str:
    return car_service.get_or_create_by_source_key(session, f"{label}|{base}", {"label": label, "base": base}).id


def make_visits(session, *contents: dict) -> list[str]:
    ids = visit_writer.insert_many(session, list(contents), import_id=None)
    indexed.mark_changed(session, visits=ids, stale_patients=[c["patient_id"] for c in contents])
    return ids


def run(session, job_id: str, size: int = 2, patient_ids=None) -> str:
    """The worker's steps, in the test's transaction."""
    job_service.begin(session, job_id)
    job_service.store_targets(session, job_id, patient_ids)
    while job_service.process_batch(session, job_id, size).remaining:
        pass
    return job_service.finish(session, job_id)


def results(session, job_id: str) -> list[tuple]:
    rows = session.execute(
        select(BulkJobItem.item_id, BulkJobItem.outcome, BulkJobItem.code)
        .where(BulkJobItem.job_id == job_id).order_by(BulkJobItem.position)
    )
    return [tuple(r) for r in rows]


def counters(session, job_id: str) -> tuple:
    job = job_repo.get(session, job_id)
    session.refresh(job)
    return job.status, job.total, job.processed, job.succeeded, job.failed, job.skipped


def audits(session, job_id: str) -> list[tuple]:
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.details["visit_id"].astext, AuditEvent.actor_id)
        .where(AuditEvent.details["job_id"].astext == job_id).order_by(AuditEvent.id)
    )
    return [tuple(r) for r in rows]


@pytest.fixture
def world(db_session):
    """Two cars, three patients and their visits: tomorrow and the day after."""
    s = db_session
    car1, car2 = make_car(s, "CARRO 1"), make_car(s, "CARRO 2")
    ana = patient_service.create(s, patient_data(name="Ana Lima", tags=["idosa"])).id
    bia = patient_service.create(s, patient_data(name="Bia Souza")).id
    caio = patient_service.create(s, patient_data(name="Caio Gonçalves")).id
    v_ana, v_ana2, v_bia, v_caio, v_car2 = make_visits(
        s,
        visit_content(ana, car1, at(1, 6, 40)),
        visit_content(ana, car1, at(2, 6, 40)),
        visit_content(bia, car1, at(1, 7, 20)),
        visit_content(caio, car1, at(1, 8, 0), confirmation_status="confirmed", confirmation_channel="whatsapp"),
        visit_content(caio, car2, at(1, 7, 20)),
    )
    return dict(s=s, car1=car1, car2=car2, ana=ana, bia=bia, caio=caio, v_ana=v_ana, v_ana2=v_ana2, v_bia=v_bia,
                v_caio=v_caio, v_car2=v_car2)


# ------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("action", "params", "target", "code"),
    [
        ("delete_all", {}, {"visit_ids": ["x"]}, "invalid_action"),
        ("confirm", {"channel": "phone"}, {}, "target_required"),
        ("confirm", {"channel": "phone"}, {"visit_ids": ["x"], "search": {}}, "ambiguous_target"),
        ("confirm", {"channel": "phone"}, {"visit_ids": [" ", ""]}, "empty_visit_ids"),
        ("confirm", {"channel": "phone"}, {"search": {"visit_from": "2025-06-20", "visit_to": "2025-06-19"}},
         "invalid_visit_range"),
        ("confirm", {}, {"visit_ids": ["x"]}, "missing_channel"),
        ("confirm", {"channel": "pombo"}, {"visit_ids": ["x"]}, "invalid_channel"),
        ("confirm", {"channel": "phone", "outcome": "declined"}, {"visit_ids": ["x"]}, "invalid_params"),
        ("send_message", {"channel": "sms"}, {"visit_ids": ["x"]}, "missing_template"),
        ("send_message", {"template": "promo", "channel": "sms"}, {"visit_ids": ["x"]}, "invalid_template"),
        ("send_message", {"template": "reminder", "channel": "email"}, {"visit_ids": ["x"]}, "invalid_channel"),
        ("reschedule", {}, {"visit_ids": ["x"]}, "invalid_reschedule"),
        ("reschedule", {"date": "2099-01-01", "shift_minutes": 40}, {"visit_ids": ["x"]}, "invalid_reschedule"),
        ("reschedule", {"date": "amanhã"}, {"visit_ids": ["x"]}, "invalid_date"),
        ("reschedule", {"date": "2000-01-01"}, {"visit_ids": ["x"]}, "date_in_past"),
        ("reschedule", {"shift_minutes": 0}, {"visit_ids": ["x"]}, "invalid_shift"),
        ("reschedule", {"shift_minutes": "40"}, {"visit_ids": ["x"]}, "invalid_shift"),
        ("reschedule", {"shift_minutes": 20000}, {"visit_ids": ["x"]}, "invalid_shift"),
        ("move_car", {}, {"visit_ids": ["x"]}, "missing_car_id"),
        ("add_tags", {"tags": []}, {"visit_ids": ["x"]}, "missing_tags"),
        ("add_tags", {"tags": [" "]}, {"visit_ids": ["x"]}, "missing_tags"),
        ("remove_tags", {"tags": [1]}, {"visit_ids": ["x"]}, "invalid_tags"),
        ("add_tags", {"tags": ["x" * 61]}, {"visit_ids": ["x"]}, "invalid_tags"),
        ("export", {}, {"visit_ids": ["x"]}, "missing_format"),
        ("export", {"format": "pdf"}, {"visit_ids": ["x"]}, "invalid_format"),
        ("export", {"format": "csv", "rows": "cars"}, {"visit_ids": ["x"]}, "invalid_rows"),
    ],
)
def test_a_bad_request_is_refused_up_front_with_a_stable_code(db_session, action, params, target, code):
    with pytest.raises(Invalid) as error:
        job_service.create(db_session, action, params, actor=ACTOR, **target)
    assert error.value.code == code
    assert error.value.message  # pt-BR text for people


def test_too_many_targets_and_an_unknown_car_are_refused(db_session):
    with pytest.raises(Invalid) as error:
        job_service.create(db_session, "add_tags", {"tags": ["a"]}, actor=ACTOR,
                           visit_ids=[f"id-{i}" for i in range(job_service.MAX_TARGETS + 1)])
    assert (error.value.code, error.value.details["max_targets"]) == ("too_many_targets", 50_000)
    assert error.value.message == (
        "A seleção passa do limite de 50.000 itens por ação em lote. Refine a busca ou divida a lista."
    )
    with pytest.raises(NotFound) as missing:
        job_service.create(db_session, "move_car", {"car_id": MISSING}, actor=ACTOR, visit_ids=["x"])
    assert missing.value.code == "car_not_found"


def test_a_valid_request_is_stored_normalised_and_queued(db_session):
    job = job_service.create(
        db_session, "add_tags", {"tags": ["Diabético ", "diabético", "jejum"]}, actor=ACTOR,
        # The search as the API hands it over (PatientSearch normalises it).
        search=PatientSearch.model_validate(
            {"q": " maria ", "tag": "idosa", "visit_from": "2025-06-20", "confirmation_status": ["pending"],
             "recurring": True, "city": []}
        ).stored(),
    )
    assert (job.status, job.target, job.params, job.visit_ids, job.resolved, job.total) == (
        "queued", "patient_search", {"tags": ["diabético", "jejum"]}, None, False, None)
    assert job.search == {"q": "maria", "tag": ["idosa"], "visit_from": "2025-06-20",
                          "confirmation_status": ["pending"], "recurring": True}
    assert (job.actor_id, job.actor_role, job.actor_ip, job.request_id) == (ACTOR.user_id, "operator", "10.0.0.1",
                                                                            "req-1")
    export = job_service.create(db_session, "export", {"format": "xlsx"}, actor=ACTOR, visit_ids=["b", "a", "b"])
    assert (export.params, export.visit_ids, export.result_format) == (
        {"format": "xlsx", "rows": "visits"}, ["b", "a"], "xlsx")


# ------------------------------------------------------------------------------------ items


def test_tags_over_visit_ids_touch_each_patient_once_and_report_unknown_visits(world):
    s = world["s"]
    job = job_service.create(
        s, "add_tags", {"tags": ["idosa", "jejum"]}, actor=ACTOR,
        visit_ids=[world["v_ana"], MISSING, world["v_ana2"], world["v_bia"]],
    )
    outbox_before = s.scalar(select(func.count(OutboxEntry.id)))

    assert run(s, job.id) == "done"

    assert results(s, job.id) == [
        (world["ana"], "ok", None), (MISSING, "error", "visit_not_found"), (world["bia"], "ok", None),
    ]
    assert counters(s, job.id) == ("done", 3, 3, 2, 1, 0)
    tags = dict(s.execute(select(Patient.id, Patient.tags).where(Patient.id.in_([world["ana"], world["bia"]]))).all())
    assert tags == {world["ana"]: ["idosa", "jejum"], world["bia"]: ["idosa", "jejum"]}
    # Through the patient service: an outbox row per changed patient, a bulk writer's.
    assert s.scalar(select(func.count(OutboxEntry.id))) == outbox_before + 2
    assert s.scalar(select(func.count(OutboxEntry.id)).where(OutboxEntry.bulk)) == 2
    assert audits(s, job.id) == [("patient.bulk", world["ana"], None, ACTOR.user_id),
                                 ("patient.bulk", world["bia"], None, ACTOR.user_id)]
    item = s.scalars(select(BulkJobItem).where(BulkJobItem.job_id == job.id, BulkJobItem.item_id == MISSING)).one()
    assert (item.item_kind, item.patient_id, item.message) == ("visit", None, "Visita não encontrada.")


def test_removing_tags_skips_patients_without_them(world):
    s = world["s"]
    job = job_service.create(s, "remove_tags", {"tags": ["idosa"]}, actor=ACTOR,
                             visit_ids=[world["v_ana"], world["v_bia"]])
    run(s, job.id)
    assert results(s, job.id) == [(world["ana"], "ok", None), (world["bia"], "skipped", "tags_unchanged")]
    assert counters(s, job.id) == ("done", 2, 2, 1, 0, 1)
    assert s.get(Patient, world["ana"]).tags == []
    assert [a[1] for a in audits(s, job.id)] == [world["ana"]]


def test_move_car_reports_each_item_a_conflict_names_the_other_visit(world):
    s = world["s"]
    job = job_service.create(
        s, "move_car", {"car_id": world["car2"]}, actor=ACTOR,
        visit_ids=[world["v_ana"], MISSING, world["v_bia"], world["v_car2"]],
    )
    run(s, job.id)

    assert results(s, job.id) == [
        (world["v_ana"], "ok", None),
        (MISSING, "error", "visit_not_found"),
        # Bia at 07:20 collides with Caio's 07:20 visit already in CARRO 2.
        (world["v_bia"], "error", "visit_overlap_car"),
        (world["v_car2"], "skipped", "already_in_car"),
    ]
    assert counters(s, job.id) == ("done", 4, 4, 1, 2, 1)
    conflict = s.scalars(select(BulkJobItem).where(BulkJobItem.job_id == job.id,
                                                   BulkJobItem.item_id == world["v_bia"])).one()
    assert conflict.details == {"visit_id": world["v_car2"]}
    assert "CARRO 2" in conflict.message
    cars = dict(s.execute(select(Visit.id, Visit.car_id).where(Visit.id.in_([world["v_ana"], world["v_bia"]]))).all())
    assert cars == {world["v_ana"]: world["car2"], world["v_bia"]: world["car1"]}
    # One audit row for the one change, on its patient, naming the visit and the job.
    assert audits(s, job.id) == [("patient.bulk", world["ana"], world["v_ana"], ACTOR.user_id)]


def test_reschedule_to_a_date_keeps_local_times_and_records_the_car_warning(world):
    s = world["s"]
    s.get(Car, world["car1"]).daily_capacity = 1
    s.flush()
    day = job_service.local_today() + timedelta(days=5)
    job = job_service.create(s, "reschedule", {"date": day.isoformat()}, actor=ACTOR,
                             visit_ids=[world["v_ana"], world["v_bia"]])
    run(s, job.id)

    assert results(s, job.id) == [(world["v_ana"], "ok", None), (world["v_bia"], "ok", None)]
    starts = {v.id: (v.start_at.astimezone(TZ), v.end_at.astimezone(TZ), v.visit_date)
              for v in s.scalars(select(Visit).where(Visit.id.in_([world["v_ana"], world["v_bia"]])))}
    assert starts == {
        world["v_ana"]: (datetime.combine(day, time(6, 40), TZ), datetime.combine(day, time(7, 20), TZ), day),
        world["v_bia"]: (datetime.combine(day, time(7, 20), TZ), datetime.combine(day, time(8, 0), TZ), day),
    }
    first, second = s.scalars(select(BulkJobItem).where(BulkJobItem.job_id == job.id)
                              .order_by(BulkJobItem.position)).all()
    # Capacity 1: the second visit on that day is a warning kept on its item, never an error.
    assert first.details is None
    assert [w["code"] for w in second.details["warnings"]] == ["car_over_capacity"]


def test_reschedule_by_a_shift_goes_in_item_order_and_a_patient_conflict_names_the_other_visit(world):
    s = world["s"]
    job = job_service.create(s, "reschedule", {"shift_minutes": 40}, actor=ACTOR,
                             visit_ids=[world["v_car2"], world["v_caio"], world["v_bia"]])
    run(s, job.id)
    # Caio's CARRO 2 visit at 07:20 + 40 min lands on his own 08:00 visit; that one then moves to 08:40,
    # which frees CARRO 1 at 08:00 for Bia.
    assert results(s, job.id) == [
        (world["v_car2"], "error", "visit_overlap_patient"), (world["v_caio"], "ok", None), (world["v_bia"], "ok", None),
    ]
    conflict = s.scalars(select(BulkJobItem).where(BulkJobItem.job_id == job.id, BulkJobItem.position == 0)).one()
    assert conflict.details == {"visit_id": world["v_caio"]}
    starts = {v.id: v.start_at.astimezone(TZ) for v in s.scalars(select(Visit))}
    assert (starts[world["v_car2"]], starts[world["v_caio"]], starts[world["v_bia"]]) == (
        at(1, 7, 20), at(1, 8, 40), at(1, 8, 0))


def test_confirm_records_a_bulk_attempt_skips_confirmed_and_refuses_cancelled(world):
    s = world["s"]
    s.execute(Visit.__table__.update().where(Visit.id == world["v_ana2"]).values(status="cancelled"))
    job = job_service.create(s, "confirm", {"channel": "phone"}, actor=ACTOR,
                             visit_ids=[world["v_ana"], world["v_caio"], world["v_ana2"]])
    run(s, job.id)

    assert results(s, job.id) == [
        (world["v_ana"], "ok", None), (world["v_caio"], "skipped", "already_confirmed"),
        (world["v_ana2"], "error", "visit_not_scheduled"),
    ]
    attempts = s.execute(select(ConfirmationAttempt.visit_id, ConfirmationAttempt.channel, ConfirmationAttempt.outcome,
                                ConfirmationAttempt.source, ConfirmationAttempt.actor_id)).all()
    assert [tuple(a) for a in attempts] == [(world["v_ana"], "phone", "confirmed", "bulk", ACTOR.user_id)]
    visit = s.get(Visit, world["v_ana"])
    s.refresh(visit)
    assert (visit.confirmation_status, visit.confirmation_channel) == ("confirmed", "phone")


def test_send_message_queues_messages_and_reports_opted_out_patients(world):
    s = world["s"]
    s.execute(Patient.__table__.update().where(Patient.id == world["bia"]).values(opted_out_at=func.now()))
    job = job_service.create(s, "send_message", {"template": "confirmation_request", "channel": "sms"}, actor=ACTOR,
                             visit_ids=[world["v_ana"], world["v_bia"]])
    job_service.begin(s, job.id)
    job_service.store_targets(s, job.id)
    batch = job_service.process_batch(s, job.id, 10)

    message = s.scalars(select(Message)).one()
    assert (message.visit_id, message.reason, message.status, message.actor_id) == (
        world["v_ana"], "bulk", "queued", ACTOR.user_id)
    assert batch.message_ids == [message.id]
    assert results(s, job.id) == [(world["v_ana"], "ok", None), (world["v_bia"], "error", "patient_opted_out")]
    item = s.scalars(select(BulkJobItem).where(BulkJobItem.job_id == job.id).order_by(BulkJobItem.position)).first()
    assert item.details == {"message_id": message.id}


def test_a_rerun_takes_only_pending_items(world):
    """A worker that died after its first batch committed: the re-run does the rest, and nothing twice."""
    s = world["s"]
    job = job_service.create(s, "add_tags", {"tags": ["jejum"]}, actor=ACTOR,
                             visit_ids=[world["v_ana"], world["v_bia"], world["v_caio"]])
    job_service.begin(s, job.id)
    job_service.store_targets(s, job.id)
    assert job_service.process_batch(s, job.id, 1).processed == 1
    # The crash: a new run begins again and stores targets again (a no-op once resolved).
    job_service.begin(s, job.id)
    assert job_service.store_targets(s, job.id) == 3
    assert run(s, job.id) == "done"
    assert run(s, job.id) == "done"

    assert counters(s, job.id) == ("done", 3, 3, 3, 0, 0)
    assert s.scalar(select(func.count()).select_from(BulkJobItem).where(BulkJobItem.job_id == job.id)) == 3
    assert len(audits(s, job.id)) == 3
    assert job_repo.get(s, job.id).attempts == 3  # a finished job is not run again


def test_visits_of_a_search_follow_the_documented_rule(world):
    """Patients from the index; their live visits from visit_from (default today) to visit_to, of the
    search's cars and confirmation statuses."""
    s = world["s"]
    make_visits(
        s,
        visit_content(world["bia"], world["car1"], at(-1, 7, 20)),  # yesterday: before the default start
        visit_content(world["bia"], world["car2"], at(3, 9, 0), status="cancelled"),
        visit_content(world["bia"], world["car2"], at(4, 9, 0), missing_from_latest_export=True),
    )
    patients = [world["bia"], world["ana"], world["caio"]]

    def targets(**search) -> list[str]:
        job = job_service.create(s, "confirm", {"channel": "phone"}, actor=ACTOR, search=search)
        job_service.begin(s, job.id)
        job_service.store_targets(s, job.id, patients)
        return [item_id for item_id, _, _ in results(s, job.id)]

    # In start order: tomorrow 06:40 Ana, 07:20 Bia and Caio (CARRO 2), 08:00 Caio; then Ana's second day.
    everything = [world["v_ana"], world["v_bia"], world["v_car2"], world["v_caio"], world["v_ana2"]]
    assert sorted(targets()) == sorted(everything)
    assert targets()[0] == world["v_ana"] and targets()[-1] == world["v_ana2"]
    assert sorted(targets(visit_to=(job_service.local_today() + timedelta(days=1)).isoformat())) == sorted(
        everything[:4])
    assert targets(car=["CARRO 2"]) == [world["v_car2"]]
    assert targets(confirmation_status=["confirmed"]) == [world["v_caio"]]
    assert len(targets(visit_from=(job_service.local_today() - timedelta(days=1)).isoformat())) == 6


def test_a_search_over_the_cap_fails_the_job(world, monkeypatch):
    s = world["s"]
    monkeypatch.setattr(job_service, "MAX_TARGETS", 2)
    job = job_service.create(s, "add_tags", {"tags": ["x"]}, actor=ACTOR, search={"tag": ["idosa"]})
    job_service.begin(s, job.id)
    job_service.store_targets(s, job.id, [world["ana"], world["bia"], world["caio"]])
    stored = job_repo.get(s, job.id)
    assert (stored.status, stored.failure_code, stored.resolved) == ("failed", "too_many_targets", False)
    assert results(s, job.id) == []


# ------------------------------------------------------------------------------------ exports


def test_a_csv_export_of_visits_opens_in_excel_pt_br(world):
    s = world["s"]
    s.execute(Patient.__table__.update().where(Patient.id == world["bia"]).values(name="=HYPERLINK(\"x\")"))
    job = job_service.create(s, "export", {"format": "csv"}, actor=ACTOR,
                             visit_ids=[world["v_bia"], MISSING, world["v_ana"]])
    assert run(s, job.id) == "done"
    filename, fmt, data = job_service.result_file(s, job.id)

    assert (fmt, filename) == ("csv", f"coleta-visitas-{job_service.local_today().isoformat()}-{job.id[:8]}.csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    ana = s.get(Patient, world["ana"])
    tomorrow = (job_service.local_today() + timedelta(days=1)).strftime("%d/%m/%Y")
    assert rows[0][:8] == ["Data", "Início", "Fim", "Carro", "Base", "Paciente", "CPF", "Telefones"]
    assert [r[5] for r in rows[1:]] == ["'=HYPERLINK(\"x\")", "Ana Lima"]  # item order; the formula defused
    assert rows[2] == [
        tomorrow, "06:40", "07:20", "CARRO 1", "AV CENTER 1", "Ana Lima",
        f"{ana.cpf[:3]}.{ana.cpf[3:6]}.{ana.cpf[6:9]}-{ana.cpf[9:]}",
        f"({ana.phones[0]['number'][:2]}) {ana.phones[0]['number'][2:7]}-{ana.phones[0]['number'][7:]}",
        "Rua das Flores, 10", "Centro", "São Paulo", "SP", "01234-567", "1009, 1004",
        "VITAMINA D, 25 HIDROXI, TRIGLICERIDEOS", "AMIL", "Agendada", "Pendente", "", "",
    ]
    assert data.count(b"\r\n") == 3
    assert results(s, job.id)[1] == (MISSING, "error", "visit_not_found")
    # Every exported visit is an audited read of its patient.
    assert audits(s, job.id) == [("patient.export", world["bia"], world["v_bia"], ACTOR.user_id),
                                 ("patient.export", world["ana"], world["v_ana"], ACTOR.user_id)]


def test_an_xlsx_export_of_the_patients_of_a_search(world):
    s = world["s"]
    job = job_service.create(s, "export", {"format": "xlsx"}, actor=ACTOR, search={"tag": ["idosa"]})
    assert run(s, job.id, patient_ids=[world["caio"], world["ana"]]) == "done"
    filename, fmt, data = job_service.result_file(s, job.id)

    assert filename.startswith("coleta-pacientes-") and filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Nome", "CPF", "Nascimento", "Telefones", "E-mail", "Endereço", "Bairro", "Cidade", "UF",
                       "CEP", "Convênio", "Carteirinha", "Etiquetas", "Prioridade", "Próxima visita"]
    caio, ana = s.get(Patient, world["caio"]), s.get(Patient, world["ana"])
    assert [r[0] for r in rows[1:]] == ["Caio Gonçalves", "Ana Lima"]
    assert rows[2][2].date() == ana.birth_date  # a real date cell
    assert rows[2][5:] == ["Rua das Flores, " + ana.number, "Centro", "São Paulo", "SP", "01234-567", "AMIL", None,
                           "idosa", "Normal", datetime.combine(job_service.local_today() + timedelta(days=1), time())]
    assert rows[1][12] is None and caio.tags == []
    assert audits(s, job.id) == [("patient.export", world["caio"], None, ACTOR.user_id),
                                 ("patient.export", world["ana"], None, ACTOR.user_id)]


def test_the_file_of_an_export_is_only_there_when_done(world, monkeypatch):
    s = world["s"]
    from storage.errors import Conflict

    job = job_service.create(s, "export", {"format": "csv"}, actor=ACTOR, visit_ids=[world["v_ana"]])
    with pytest.raises(Conflict) as running:
        job_service.result_file(s, job.id)
    assert running.value.code == "export_not_ready"
    monkeypatch.setattr(job_service, "MAX_EXPORT_BYTES", 100)
    assert run(s, job.id) == "failed"
    assert job_repo.get(s, job.id).failure_code == "export_too_large"
    with pytest.raises(Conflict) as failed:
        job_service.result_file(s, job.id)
    assert failed.value.code == "export_failed"
    tags = job_service.create(s, "add_tags", {"tags": ["x"]}, actor=ACTOR, visit_ids=[world["v_ana"]])
    with pytest.raises(Conflict) as not_export:
        job_service.result_file(s, tags.id)
    assert not_export.value.code == "not_an_export"
    with pytest.raises(NotFound) as missing:
        job_service.result_file(s, MISSING)
    assert (missing.value.code, missing.value.message) == ("bulk_job_not_found", "Ação em lote não encontrada.")


def test_the_report_pages_item_results(world):
    s = world["s"]
    job = job_service.create(s, "add_tags", {"tags": ["jejum"]}, actor=ACTOR,
                             visit_ids=[MISSING, world["v_ana"], "nope", world["v_bia"]])
    run(s, job.id)
    report = job_service.report(s, job.id, limit=2)
    assert (report["total"], report["processed"], report["succeeded"], report["failed"], report["progress"]) == (
        4, 4, 2, 2, 1.0)
    assert [i["item_id"] for i in report["items"]] == [MISSING, world["ana"]]
    assert isinstance(report["next_cursor"], str)
    errors = job_service.report(s, job.id, outcome="error")
    assert [(i["item_id"], i["code"], i["message"]) for i in errors["items"]] == [
        (MISSING, "visit_not_found", "Visita não encontrada."), ("nope", "visit_not_found", "Visita não encontrada.")]
    assert errors["next_cursor"] is None
    assert job_service.report(s, job.id, cursor=report["next_cursor"])["items"][0]["item_id"] == "nope"
