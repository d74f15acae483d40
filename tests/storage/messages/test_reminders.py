"""The daily reminder's selection and its once-only rule (also under two concurrent runs)."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from storage.db import get_sessionmaker, unit_of_work
from storage.messages import service
from storage.messages.models import Message
from storage.patients.models import Patient
from tests.storage.messages.helpers import at, make_patient, make_visit, messages_of, tomorrow


def test_the_reminder_selects_tomorrows_unconfirmed_visits_of_reachable_patients(db_session):
    day = tomorrow()
    whatsapp_fan = make_patient(db_session, name="Ana Souza", phones=["(11) 98765-4321"])
    sms_fan = make_patient(db_session, name="Bruno Lima", phones=["(11) 3456-7890", "(11) 97777-1111"],
                           preferred_channel="sms")
    phone_caller = make_patient(db_session, name="Carla Dias", phones=["(11) 96666-2222"], preferred_channel="phone")
    landline = make_patient(db_session, phones=["(11) 3456-0000"])
    opted = make_patient(db_session)
    busy = make_patient(db_session)

    selected = [
        make_visit(db_session, whatsapp_fan, at(day, 7, 20), street="Rua A", number="1"),
        make_visit(db_session, sms_fan, at(day, 6, 40), street=None, number=None),
        make_visit(db_session, phone_caller, at(day, 10)),
    ]
    make_visit(db_session, landline, at(day, 8))
    make_visit(db_session, opted, at(day, 8, 40))
    make_visit(db_session, busy, at(day, 9), confirmation_status="confirmed")
    make_visit(db_session, busy, at(day, 11, 20), confirmation_status="declined")
    make_visit(db_session, busy, at(day, 11, 40), status="cancelled")
    make_visit(db_session, busy, at(day, 12), missing_from_latest_export=True)
    make_visit(db_session, busy, at(day + timedelta(days=1), 7))
    make_visit(db_session, busy, at(day - timedelta(days=1), 7))
    db_session.get(Patient, opted.id).opted_out_at = at(day, 0)
    db_session.flush()

    run = service.request_reminders(db_session, day, default_channel="whatsapp")

    assert (run.opted_out, run.no_mobile_phone, run.already_reminded, run.invalid) == (1, 1, 0, 0)
    sent = {m.visit_id: m for m in messages_of(db_session)}
    assert sorted(run.message_ids) == sorted(m.id for m in sent.values())
    assert set(sent) == {v.id for v in selected}
    dm = day.strftime("%d/%m")
    rows = [(m.channel, m.to_phone, m.template, m.reason, m.status, m.dedupe_key, m.actor_id, m.body)
            for m in (sent[v.id] for v in selected)]
    assert rows == [
        ("whatsapp", "+5511987654321", "confirmation_request", "reminder", "queued", f"reminder:{selected[0].id}", None,
         f"Olá, Ana! Sua coleta domiciliar está agendada para {dm} às 07:20, em Rua A, 1. "
         "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens."),
        ("sms", "+5511977771111", "confirmation_request", "reminder", "queued", f"reminder:{selected[1].id}", None,
         f"Olá, Bruno! Sua coleta domiciliar está agendada para {dm} às 06:40, em seu endereço cadastrado. "
         "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens."),
        ("whatsapp", "+5511966662222", "confirmation_request", "reminder", "queued", f"reminder:{selected[2].id}",
         None, f"Olá, Carla! Sua coleta domiciliar está agendada para {dm} às 10:00, em Rua das Flores, 123. "
         "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens."),
    ]


def test_running_the_reminder_twice_sends_one_message_per_visit(db_session):
    day = tomorrow()
    visits = [make_visit(db_session, make_patient(db_session), at(day, 7 + i)) for i in range(3)]

    first = service.request_reminders(db_session, day)
    second = service.request_reminders(db_session, day)

    assert (len(first.message_ids), len(second.message_ids)) == (3, 0)
    assert sorted(m.visit_id for m in messages_of(db_session)) == sorted(v.id for v in visits)
    # A manual message to the same visit is not a reminder and does not stop it (nor is stopped by it).
    manual = service.request(db_session, template="reminder", channel="sms", visit_id=visits[0].id, actor_id=None)
    assert manual.dedupe_key is None
    assert len(service.request_reminders(db_session, day).message_ids) == 0


def test_two_concurrent_runs_write_each_reminder_once(committed):
    day = tomorrow()
    with unit_of_work() as session:
        visit_ids = [make_visit(session, make_patient(session), at(day, 7 + i)).id for i in range(4)]

    first = get_sessionmaker()()
    try:
        ran_first = service.request_reminders(first, day)  # rows written, not committed yet
        outcome: dict = {}

        def second_run() -> None:
            with unit_of_work() as second:
                outcome["run"] = service.request_reminders(second, day)

        thread = threading.Thread(target=second_run)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "the second run must wait on the first one's uncommitted reminders"
        first.commit()
        thread.join(timeout=10)
        assert not thread.is_alive()
    finally:
        first.close()

    assert len(ran_first.message_ids) == 4
    assert (outcome["run"].message_ids, outcome["run"].already_reminded) == ([], 4)
    with unit_of_work() as session:
        keys = sorted(session.scalars(select(Message.dedupe_key)))
    assert keys == sorted(f"reminder:{visit_id}" for visit_id in visit_ids)
