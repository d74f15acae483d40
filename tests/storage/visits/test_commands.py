"""Schedule commands: booking by hand, overlaps, capacity, rescheduling, status moves, the outbox and history."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from storage.errors import Conflict, Invalid, NotFound
from storage.outbox import OutboxEntry
from storage.patients import service as patient_service
from storage.patients.models import Patient
from storage.visits import repo as visit_repo
from storage.visits import service as visit_service
from storage.visits.models import Visit, VisitStatusChange
from tests.storage.visits.helpers import DAY, at, booking, make_car, make_patient

USER = "00000000-0000-0000-0000-0000000000aa"


def outbox(session) -> list[tuple[str, str]]:
    return sorted((e.entity_type, e.entity_id) for e in session.scalars(select(OutboxEntry)))


def clear_outbox(session) -> None:
    session.flush()
    session.execute(OutboxEntry.__table__.delete())


def history(session, visit_id: str) -> list[tuple]:
    return [
        (h.kind, h.from_status, h.to_status, h.old_start_at, h.new_start_at, h.old_car_id, h.new_car_id, h.actor_id,
         h.reason)
        for h in visit_repo.history(session, visit_id)
    ]


def conflict(excinfo) -> tuple[str, str, dict]:
    return excinfo.value.code, excinfo.value.message, excinfo.value.details


@pytest.fixture
def car(db_session):
    return make_car(db_session)


@pytest.fixture
def patient(db_session):
    return make_patient(db_session, health_plan={"code": "80", "name": "AMIL", "card_number": "073186173990487"})


def test_create_books_a_visit_with_the_patients_address_and_plan_history_and_outbox(db_session, car, patient):
    version = patient.row_version
    clear_outbox(db_session)

    visit, warnings = visit_service.create(
        db_session,
        booking(patient.id, car.id, "07:20", "08:00", exam_codes=["1009", " 1004", "1009"],
                exam_names="VITAMINA D, 25 HIDROXI", notes="  portão azul "),
        actor_id=USER,
    )

    assert warnings == []
    assert (visit.status, visit.confirmation_status, visit.row_version, visit.visit_date) == ("scheduled", "pending", 1, DAY)
    assert (visit.start_at, visit.end_at) == (at("07:20"), at("08:00"))
    assert (visit.exam_codes, visit.exam_names, visit.total_exams) == (["1009", "1004"], ["VITAMINA D, 25 HIDROXI"], 2)
    assert visit.payers == [{"code": "80", "name": "AMIL", "card_number": "073186173990487"}]
    assert (visit.street, visit.number, visit.neighborhood, visit.city, visit.zip_code) == (
        "Rua das Flores", patient.number, "Centro", "São Paulo", "01234567")
    assert (visit.notes, visit.unit_code, visit.import_id, visit.missing_from_latest_export) == (
        "portão azul", "248", None, False)
    assert visit_repo.source_ids(db_session, [visit.id]) == {}
    assert history(db_session, visit.id) == [("created", None, "scheduled", None, at("07:20"), None, car.id, USER, None)]
    assert outbox(db_session) == sorted([("patient", patient.id), ("visit", visit.id)])
    db_session.expire_all()
    assert db_session.get(Patient, patient.id).row_version == version + 1


def test_a_given_address_and_payers_replace_the_defaults(db_session, car, patient):
    visit, _ = visit_service.create(
        db_session,
        booking(patient.id, car.id, "07:20", "08:00", payers=[{"code": "44", "name": "PARTICULAR"}],
                address={"street": "Rua Nova", "number": "5", "neighborhood": "Tijuca", "city": "Rio de Janeiro",
                         "state": "rj", "zip_code": "20510-000", "reference": "ao lado da padaria"}),
        actor_id=None,
    )
    assert visit.payers == [{"code": "44", "name": "PARTICULAR", "card_number": None}]
    assert (visit.street, visit.state, visit.zip_code, visit.address_reference, visit.complement) == (
        "Rua Nova", "RJ", "20510000", "ao lado da padaria", None)


def test_iso_strings_and_naive_times_are_local(db_session, car, patient):
    visit, _ = visit_service.create(
        db_session,
        {"patient_id": patient.id, "car_id": car.id, "start": "2025-06-18T23:20:00", "end": "2025-06-19T02:40:00+00:00"},
        actor_id=None,
    )
    assert (visit.start_at, visit.end_at, visit.visit_date) == (at("23:20"), at("23:40"), DAY)


@pytest.mark.parametrize(
    "changes, code, field",
    [
        ({"end": "2025-06-18T07:20:00"}, "invalid_time_range", "end"),
        ({"end": "2025-06-18T20:00:00"}, "invalid_time_range", "end"),
        ({"start": "18/06/2025 07:20"}, "invalid_datetime", "start"),
        ({"start": None}, "invalid_datetime", "start"),
        ({"car_id": ""}, "missing_car_id", "car_id"),
        ({"patient_id": None}, "missing_patient_id", "patient_id"),
        ({"exam_codes": "1009"}, "invalid_list", "exam_codes"),
        ({"address": {"zip_code": "123"}}, "invalid_zip_code", "address.zip_code"),
    ],
)
def test_invalid_bookings_are_refused_with_a_field(db_session, car, patient, changes, code, field):
    data = {**booking(patient.id, car.id, "07:20", "08:00"), **changes}
    with pytest.raises(Invalid) as excinfo:
        visit_service.create(db_session, data, actor_id=None)
    assert (excinfo.value.code, excinfo.value.details) == (code, {"field": field})


def test_unknown_car_or_patient_is_not_found(db_session, car, patient):
    with pytest.raises(NotFound) as excinfo:
        visit_service.create(db_session, booking(patient.id, "no-such-car", "07:20", "08:00"), actor_id=None)
    assert excinfo.value.code == "car_not_found"
    with pytest.raises(NotFound) as excinfo:
        visit_service.create(db_session, booking("no-such-patient", car.id, "07:20", "08:00"), actor_id=None)
    assert excinfo.value.code == "patient_not_found"
    for call in (
        lambda: visit_service.reschedule(db_session, "nope", start=at("09:00"), actor_id=None),
        lambda: visit_service.change_status(db_session, "nope", "cancelled", actor_id=None),
    ):
        with pytest.raises(NotFound) as excinfo:
            call()
        assert excinfo.value.code == "visit_not_found"


# ---------------------------------------------------------------- overlaps


def test_a_car_booked_at_an_overlapping_time_is_a_conflict_naming_the_other_visit(db_session, car, patient):
    first, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    other = make_patient(db_session)

    with pytest.raises(Conflict) as excinfo:
        visit_service.create(db_session, booking(other.id, car.id, "07:40", "08:20"), actor_id=None)

    assert conflict(excinfo) == (
        "visit_overlap_car",
        "O CARRO 1 (AV CENTER 1) já tem uma visita das 07:20 às 08:00 de 18/06/2025 nesse horário.",
        {"visit_id": first.id},
    )
    assert db_session.scalar(select(func.count(Visit.id))) == 1


def test_a_patient_booked_in_another_car_at_an_overlapping_time_is_a_conflict(db_session, car, patient):
    first, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    car2 = make_car(db_session, label="CARRO 2")

    with pytest.raises(Conflict) as excinfo:
        visit_service.create(db_session, booking(patient.id, car2.id, "06:40", "07:21"), actor_id=None)

    assert conflict(excinfo) == (
        "visit_overlap_patient",
        "O paciente já tem uma visita das 07:20 às 08:00 de 18/06/2025 (CARRO 1) nesse horário.",
        {"visit_id": first.id},
    )


def test_adjacent_slots_do_not_overlap(db_session, car, patient):
    visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    before, _ = visit_service.create(db_session, booking(patient.id, car.id, "06:40", "07:20"), actor_id=None)
    after, _ = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "08:00", "08:40"), actor_id=None)
    car2 = make_car(db_session, label="CARRO 2")
    other_car, _ = visit_service.create(db_session, booking(patient.id, car2.id, "08:00", "08:40"), actor_id=None)
    assert [v.start_at for v in (before, after, other_car)] == [at("06:40"), at("08:00"), at("08:00")]


def test_cancelled_visits_and_visits_dropped_by_an_export_do_not_block(db_session, car, patient):
    cancelled, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    visit_service.change_status(db_session, cancelled.id, "cancelled", actor_id=None)
    dropped, _ = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "08:00", "08:40"),
                                 actor_id=None)
    dropped.missing_from_latest_export = True
    db_session.flush()

    again, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    later, _ = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "08:00", "08:40"), actor_id=None)

    assert (again.status, later.status) == ("scheduled", "scheduled")


def test_capacity_counts_the_cars_live_visits_of_the_local_day_and_only_warns(db_session, patient):
    car = make_car(db_session, capacity=2)
    visit_service.create(db_session, booking(patient.id, car.id, "06:40", "07:20"), actor_id=None)
    _, warnings = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "07:20", "08:00"), actor_id=None)
    assert warnings == []
    # 23:30 local is already the next day in UTC: it still counts for the 18th.
    third, warnings = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "23:30", "23:50"),
                                      actor_id=None)
    assert warnings == [{
        "code": "car_over_capacity",
        "message": "O CARRO 1 (AV CENTER 1) tem 3 visitas em 18/06/2025, acima da capacidade diária de 2.",
    }]
    assert third.status == "scheduled"
    # Another day is another count; a cancelled visit frees its place.
    _, warnings = visit_service.create(db_session, booking(patient.id, car.id, "06:40", "07:20", day=date(2025, 6, 19)),
                                  actor_id=None)
    assert warnings == []
    visit_service.change_status(db_session, third.id, "cancelled", actor_id=None)
    _, warnings = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "10:00", "10:40"),
                                  actor_id=None)
    assert [w["code"] for w in warnings] == ["car_over_capacity"]


def test_a_car_in_maintenance_is_a_warning(db_session, patient):
    car = make_car(db_session, label="CARRO 4", base=None, status="maintenance")
    _, warnings = visit_service.create(db_session, booking(patient.id, car.id, "06:40", "07:20"), actor_id=None)
    assert warnings == [{"code": "car_not_active", "message": "O CARRO 4 está em manutenção."}]


# ---------------------------------------------------------------- reschedule


def test_reschedule_keeps_the_duration_resets_the_confirmation_and_writes_history(db_session, car, patient):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    visit.confirmation_status, visit.confirmation_channel = "confirmed", "whatsapp"
    visit.confirmed_at = datetime.now(timezone.utc)
    db_session.flush()
    clear_outbox(db_session)

    # Overlapping its own old slot is fine.
    moved, warnings = visit_service.reschedule(db_session, visit.id, start=at("07:40"), actor_id=USER, reason="pedido do paciente")

    assert warnings == []
    assert (moved.start_at, moved.end_at, moved.row_version) == (at("07:40"), at("08:20"), 3)
    assert (moved.confirmation_status, moved.confirmed_at, moved.confirmation_channel) == ("pending", None, "whatsapp")
    assert history(db_session, visit.id)[-1] == (
        "rescheduled", "scheduled", "scheduled", at("07:20"), at("07:40"), car.id, car.id, USER, "pedido do paciente")
    assert outbox(db_session) == sorted([("patient", patient.id), ("visit", visit.id)])


def test_reschedule_to_another_car_and_day_checks_that_car_and_keeps_a_confirmation(db_session, car, patient):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    visit.confirmation_status = "confirmed"
    car2 = make_car(db_session, label="CARRO 2", capacity=1)
    blocker, _ = visit_service.create(db_session, booking(make_patient(db_session).id, car2.id, "07:00", "07:40"), actor_id=None)

    with pytest.raises(Conflict) as excinfo:
        visit_service.reschedule(db_session, visit.id, car_id=car2.id, actor_id=None)
    assert (excinfo.value.code, excinfo.value.details) == ("visit_overlap_car", {"visit_id": blocker.id})

    moved, warnings = visit_service.reschedule(db_session, visit.id, car_id=car2.id, start=at("08:00"), end=at("08:40"),
                                          actor_id=None)
    assert (moved.car_id, moved.start_at, moved.end_at) == (car2.id, at("08:00"), at("08:40"))
    assert [w["code"] for w in warnings] == ["car_over_capacity"]

    moved, _ = visit_service.reschedule(db_session, visit.id, car_id=car2.id, actor_id=None)  # nothing changes
    assert len(history(db_session, visit.id)) == 2

    moved, _ = visit_service.reschedule(db_session, visit.id, car_id=car.id, actor_id=None)  # only the car
    assert (moved.car_id, moved.confirmation_status) == (car.id, "pending")

    next_day = date(2025, 6, 19)
    moved, _ = visit_service.reschedule(db_session, visit.id, start=at("06:40", next_day), actor_id=None)
    assert (moved.visit_date, moved.end_at) == (next_day, at("07:20", next_day))


def test_reschedule_into_the_patients_other_visit_is_a_conflict(db_session, car, patient):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    other, _ = visit_service.create(db_session, booking(patient.id, make_car(db_session, label="CARRO 2").id, "10:00", "10:40"),
                               actor_id=None)
    with pytest.raises(Conflict) as excinfo:
        visit_service.reschedule(db_session, visit.id, start=at("10:20"), actor_id=None)
    assert (excinfo.value.code, excinfo.value.details) == ("visit_overlap_patient", {"visit_id": other.id})


def test_only_scheduled_visits_are_rescheduled(db_session, car, patient):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    visit_service.change_status(db_session, visit.id, "collected", actor_id=None)
    with pytest.raises(Conflict) as excinfo:
        visit_service.reschedule(db_session, visit.id, start=at("09:00"), actor_id=None)
    assert conflict(excinfo) == (
        "visit_not_scheduled", "Só visitas agendadas podem ser reagendadas; esta está coletada.", {"visit_id": visit.id})
    with pytest.raises(Invalid):
        visit_service.create(db_session, booking(patient.id, car.id, "09:00", "09:00"), actor_id=None)


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    "path",
    [
        ["cancelled"],
        ["collected"],
        ["no_show"],
        ["cancelled", "scheduled"],
        ["collected", "scheduled"],
        ["no_show", "scheduled", "collected"],
    ],
)
def test_allowed_status_changes_write_history_and_bump_versions(db_session, car, patient, path):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    for status in path:
        clear_outbox(db_session)
        version = db_session.scalar(select(Patient.row_version).where(Patient.id == patient.id))
        visit = visit_service.change_status(db_session, visit.id, status, actor_id=USER, reason=f"para {status}")
        assert visit.status == status
        assert outbox(db_session) == sorted([("patient", patient.id), ("visit", visit.id)])
        assert db_session.scalar(select(Patient.row_version).where(Patient.id == patient.id)) == version + 1
    assert visit.row_version == 1 + len(path)
    statuses = ["scheduled", *path]
    assert [(h[0], h[1], h[2], h[8]) for h in history(db_session, visit.id)[1:]] == [
        ("status", before, after, f"para {after}") for before, after in zip(statuses, statuses[1:])
    ]


@pytest.mark.parametrize(
    "first, then, message",
    [
        ("cancelled", "collected", "Uma visita cancelada não pode passar a coletada."),
        ("cancelled", "no_show", "Uma visita cancelada não pode passar a não compareceu."),
        ("collected", "cancelled", "Uma visita coletada não pode passar a cancelada."),
        ("collected", "no_show", "Uma visita coletada não pode passar a não compareceu."),
        ("no_show", "collected", "Uma visita não compareceu não pode passar a coletada."),
        ("no_show", "cancelled", "Uma visita não compareceu não pode passar a cancelada."),
    ],
)
def test_forbidden_status_changes_are_conflicts(db_session, car, patient, first, then, message):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    visit_service.change_status(db_session, visit.id, first, actor_id=None)
    with pytest.raises(Conflict) as excinfo:
        visit_service.change_status(db_session, visit.id, then, actor_id=None)
    assert conflict(excinfo) == ("visit_status_transition", message, {"visit_id": visit.id, "status": first})


def test_the_same_status_changes_nothing_and_an_unknown_one_is_invalid(db_session, car, patient):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    clear_outbox(db_session)
    assert visit_service.change_status(db_session, visit.id, "scheduled", actor_id=None).row_version == 1
    assert outbox(db_session) == []
    with pytest.raises(Invalid) as excinfo:
        visit_service.change_status(db_session, visit.id, "done", actor_id=None)
    assert excinfo.value.code == "invalid_status"


def test_reinstating_a_cancelled_visit_checks_overlaps_again(db_session, car, patient):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    visit_service.change_status(db_session, visit.id, "cancelled", actor_id=None)
    taken, _ = visit_service.create(db_session, booking(make_patient(db_session).id, car.id, "07:20", "08:00"), actor_id=None)

    with pytest.raises(Conflict) as excinfo:
        visit_service.change_status(db_session, visit.id, "scheduled", actor_id=None)
    assert (excinfo.value.code, excinfo.value.details) == ("visit_overlap_car", {"visit_id": taken.id})

    visit_service.change_status(db_session, taken.id, "cancelled", actor_id=None)
    assert visit_service.change_status(db_session, visit.id, "scheduled", actor_id=None).status == "scheduled"


def test_a_patient_loaded_in_the_session_can_still_be_updated_after_a_booking(db_session, car, patient):
    visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    updated = patient_service.update(db_session, patient.id, {"tags": ["acamada"]})
    db_session.flush()
    assert updated.tags == ["acamada"]
    assert db_session.scalar(select(Patient.row_version).where(Patient.id == patient.id)) == 3


def test_history_rows_are_oldest_first(db_session, car, patient):
    visit, _ = visit_service.create(db_session, booking(patient.id, car.id, "07:20", "08:00"), actor_id=None)
    visit_service.reschedule(db_session, visit.id, start=at("09:00"), actor_id=None)
    visit_service.change_status(db_session, visit.id, "cancelled", actor_id=None)
    assert [h.kind for h in visit_repo.history(db_session, visit.id)] == ["created", "rescheduled", "status"]
    assert db_session.scalar(select(func.count(VisitStatusChange.id))) == 3
    assert visit.end_at - visit.start_at == timedelta(minutes=40)
