"""Visit rules: composing a visit from its source rows, the outbox and patient bump on change, stats."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from storage import indexed
from storage.cars import service as car_service
from storage.imports import visit_writer
from storage.outbox import OutboxEntry
from storage.patients import service as patient_service
from storage.visits import index_repo as visit_index_repo
from storage.visits.models import Visit

LEARNED = datetime(2025, 6, 17, 12, 0, tzinfo=timezone.utc)


def source(**changes):
    base = {
        "group_key": "g", "car_key": "379|CARRO 1", "start": "2025-06-18T06:40:00", "end": "2025-06-18T07:20:00",
        "status": "scheduled", "confirmation_status": "pending", "confirmation_channel": None,
        "confirmation_time": None, "exam_codes": ["1009"], "exam_names": "VITAMINA D", "payer": {"code": "80",
        "name": "AMIL", "card_number": "1"}, "physician": None, "booking_channel": "NAV", "booked_at": None,
        "notes": None, "address": None, "address_text": None, "unit_code": "248", "unit_name": "Barra",
        "agenda_id": "1",
    }
    return {**base, **changes}


def compose(sources, existing=None):
    return visit_writer.compose(sources, patient_id="p", car_id="c", existing=existing, learned_at=LEARNED)


def test_a_split_visit_merges_exams_payers_and_names_in_row_order():
    content = compose([
        source(),
        source(exam_codes=["1010", "1009"], exam_names="HEMOGLOBINA, GLICADA", payer={"code": "44", "name": "PARTICULAR",
                                                                                     "card_number": None}),
    ])

    assert content["exam_codes"] == ["1009", "1010"]
    assert content["total_exams"] == 2
    assert content["exam_names"] == ["VITAMINA D", "HEMOGLOBINA, GLICADA"]
    assert [p["code"] for p in content["payers"]] == ["80", "44"]
    assert content["start_at"].isoformat() == "2025-06-18T06:40:00-03:00"
    assert content["visit_date"] == date(2025, 6, 18)


def test_confirmation_uses_our_clock_and_is_never_downgraded_by_an_import():
    confirmed = compose([source(confirmation_status="confirmed", confirmation_channel="whatsapp")])
    assert (confirmed["confirmation_status"], confirmed["confirmed_at"]) == ("confirmed", LEARNED)

    later = compose([source()], existing={**confirmed, "status": "scheduled"})
    assert (later["confirmation_status"], later["confirmed_at"], later["confirmation_channel"]) == (
        "confirmed", LEARNED, "whatsapp")


@pytest.mark.parametrize(
    "current, booking, expected",
    [
        (None, "scheduled", "scheduled"),
        (None, "cancelled", "cancelled"),
        ("scheduled", "cancelled", "cancelled"),
        ("cancelled", "squeezed_in", "scheduled"),
        ("cancelled by staff", "scheduled", "cancelled"),
        ("collected", "scheduled", "collected"),
        ("no_show", "scheduled", "no_show"),
    ],
)
def test_the_import_only_moves_our_status_between_scheduled_and_cancelled(current, booking, expected):
    # An export's cancellation leaves booking_status "cancelled"; a staff one leaves the export's booking status.
    if current == "cancelled":
        existing = compose([source(status="cancelled")])
    elif current == "cancelled by staff":
        existing = {**compose([source()]), "status": "cancelled"}
    else:
        existing = None if current is None else {**compose([source()]), "status": current}

    assert compose([source(status=booking)], existing=existing)["status"] == expected


def test_a_refusal_we_recorded_survives_an_export_unless_it_now_says_confirmed():
    declined = {**compose([source()]), "confirmation_status": "declined", "confirmation_channel": "sms"}

    assert compose([source()], existing=declined)["confirmation_status"] == "declined"
    assert compose([source(confirmation_status="confirmed")], existing=declined)["confirmation_status"] == "confirmed"


def test_group_key_is_stable_and_tells_stops_apart():
    start = datetime(2025, 6, 18, 6, 40)

    assert visit_writer.group_key("379|C1", start, "jose", "1") == visit_writer.group_key("379|C1", start, "jose", "1")
    assert visit_writer.group_key("379|C1", start, "jose", "1") != visit_writer.group_key("380|C1", start, "jose", "1")
    assert len(visit_writer.group_key("379|C1", start, "jose", None)) == 40


def test_writing_visits_records_the_outbox_and_bumps_the_patients_version(db_session):
    patient = patient_service.create(db_session, {"name": "Ana Lima", "cpf": "52998224725"})
    car_id = car_service.get_or_create_by_source_key(db_session, "379|CARRO 1", {"label": "CARRO 1"}).id
    version = patient.row_version
    before = len(db_session.scalars(select(OutboxEntry)).all())

    content = visit_writer.compose([source()], patient_id=patient.id, car_id=car_id, existing=None, learned_at=LEARNED)
    (visit_id,) = visit_writer.insert_many(db_session, [content], import_id=None)
    indexed.mark_changed(db_session, visits=[visit_id], stale_patients=[patient.id])

    outbox = [(e.entity_type, e.entity_id) for e in db_session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]
    assert outbox[before:] == [("visit", visit_id), ("patient", patient.id)]
    db_session.refresh(patient)
    assert patient.row_version == version + 1

    visit_writer.update_many(db_session, [{"id": visit_id, **{**content, "notes": "ligar antes"}}], import_id=None)
    stored = db_session.scalars(select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)).one()
    assert (stored.row_version, stored.notes) == (2, "ligar antes")


def test_patient_visit_stats_skip_cancelled_and_missing_visits(db_session):
    patient = patient_service.create(db_session, {"name": "Ana Lima"})
    car_id = car_service.get_or_create_by_source_key(db_session, "379|CARRO 1", {"label": "CARRO 1"}).id

    def visit(day: str, **changes):
        content = visit_writer.compose([source(start=f"{day}T06:40:00", end=f"{day}T07:20:00")], patient_id=patient.id,
                                        car_id=car_id, existing=None, learned_at=LEARNED)
        visit_writer.insert_many(db_session, [{**content, **changes}], import_id=None)

    other_car = car_service.get_or_create_by_source_key(db_session, "380|CARRO 2", {"label": "CARRO 2"}).id
    visit("2025-06-10", neighborhood="Leblon")
    visit("2025-06-12", status="cancelled", car_id=other_car, confirmation_status="confirmed", neighborhood="Centro")
    visit("2025-06-20", confirmation_status="confirmed")
    visit("2025-06-21", missing_from_latest_export=True, car_id=other_car, neighborhood="Centro")
    visit("2025-06-25", neighborhood="Leblon")

    stats = visit_index_repo.patient_visit_stats(db_session, [patient.id], today=date(2025, 6, 20))

    # Only the live visits count: the cancelled and the missing one bring no car, day or neighbourhood.
    live = stats[patient.id].live_visits
    assert dataclasses.replace(stats[patient.id], live_visits=()) == visit_index_repo.PatientVisitStats(
        next_visit=date(2025, 6, 20), last_visit=date(2025, 6, 10), visit_count=3,
        cars=("CARRO 1",), confirmation_statuses=("confirmed", "pending"),
        visit_dates=(date(2025, 6, 10), date(2025, 6, 20), date(2025, 6, 25)), confirmed_visits=1,
        recurring=True, neighborhoods=("Leblon",),
    )
    # And one by one, in start order, each with its own car and confirmation (the search's nested visits).
    assert [(v.visit_date, v.car_id, v.car_label, v.confirmation_status, v.status) for v in live] == [
        (date(2025, 6, 10), car_id, "CARRO 1", "pending", "scheduled"),
        (date(2025, 6, 20), car_id, "CARRO 1", "confirmed", "scheduled"),
        (date(2025, 6, 25), car_id, "CARRO 1", "pending", "scheduled"),
    ]


def test_patient_visit_stats_recurring_means_two_distinct_live_days(db_session):
    once = patient_service.create(db_session, {"name": "Bia Souza"})
    twice_same_day = patient_service.create(db_session, {"name": "Caio Souza"})
    car_id = car_service.get_or_create_by_source_key(db_session, "379|CARRO 1", {"label": "CARRO 1"}).id

    def visit(patient_id: str, start: str, **changes):
        content = visit_writer.compose([source(start=start, end=start)], patient_id=patient_id,
                                        car_id=car_id, existing=None, learned_at=LEARNED)
        visit_writer.insert_many(db_session, [{**content, **changes}], import_id=None)

    visit(once.id, "2025-06-10T06:40:00")
    visit(once.id, "2025-06-11T06:40:00", status="cancelled")
    visit(twice_same_day.id, "2025-06-10T06:40:00")
    visit(twice_same_day.id, "2025-06-10T09:40:00")

    stats = visit_index_repo.patient_visit_stats(db_session, [once.id, twice_same_day.id], today=date(2025, 6, 20))

    assert (stats[once.id].recurring, stats[once.id].visit_count) == (False, 1)
    assert (stats[twice_same_day.id].recurring, stats[twice_same_day.id].visit_count) == (False, 2)
    assert stats[twice_same_day.id].visit_dates == (date(2025, 6, 10),)


def test_cars_are_created_once_per_agenda_key(db_session):
    first = car_service.ensure_by_source_keys(db_session, {"379|A CARRO 1": {"label": "CARRO 1", "base": "A"}})
    again = car_service.ensure_by_source_keys(db_session, {"379|A CARRO 1": {"label": "CARRO 1"},
                                                           "380|B CARRO 1": {"label": "CARRO 1", "base": "B"}})

    assert again["379|A CARRO 1"] == first["379|A CARRO 1"]
    assert len(set(again.values())) == 2
