"""Property-based requests generated from the OpenAPI document, against the real app and services.

Every operation gets generated requests (valid and invalid bodies, parameters and paths) as an admin
and as a viewer. The answer must never be a 5xx, its status must be one the document declares for
the operation, and its body and content type must match what the document says.

The admin is the module's own, and no generated request can reach it: user ids in paths are either
random or the seeded `victim`'s, never the admin's, so a PATCH /users/{id} can demote or deactivate
the victim but never lock the test out. Path parameters are the seeded rows' ids half of the time,
so the generated requests reach real records, not only 404s. Bounded: a few examples per operation.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    response_headers_conformance,
)

from api.app import create_app
from storage.db import unit_of_work
from tests.fixtures import clear_redis_keys, create_account, truncate_all
from tests.storage.messages.helpers import at, make_patient, make_visit, tomorrow

APP = create_app()
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = 25


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, str]]:
    """The module's admin and viewer, a victim account, and one row of each kind for path parameters."""
    from storage.cars import service as car_service
    from storage.teams import service as team_service

    truncate_all()
    clear_redis_keys()
    admin, viewer = create_account("admin"), create_account("viewer")
    victim = create_account("operator")
    with unit_of_work() as session:
        patient = make_patient(session, name="Paciente Gerada")
        visit = make_visit(session, patient, at(tomorrow(), 8, 0))
        car = car_service.create(session, {"label": "CARRO 77", "base": "AV CENTER 9"})
        driver = team_service.create_member(session, "driver", {"name": "Davi Motorista"})
        collector = team_service.create_member(session, "collector", {"name": "Cecília Coletora"})
        ids = {"patient_id": patient.id, "visit_id": visit.id, "car_id": car.id, "driver_id": driver.id,
               "collector_id": collector.id, "survivor_id": patient.id}
    from tests.api.role_rules.duplicates import _pair

    ids["pair_id"] = _pair()
    yield {"admin": admin.access_token, "viewer": viewer.access_token, "user_id": victim.id, **ids}
    truncate_all()
    clear_redis_keys()


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck), print_blob=True)
def test_generated_requests_get_documented_answers_and_never_a_5xx(case, world):
    for name in case.path_parameters or {}:
        if name in world and random.random() < 0.5:
            case.path_parameters[name] = world[name]
    for role in ("admin", "viewer"):
        case.call_and_validate(headers={"Authorization": f"Bearer {world[role]}"}, checks=CHECKS)
