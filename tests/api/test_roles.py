"""Every /api/v1 route of the OpenAPI document × every role: 401 without a token, 403 where the role
may not, success where it may. A route without a rule (`x-roles`) fails here, and so does a rule
that the route does not enforce."""

from __future__ import annotations

import importlib
import pkgutil
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from storage.db import unit_of_work
from storage.patients import service as patient_service
from tests.fixtures import clear_redis_keys, create_account, truncate_all

ROLES = ("admin", "operator", "viewer", "driver")
# Routes that need no token: adding one is a decision, so it is listed here by hand.
PUBLIC = {
    ("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/refresh"),
    # Messaging providers' webhooks: no token, but every request's signature is verified (401 otherwise).
    ("POST", "/api/v1/webhooks/twilio/status"), ("POST", "/api/v1/webhooks/twilio/inbound"),
    ("GET", "/api/v1/webhooks/whatsapp"), ("POST", "/api/v1/webhooks/whatsapp"),
    # A route sheet's signed link: the token itself is the credential (api.route_sheet_links).
    ("GET", "/api/v1/route-sheets/{token}"),
}

OPERATIONS = sorted(
    (method.upper(), path, operation)
    for path, item in create_app().openapi()["paths"].items()
    if path.startswith("/api/v1/")
    for method, operation in item.items()
)
PROTECTED = [(m, p, op) for m, p, op in OPERATIONS if (m, p) not in PUBLIC]


def _unique_email() -> str:
    return f"novo-{uuid.uuid4().hex[:8]}@coleta.test"


# What a request that should succeed sends, and the status it gets. A route missing here is still
# checked: allowed roles must get past the guard (no 401/403) without a server error.
SUCCESS = {
    ("GET", "/api/v1/patients"): (lambda: {}, 200),
    ("GET", "/api/v1/patients/suggest"): (lambda: {"params": {"q": "pac"}}, 200),
    ("POST", "/api/v1/patients"): (lambda: {"json": {"name": "Paciente da Matriz"}}, 201),
    ("GET", "/api/v1/patients/{patient_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/patients/{patient_id}"): (lambda: {"json": {"notes": "ligar antes"}}, 200),
    ("DELETE", "/api/v1/patients/{patient_id}"): (lambda: {}, 204),
    ("GET", "/api/v1/patients/{patient_id}/audit"): (lambda: {}, 200),
    ("GET", "/api/v1/admin/sync"): (lambda: {}, 200),
    ("POST", "/api/v1/admin/reindex"): (lambda: {"json": {"index": "visits"}}, 202),
    ("GET", "/api/v1/imports"): (lambda: {}, 200),
    ("POST", "/api/v1/imports"): (lambda: {"files": {"file": ("agenda.csv", _SIMPLIFIED_CSV, "text/csv")}}, 202),
    ("GET", "/api/v1/imports/{import_id}"): (lambda: {}, 200),
    ("GET", "/api/v1/users"): (lambda: {}, 200),
    ("GET", "/api/v1/stats/dashboard"): (lambda: {"params": {"date": "2025-06-20"}}, 200),
    ("GET", "/api/v1/stats/confirmation-rates"): (lambda: {"params": {"group_by": "car"}}, 200),
    ("POST", "/api/v1/users"): (
        lambda: {"json": {"email": _unique_email(), "name": "Nova Pessoa", "role": "viewer", "password": "senha-nova-123"}},
        201,
    ),
    ("GET", "/api/v1/users/me"): (lambda: {}, 200),
    ("GET", "/api/v1/users/{user_id}"): (lambda: {}, 200),
    ("PATCH", "/api/v1/users/{user_id}"): (lambda: {"json": {"name": "Nome Trocado"}}, 200),
}


_SIMPLIFIED_CSV = (
    "ID Sala;Nome da Sala;Data/Hora Início;Data/Hora Fim;Nome do Paciente;Códigos dos Exames;Nomes dos Exames;"
    "Total Exames;Endereço Coleta;Pedido Médico;Canal Efetivação;Status Confirmação;Canal Confirmação;"
    "Documento(s) Paciente;Contato(s) Paciente;Nascimento\n"
    "001;CARRO 1 - Coleta Domiciliar;20/06/2025 07:20;20/06/2025 08:00;Paciente da Matriz;HBA001;Hemoglobina;1;"
    "Rua das Flores, 123, Centro, São Paulo, SP;PM1;NAV;Confirmado;WHATSS;;;01/02/1960\n"
).encode("utf-8")


def _new_import() -> str:
    from storage.imports import service as import_service

    with unit_of_work() as session:
        return import_service.register_upload(session, "agenda.csv", _SIMPLIFIED_CSV).id


