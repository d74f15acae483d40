"""Schedule rules that need real commits: concurrent bookings, imports beside hand-made visits, and the
index reflecting every change (drained with `indexing.sync`, read back from OpenSearch)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

import mappings
from indexing import lifecycle, names, sync
from indexing.client import get_client
from indexing.queries import visits as visit_queries
from storage.db import get_sessionmaker, unit_of_work
from storage.errors import Conflict
from storage.imports import service as import_service
from storage.visits import confirmations
from storage.visits import repo as visit_repo
from storage.visits import service as visit_service
from storage.visits.models import Visit
from tests.fixtures import wait_until
from tests.indexing.conftest import indexed
from tests.storage.imports.helpers import row, xlsx
from tests.storage.visits.helpers import DAY, at, booking, make_car, make_patient


def visit_document(visit_id: str) -> dict:
    hit = get_client().get(index=names.alias("visits"), id=visit_id)
    return {**hit["_source"], "_version": hit["_version"]}


def drain() -> None:
    result = sync.drain()
    assert result.failed_entities == 0
    client = get_client()
    client.indices.refresh(index=names.alias("visits"))
    client.indices.refresh(index=names.alias("patients"))


def waiting_for_a_lock() -> int:
    with unit_of_work() as session:
        return session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one()


@pytest.mark.parametrize("same", ["car", "patient"])
def test_two_concurrent_bookings_cannot_both_pass(committed, same):
    with unit_of_work() as session:
        cars = [make_car(session).id, make_car(session, label="CARRO 2").id]
        patients = [make_patient(session).id, make_patient(session).id]
    first_booking = booking(patients[0], cars[0], "07:20", "08:00")
    second_booking = (booking(patients[1], cars[0], "07:40", "08:20") if same == "car"
                      else booking(patients[0], cars[1], "07:40", "08:20"))

    first = get_sessionmaker()()
    try:
        visit, _ = visit_service.create(first, first_booking, actor_id=None)  # holds the locks until it commits
        outcome: dict = {}

        def second() -> None:
            try:
                with unit_of_work() as session:
                    visit_service.create(session, second_booking, actor_id=None)
                outcome["result"] = "booked"
            except Conflict as error:
                outcome["result"] = (error.code, error.details)

        thread = threading.Thread(target=second)
        thread.start()
        assert wait_until(lambda: waiting_for_a_lock() == 1)
        first.commit()
    finally:
        first.close()
    thread.join(timeout=10)

    assert outcome["result"] == (f"visit_overlap_{same}", {"visit_id": visit.id})


def import_file(data: bytes, filename: str) -> None:
    with unit_of_work() as session:
        import_id = import_service.register_upload(session, filename, data).id
    import_service.apply_import(import_id)


def test_a_later_import_neither_flags_a_visit_made_by_hand_nor_undoes_staff_changes(committed):
    import_file(xlsx(row()), "agenda.xlsx")
    with unit_of_work() as session:
        imported = session.query(Visit).one()
        hand, _ = visit_service.create(
            session, booking(make_patient(session).id, imported.car_id, "10:00", "10:40"), actor_id=None)
        visit_service.change_status(session, imported.id, "cancelled", actor_id=None, reason="paciente desistiu")
        hand_id, imported_id = hand.id, imported.id
    import_file(xlsx(row({"Observação": "outra"})), "agenda-2.xlsx")

    with unit_of_work() as session:
        assert session.get(Visit, hand_id).missing_from_latest_export is False
        assert session.get(Visit, hand_id).unit_code == "248"
        kept = session.get(Visit, imported_id)
        assert (kept.status, kept.notes) == ("cancelled", "outra")
        assert visit_repo.source_ids(session, [imported_id]) == {imported_id: ["c7ac40bc-e67f-4b04-8554-adbc4801b608"]}


def test_the_index_reflects_each_change_of_a_visit_and_its_patients_record(committed):
    with unit_of_work() as session:
        car = make_car(session, label="CARRO 3")
        car2 = make_car(session, label="CARRO 10")
        patient = make_patient(session, name="Ruth Gonçalves")
        visit, _ = visit_service.create(session, booking(patient.id, car.id, "07:20", "08:00", exam_codes=["1009"],
                                                    exam_names=["VITAMINA D"], notes="portão azul"), actor_id=None)
        visit_id, patient_id, car_id, car2_id = visit.id, patient.id, car.id, car2.id
    drain()

    document = visit_document(visit_id)
    assert {k: document[k] for k in ("car", "car_id", "start", "end", "date", "status", "confirmation_status",
                                     "source_ids", "confirmation_attempts", "last_attempt_at", "_version")} == {
        "car": "CARRO 3", "car_id": car_id, "start": "2025-06-18T07:20:00-03:00", "end": "2025-06-18T08:00:00-03:00",
        "date": "2025-06-18", "status": "scheduled", "confirmation_status": "pending", "source_ids": [],
        "confirmation_attempts": 0, "last_attempt_at": None, "_version": 1,
    }
    assert document["display"]["exam_names"] == ["VITAMINA D"]
    assert document["display"]["notes"] == "portão azul"
    assert document["display"]["payers"] == [{"code": "80", "name": "AMIL", "card_number": None}]
    assert "phones" not in document and "cpf" not in document
    patient_doc = indexed(patient_id)
    assert {k: patient_doc[k] for k in ("visit_count", "cars", "confirmation_attempts", "confirmed_attempts",
                                        "confirmation_rate", "confirmation_channels", "opted_out")} == {
        "visit_count": 1, "cars": ["CARRO 3"], "confirmation_attempts": 0, "confirmed_attempts": 0,
        "confirmation_rate": None, "confirmation_channels": [], "opted_out": False,
    }

    with unit_of_work() as session:
        confirmations.record_attempt(session, visit_id, channel="phone", outcome="no_answer", actor_id=None)
        confirmations.record_attempt(session, visit_id, channel="whatsapp", outcome="confirmed", actor_id=None)
    drain()
    document = visit_document(visit_id)
    assert (document["confirmation_status"], document["confirmation_channel"], document["confirmation_attempts"],
            document["last_attempt_channel"], document["last_attempt_outcome"]) == (
        "confirmed", "whatsapp", 2, "whatsapp", "confirmed")
    patient_doc = indexed(patient_id)
    assert (patient_doc["confirmation_attempts"], patient_doc["confirmed_attempts"], patient_doc["confirmation_rate"],
            patient_doc["confirmation_channels"], patient_doc["confirmation_statuses"]) == (
        2, 1, 0.5, ["whatsapp"], ["confirmed"])

    with unit_of_work() as session:
        visit_service.reschedule(session, visit_id, car_id=car2_id, start=at("10:00"), actor_id=None)
    drain()
    document = visit_document(visit_id)
    assert (document["car"], document["start"], document["confirmation_status"], document["_version"]) == (
        "CARRO 10", "2025-06-18T10:00:00-03:00", "pending", 4)
    assert indexed(patient_id)["cars"] == ["CARRO 10"]

    with unit_of_work() as session:
        visit_service.change_status(session, visit_id, "cancelled", actor_id=None, reason="paciente viajou")
    drain()
    assert visit_document(visit_id)["status"] == "cancelled"
    assert (indexed(patient_id)["visit_count"], indexed(patient_id)["cars"]) == (0, [])


def test_the_schedule_query_groups_by_car_in_natural_order_and_filters(committed):
    with unit_of_work() as session:
        car10 = make_car(session, label="CARRO 10")
        car2 = make_car(session, label="CARRO 2", base="AV CENTER 2")
        car2b = make_car(session, label="CARRO 2", base="AV CENTER 1")
        ids = {}
        for key, car, start, end in [
            ("c10-late", car10, "08:00", "08:40"), ("c10-early", car10, "06:40", "07:20"),
            ("c2", car2, "07:20", "08:00"), ("c2b", car2b, "07:20", "08:00"), ("other-day", car2, "06:40", "07:20"),
        ]:
            day = DAY if key != "other-day" else DAY.replace(day=19)
            visit, _ = visit_service.create(session, booking(make_patient(session).id, car.id, start, end, day=day),
                                       actor_id=None)
            ids[key] = visit.id
        visit_service.change_status(session, ids["c10-late"], "cancelled", actor_id=None)
        car10_id, car2_id = car10.id, car2.id
    drain()
    client = get_client()

    def layout(**query) -> list[tuple]:
        found = visit_queries.schedule(client, visit_queries.ScheduleQuery(day=DAY, **query))
        key_of = {v: k for k, v in ids.items()}
        return [(g.car, g.car_base, [key_of[v["id"]] for v in g.visits]) for g in found.cars]

    assert layout() == [
        ("CARRO 2", "AV CENTER 1", ["c2b"]), ("CARRO 2", "AV CENTER 2", ["c2"]),
        ("CARRO 10", "AV CENTER 1", ["c10-early", "c10-late"]),
    ]
    assert layout(statuses=["scheduled"])[-1] == ("CARRO 10", "AV CENTER 1", ["c10-early"])
    assert layout(cars=[car10_id]) == [("CARRO 10", "AV CENTER 1", ["c10-early", "c10-late"])]
    assert layout(cars=["carro 2"]) == [("CARRO 2", "AV CENTER 1", ["c2b"]), ("CARRO 2", "AV CENTER 2", ["c2"])]
    assert layout(cars=[car2_id, "CARRO 10"], statuses=["cancelled"]) == [("CARRO 10", "AV CENTER 1", ["c10-late"])]
    assert layout(unit="999") == []
    found = visit_queries.schedule(client, visit_queries.ScheduleQuery(day=DAY))
    assert found.total == 4
    assert sorted(found.patients) == sorted({v["patient_id"] for g in found.cars for v in g.visits})


def test_the_visits_mappings_keep_their_fields_and_a_live_v1_index_rolls_over_by_rebuild(committed):
    v1 = mappings.load("visits", 1)["mappings"]
    v2 = mappings.load("visits", 2)["mappings"]
    v3 = mappings.load("visits", 3)["mappings"]
    assert mappings.latest_version("visits") == 3
    assert set(v2["properties"]) - set(v1["properties"]) == {
        "source_ids", "confirmation_attempts", "last_attempt_at", "last_attempt_channel", "last_attempt_outcome",
        "contact_channels", "display"}
    assert all(v2["properties"][name] == definition for name, definition in v1["properties"].items())
    assert v2["properties"]["display"] == {"type": "object", "enabled": False}
    # v3: the car's own unit; the neighbourhood folds spaces too and keeps its spellings (`raw`) for labels.
    assert set(v3["properties"]) - set(v2["properties"]) == {"car_unit_code", "car_unit_name"}
    assert all(v3["properties"][name]["type"] == definition["type"] for name, definition in v2["properties"].items())
    assert v3["properties"]["neighborhood"]["fields"]["raw"] == {"type": "keyword"}

    client = get_client()
    for concrete in lifecycle.live_indices(client, "visits"):
        client.indices.delete(index=concrete)
    old = names.concrete("visits", 1)
    client.indices.create(index=old, body=mappings.load("visits", 1))
    client.indices.update_aliases(
        body={"actions": [{"add": {"index": old, "alias": names.alias("visits"), "is_write_index": True}}]})
    with unit_of_work() as session:
        visit, _ = visit_service.create(session, booking(make_patient(session).id, make_car(session).id, "07:20", "08:00",
                                                    notes="portão azul"), actor_id=None)
        visit_id = visit.id
    drain()
    # The strict v1 index takes the fields it knows; the schedule still lists the visit.
    assert "display" not in visit_document(visit_id)
    found = visit_queries.schedule(client, visit_queries.ScheduleQuery(day=DAY))
    assert [v["id"] for g in found.cars for v in g.visits] == [visit_id]

    report = lifecycle.rebuild("visits")

    assert report.new_index.startswith(f"{names.alias('visits')}-v3-")
    assert visit_document(visit_id)["display"]["notes"] == "portão azul"
