"""An import reports a row whose patient may be one already registered (`possible_duplicate`, with id and score)."""

from __future__ import annotations

from storage.db import unit_of_work
from storage.imports import service as import_service
from storage.patients import service as patient_service
from tests.api.test_roles import _SIMPLIFIED_CSV


def test_an_imported_patient_like_a_registered_one_is_reported_on_its_row(committed):
    with unit_of_work() as session:
        registered = patient_service.create(session, {"name": "Paciente de Matrís", "birth_date": "1960-02-01"}).id
        import_id = import_service.register_upload(session, "agenda.csv", _SIMPLIFIED_CSV).id

    assert import_service.apply_import(import_id) == "succeeded"

    with unit_of_work() as session:
        report = import_service.report(session, import_id, issue_limit=None)
    [issue] = [i for i in report["issues"] if i["code"] == "possible_duplicate"]
    assert (issue["row"], issue["level"], issue["patient_id"]) == (2, "warning", registered)
    assert 0.2 <= issue["score"] <= 1
    assert "confira na fila de duplicados" in issue["message"]
    assert (report["patients_created"], report["warnings"]) == (1, 1)
