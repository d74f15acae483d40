"""Role rules of the master patient index routes.

Decided: staff (admin, operator) decide pairs, merge and unmerge; readers (admin, operator, viewer)
read the review queue (viewers see CPFs and phones masked). Drivers none of it.
"""

from __future__ import annotations

from storage.db import unit_of_work
from storage.duplicates import repo as duplicate_repo
from storage.duplicates import service as duplicate_service
from storage.patients import service as patient_service


def _patient(name: str = "Paciente Sobrevivente") -> str:
    with unit_of_work() as session:
        return patient_service.create(session, {"name": name, "birth_date": "1961-06-06"}).id


def _pair() -> str:
    """A committed pending pair of two registrations of one person."""
    with unit_of_work() as session:
        first = patient_service.create(session, {"name": "Glória Tavares Bezerra", "birth_date": "1950-05-05"})
        second = patient_service.create(session, {"name": "Gloria Tavares Bezerra", "birth_date": "1950-05-05"})
        duplicate_service.check_on_write(session, [first.id, second.id], "create")
        return duplicate_repo.find_pair(session, first.id, second.id).id


SUCCESS = {
    ("GET", "/api/v1/duplicates"): (lambda: {"params": {"min_score": 0.5}}, 200),
    ("POST", "/api/v1/duplicates/{pair_id}/decision"): (lambda: {"json": {"decision": "same"}}, 200),
    ("POST", "/api/v1/patients/{survivor_id}/merge"): (lambda: {"json": {"other_id": _patient("Paciente Unificado")}},
                                                       200),
}
DECIDED = {
    "GET /api/v1/duplicates": ["admin", "operator", "viewer"],
    "POST /api/v1/duplicates/{pair_id}/decision": ["admin", "operator"],
    "POST /api/v1/patients/{survivor_id}/merge": ["admin", "operator"],
    "POST /api/v1/patients/{patient_id}/unmerge": ["admin", "operator"],
}
PATH_PARAMS = {"pair_id": _pair, "survivor_id": _patient}