def _new_patient() -> str:
    with unit_of_work() as session:
        return patient_service.create(session, {"name": "Paciente Alvo"}).id


def _new_user() -> str:
    return create_account("viewer").id


PATH_PARAMS = {"patient_id": _new_patient, "user_id": _new_user, "import_id": _new_import}

# Each later domain keeps its rules in tests/api/role_rules/<domain>.py: `SUCCESS`, `DECIDED` and
# `PATH_PARAMS` dictionaries shaped like the ones here, merged in (a key defined twice is an error).
DECIDED: dict[str, list[str]] = {}
for _module_info in pkgutil.iter_modules([str(Path(__file__).parent / "role_rules")]):
    _rules = importlib.import_module(f"tests.api.role_rules.{_module_info.name}")
    for _mine, _theirs in ((SUCCESS, getattr(_rules, "SUCCESS", {})), (PATH_PARAMS, getattr(_rules, "PATH_PARAMS", {})),
                           (DECIDED, getattr(_rules, "DECIDED", {}))):
        _clash = set(_mine) & set(_theirs)
        assert not _clash, f"role rules defined twice: {_clash}"
        _mine.update(_theirs)


def _url(path: str) -> str:
    def fill(match: re.Match) -> str:
        factory = PATH_PARAMS.get(match.group(1))
        return factory() if factory else "00000000-0000-0000-0000-000000000000"

    return re.sub(r"\{(\w+)\}", fill, path)


@pytest.fixture(scope="module")
def setting() -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """One app and one user per role for the whole matrix (tables emptied before and after)."""
    truncate_all()
    clear_redis_keys()
    headers = {role: create_account(role).headers for role in ROLES}
    with TestClient(create_app()) as client:
        yield client, headers
    truncate_all()
    clear_redis_keys()


def test_every_route_has_a_rule():
    assert PROTECTED, "no /api/v1 route found"
    missing = [f"{m} {p}" for m, p, op in PROTECTED if not op.get("x-roles")]
    assert missing == [], "routes without a role rule (use **allow(...) from api.security)"
    unknown = {r for _, _, op in PROTECTED for r in op["x-roles"]} - set(ROLES)
    assert unknown == set()
    public = {(m, p) for m, p, op in OPERATIONS if op.get("x-public")}
    assert public == PUBLIC


@pytest.mark.parametrize("role", [None, *ROLES], ids=["anonymous", *ROLES])
@pytest.mark.parametrize(("method", "path", "operation"), PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_route_by_role(setting, method, path, operation, role):
    client, headers = setting
    sample, expected = SUCCESS.get((method, path), (lambda: {}, None))
    response = client.request(method, _url(path), headers=headers.get(role, {}), **sample())
    # Some successes are not JSON (the route sheet is HTML); every error body is.
    is_json = response.headers.get("content-type", "").startswith("application/json")
    body = response.json() if response.content and is_json else None

    if role is None:
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert body["error"]["code"] == "not_authenticated"
    elif role not in operation["x-roles"]:
        assert response.status_code == 403
        assert body == {"error": {"code": "forbidden", "message": "Você não tem permissão para esta ação.", "details": None}}
    elif expected is not None:
        assert response.status_code == expected, body
    else:
        assert response.status_code not in (401, 403) and response.status_code < 500, body


def test_the_role_table():
    """The rules as decided (docs/api.md roles plus `driver`), so a change to one is deliberate."""
    table = {f"{m} {p}": op["x-roles"] for m, p, op in PROTECTED}
    readers, staff, admin = ["admin", "operator", "viewer"], ["admin", "operator"], ["admin"]
    decided = {
        "GET /api/v1/admin/sync": admin,
        "POST /api/v1/admin/reindex": admin,
        "GET /api/v1/imports": readers,
        "POST /api/v1/imports": staff,
        "GET /api/v1/imports/{import_id}": readers,
        "GET /api/v1/patients": readers,
        "GET /api/v1/patients/suggest": readers,
        "POST /api/v1/patients": staff,
        "DELETE /api/v1/patients/{patient_id}": admin,
        "GET /api/v1/patients/{patient_id}": readers,
        "PATCH /api/v1/patients/{patient_id}": staff,
        "GET /api/v1/stats/dashboard": readers,
        "GET /api/v1/stats/confirmation-rates": readers,
        "GET /api/v1/patients/{patient_id}/audit": admin,
        "GET /api/v1/users": admin,
        "POST /api/v1/users": admin,
        "GET /api/v1/users/me": ["admin", "driver", "operator", "viewer"],
        "GET /api/v1/users/{user_id}": admin,
        "PATCH /api/v1/users/{user_id}": admin,
    }
    decided.update(DECIDED)
    assert table == decided
