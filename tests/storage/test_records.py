"""Wide results as named tuples: the same rows `session.execute` gives, unflushed changes included."""

from __future__ import annotations

from sqlalchemy import select

from storage.patients import repo as patient_repo
from storage.patients import service as patient_service
from storage.patients.models import Patient
from storage.sql import records
from tests.factories import patient_data


def test_records_are_named_tuples_of_the_selected_columns(db_session):
    patient = patient_service.create(db_session, patient_data(name="Joana Prado"))

    found = records(db_session, select(Patient.id, Patient.name.label("patient_name")).where(Patient.id == patient.id))

    assert found == [(patient.id, "Joana Prado")]
    assert (found[0].id, found[0].patient_name) == (patient.id, "Joana Prado")
    assert found[0]._fields == ("id", "patient_name")


def test_a_pending_change_is_flushed_before_the_rows_are_read(db_session):
    patient = patient_service.create(db_session, patient_data(name="Joana Prado"))
    patient.name = "Joana Prado Lima"  # not flushed: `session.execute` would autoflush it, so must `records`

    rows = patient_repo.document_rows(db_session, [patient.id])

    assert [(row.id, row.name) for row in rows] == [(patient.id, "Joana Prado Lima")]
