"""Patient commands: validation, the outbox row in the same transaction, versions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from storage.errors import Conflict, Invalid, NotFound
from storage.outbox import OUTBOX_DIRTY, OutboxEntry
from storage.patients import repo, service
from storage.patients.models import Patient
from tests.factories import patient_data


def outbox_rows(session):
    return [(e.entity_type, e.entity_id, e.deleted_version) for e in session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))]


def test_create_normalises_and_records_the_outbox_row_in_the_same_transaction(db_session):
    patient = service.create(
        db_session,
        {
            "name": "  José   da Conceição ",
            "cpf": "529.982.247-25",
            "birth_date": date(1950, 3, 2),
            "phones": ["(11) 98765-4321", {"number": "11 3456-7890", "kind": "residential"}, "11987654321"],
            "address": {"state": "sp", "zip_code": "01234-567", "neighborhood": "Centro"},
            "tags": ["Diabético", "diabético ", ""],
        },
    )
    assert patient.name == "José da Conceição"
    assert patient.name_folded == "jose da conceicao"
    assert patient.cpf == "52998224725"
    assert patient.phones == [
        {"number": "11987654321", "kind": "mobile"},
        {"number": "1134567890", "kind": "residential"},
    ]
    assert (patient.state, patient.zip_code) == ("SP", "01234567")
    assert patient.tags == ["diabético"]
    assert patient.row_version == 1
    assert outbox_rows(db_session) == [("patient", patient.id, None)]
    assert db_session.info[OUTBOX_DIRTY] is True


def test_rolled_back_create_leaves_neither_patient_nor_outbox_row(committed, new_session):
    service.create(new_session, patient_data())
    new_session.flush()
    assert new_session.scalar(select(func.count()).select_from(OutboxEntry)) == 1
    new_session.rollback()
    assert new_session.scalar(select(func.count()).select_from(Patient)) == 0
    assert new_session.scalar(select(func.count()).select_from(OutboxEntry)) == 0


def test_committed_create_leaves_both(committed, new_session):
    patient = service.create(new_session, patient_data())
    new_session.commit()
    assert repo.get(new_session, patient.id) is not None
    assert outbox_rows(new_session) == [("patient", patient.id, None)]


def test_update_bumps_row_version_and_records_outbox(db_session):
    patient = service.create(db_session, patient_data())
    service.update(db_session, patient.id, {"notes": "Portão azul", "address": {"neighborhood": "Barra"}})
    assert patient.row_version == 2
    assert patient.notes == "Portão azul"
    assert patient.neighborhood == "Barra"
    assert patient.street == "Rua das Flores"  # keys not sent stay as they were
    assert [r[0:2] for r in outbox_rows(db_session)] == [("patient", patient.id)] * 2


def test_update_without_change_records_nothing(db_session):
    data = patient_data()
    patient = service.create(db_session, data)
    service.update(db_session, patient.id, {"name": data["name"]})
    assert patient.row_version == 1
    assert len(outbox_rows(db_session)) == 1


def test_delete_records_a_tombstone_version(db_session):
    patient = service.create(db_session, patient_data())
    service.update(db_session, patient.id, {"notes": "x"})
    service.delete(db_session, patient.id)
    assert repo.get(db_session, patient.id) is None
    assert outbox_rows(db_session)[-1] == ("patient", patient.id, 3)


def test_missing_patient_is_not_found(db_session):
    with pytest.raises(NotFound) as error:
        service.update(db_session, "nope", {"notes": "x"})
    assert error.value.code == "patient_not_found"
    with pytest.raises(NotFound):
        service.delete(db_session, "nope")


def test_duplicate_cpf_is_a_conflict_naming_the_other_patient(db_session):
    first = service.create(db_session, patient_data(cpf="529.982.247-25"))
    with pytest.raises(Conflict) as error:
        service.create(db_session, patient_data(cpf="52998224725"))
    assert error.value.code == "patient_cpf_exists"
    assert error.value.details == {"patient_id": first.id}
    other = service.create(db_session, patient_data())
    with pytest.raises(Conflict):
        service.update(db_session, other.id, {"cpf": "529.982.247-25"})


@pytest.mark.parametrize(
    "data, code",
    [
        ({"cpf": "529.982.247-24"}, "invalid_cpf"),
        ({"phones": ["123"]}, "invalid_phone"),
        ({"birth_date": date(1800, 1, 1)}, "invalid_birth_date"),
        ({"address": {"zip_code": "123"}}, "invalid_zip_code"),
        ({"address": {"state": "São Paulo"}}, "invalid_state"),
        ({"name": "   "}, "missing_name"),
        ({"preferred_channel": "pigeon"}, "invalid_preferred_channel"),
    ],
)
def test_invalid_input_is_rejected_with_a_stable_code(db_session, data, code):
    with pytest.raises(Invalid) as error:
        service.create(db_session, patient_data(**data))
    assert error.value.code == code
    assert db_session.scalar(select(func.count()).select_from(Patient)) == 0
    assert outbox_rows(db_session) == []


def test_a_patient_with_visits_cannot_be_deleted_only_deactivated(committed, new_session):
    from tests.storage.imports.helpers import VALID_CPF, run, xlsx, row

    assert run(xlsx(row()))["status"] == "succeeded"
    patient = repo.find_by_cpf(new_session, VALID_CPF)
    with pytest.raises(Conflict) as error:
        service.delete(new_session, patient.id)
    assert error.value.code == "patient_has_visits"
    new_session.rollback()
    service.update(new_session, patient.id, {"status": "inactive"})
    assert patient.status == "inactive"
