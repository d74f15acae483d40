"""The full scan: fills the queue from the whole registry, is idempotent, never brings back a decided pair."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.audit import service as audit_service
from storage.db import unit_of_work
from storage.duplicates import scan
from storage.duplicates import service as duplicate_service
from storage.duplicates.models import DuplicatePair, NameKeyFrequency, PatientMatchKeys
from storage.patients import service as patient_service
from workers.__main__ import main as cli

ACTOR = audit_service.Actor(user_id=None, role="system")


def _pairs() -> list[tuple]:
    with unit_of_work() as session:
        rows = session.execute(select(DuplicatePair.patient_a_id, DuplicatePair.patient_b_id, DuplicatePair.status,
                                      DuplicatePair.found_by).order_by(DuplicatePair.patient_a_id)).all()
    return [tuple(r) for r in rows]


def test_scan_finds_duplicates_once_and_leaves_decided_pairs_alone(committed):
    with unit_of_work() as session:
        jose = patient_service.create(session, {"name": "JOSÉ DA SILVA", "birth_date": "1970-01-01",
                                                "phones": ["21 98111-2222"]}).id
        jose_again = patient_service.create(session, {"name": "Jose da Silva", "birth_date": "1970-01-01"}).id
        ana = patient_service.create(session, {"name": "Ana Paula Tavares", "birth_date": "1990-02-03"}).id
        ana_again = patient_service.create(session, {"name": "Ana Paula Tavraes", "birth_date": "1990-03-02"}).id
        patient_service.create(session, {"name": "Maria da Silva", "birth_date": "1970-01-01"})
        patient_service.create(session, {"name": "Maria da Silva", "birth_date": "1981-07-07"})

    report = scan.scan()

    expected = sorted([(*sorted((jose, jose_again)), "pending", "scan"), (*sorted((ana, ana_again)), "pending", "scan")])
    assert _pairs() == expected
    assert (report.patients, report.review + report.auto, report.skipped_blocks) == (6, 2, 0)
    with unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(PatientMatchKeys)) == 6
        assert session.get(NameKeyFrequency, ("total", "")).count == 6
        assert session.get(NameKeyFrequency, ("given_name", "MARIA")).count == 2

    assert scan.scan().review + scan.scan().auto == 2
    assert _pairs() == expected

    with unit_of_work() as session:
        pair = session.scalars(select(DuplicatePair).where(DuplicatePair.patient_a_id == min(ana, ana_again))).one()
        duplicate_service.decide(session, pair.id, "different", ACTOR)
    report = scan.scan()
    assert report.decided_left_out == 1
    assert sorted(_pairs()) == sorted([(*sorted((jose, jose_again)), "pending", "scan"),
                                       (*sorted((ana, ana_again)), "different", "scan")])


def test_the_keys_the_scan_writes_serve_the_check_on_a_later_create(committed):
    with unit_of_work() as session:
        first = patient_service.create(session, {"name": "Heloísa Gonçalves", "birth_date": "1955-09-09"}).id
    scan.scan()
    with unit_of_work() as session:
        second = patient_service.create(session, {"name": "Eloisa Goncalves", "birth_date": "1955-09-09"}).id
        warnings = duplicate_service.check_on_write(session, [second], "create")
    assert [w.patient_id for w in warnings[second]] == [first]


def test_cli_find_duplicates_prints_the_report(committed, capsys):
    with unit_of_work() as session:
        patient_service.create(session, {"name": "Raul Seixas", "birth_date": "1945-06-28"})
        patient_service.create(session, {"name": "Raul Seixas", "birth_date": "1945-06-28"})
    assert cli(["find-duplicates", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert '"patients": 2' in out and '"review": ' in out
    assert len(_pairs()) == 1
