"""Logs are JSON lines with a request id, and no CPF, phone, name, e-mail or token reaches them
(nor an error body): requests that carry them, failing ones included, then a grep of the output."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from observability import logs

CPF = "52998224725"
CPF_FORMATTED = "529.982.247-25"
PHONE = "21998765432"
PHONE_FORMATTED = "(21) 99876-5432"
NAME = "Josefina Albuquerque Brandão"
EMAIL = "josefina.brandao@example.com"
PASSWORD = "senha-da-josefina-1"


def _lines(err: str) -> list[dict]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


@pytest.fixture
def traffic(api_client, make_account, capsys):
    """Make requests full of personal data, succeeding and failing; return (responses, token, captured)."""
    capsys.readouterr()
    operator = make_account("operator")
    token = operator.access_token
    auth = operator.headers
    body = {"name": NAME, "cpf": CPF_FORMATTED, "phones": [PHONE_FORMATTED], "email": EMAIL}
    errors = [
        api_client.post("/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD}),
        api_client.post("/api/v1/auth/token", data={"username": operator.email, "password": PASSWORD}),
        api_client.post("/api/v1/patients", json={**body, "cpf": "529.982.247-26"}, headers=auth),
        api_client.post("/api/v1/patients", json={**body, "phones": ["21 1234"]}, headers=auth),
        api_client.post("/api/v1/patients", json={**body, "unexpected": NAME, "birth_date": CPF}, headers=auth),
        api_client.post("/api/v1/patients", json={**body, "email": f"{NAME}@"}, headers=auth),
        api_client.get(f"/api/v1/patients/{CPF}", params={"q": NAME}, headers=auth),
        api_client.get(f"/api/v1/nao-existe/{CPF}", params={"telefone": PHONE}),
        api_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}x"}),
        api_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}", "X-Request-ID": f"{CPF}{CPF}"}),
        api_client.post("/api/v1/auth/refresh", json={"refresh_token": token}),
    ]
    created = api_client.post("/api/v1/patients", json=body, headers=auth)
    assert created.status_code == 201
    conflict = api_client.post("/api/v1/patients", json=body, headers=auth)
    ok = [
        created,
        api_client.get("/api/v1/patients", params={"q": CPF_FORMATTED}, headers=auth),
        api_client.get("/api/v1/patients", params={"q": NAME}, headers=auth),
        api_client.get(f"/api/v1/patients/{created.json()['id']}", headers=auth),
        api_client.patch(f"/api/v1/patients/{created.json()['id']}", json={"notes": f"falar com {NAME}"}, headers=auth),
    ]
    errors.append(conflict)

    # Code that logs what it should not: the filter is the last line of defence.
    log = logging.getLogger("coleta.test")
    log.warning("paciente cpf %s tel %s", CPF_FORMATTED, PHONE_FORMATTED,
                extra={"patient_name": NAME, "cpf": CPF, "token": token, "note": f"ligar {PHONE} ou {EMAIL}",
                       "context": {"phone": PHONE, "nested": [f"cpf {CPF}"]}})
    log.info("Authorization: Bearer %s", token)
    try:
        raise ValueError(f"falhou para {CPF_FORMATTED} / {EMAIL} / {PHONE}")
    except ValueError:
        log.exception("erro ao processar")
    try:
        from api.schemas.patients import PatientCreate

        PatientCreate(name=NAME, birth_date=NAME)
    except ValueError as error:  # pydantic repeats the input in its text
        log.error("corpo inválido: %s", error)
    logging.getLogger("uvicorn.access").warning(
        '%s - "%s %s HTTP/%s" %d', "203.0.113.1:5000", "GET", f"/api/v1/patients?q={quote(NAME)}&cpf={CPF}", "1.1", 200
    )
    return errors, ok, token, capsys.readouterr().err


def test_nothing_personal_reaches_the_logs(traffic):
    errors, ok, token, err = traffic
    lines = _lines(err)
    assert len(lines) >= len(errors) + len(ok)
    forbidden = [CPF, CPF_FORMATTED, PHONE, PHONE_FORMATTED, "99876-5432", NAME, "Josefina", "Albuquerque",
                 quote(NAME), quote_plus(NAME), EMAIL, quote(EMAIL), PASSWORD, token, token.split(".")[2]]
    leaks = [line for line in err.splitlines() if any(value in line for value in forbidden)]
    assert leaks == []


def test_error_bodies_carry_no_personal_data(traffic):
    errors, _, token, _ = traffic
    assert [r.status_code for r in errors] == [401, 401, 422, 422, 422, 422, 404, 404, 401, 200, 401, 409]
    for response in errors:
        if response.status_code == 200:
            continue
        assert set(response.json()) == {"error"}
        for value in (CPF, CPF_FORMATTED, PHONE, PHONE_FORMATTED, NAME, EMAIL, PASSWORD, token):
            assert value not in response.text, (response.request.url.path, response.text)


def test_lines_are_json_with_the_request_id_of_their_request(traffic):
    errors, ok, _, err = traffic
    access = [line for line in _lines(err) if line["logger"] == "coleta.access"]
    in_order = errors[:-1] + ok[:1] + errors[-1:] + ok[1:]
    assert [line["request_id"] for line in access] == [r.headers["x-request-id"] for r in in_order]
    patch = next(line for line in access if line["method"] == "PATCH")
    assert {k: patch[k] for k in ("message", "level", "path", "status")} == {
        "message": "request", "level": "INFO", "path": "/api/v1/patients/{patient_id}", "status": 200,
    }
    assert patch["user_id"] is not None and patch["duration_ms"] >= 0
    unmatched = next(line for line in access if line["status"] == 404 and "nao-existe" in line["path"])
    assert unmatched["path"] == "/api/v1/nao-existe/[cpf]"
    # An insane incoming X-Request-ID (here: two CPFs) is replaced, not echoed.
    assert errors[9].headers["x-request-id"] != f"{CPF}{CPF}"
    assert len(errors[9].headers["x-request-id"]) == 32

    failed_login = next(line for line in _lines(err) if line["message"] == "login failed")
    assert failed_login["level"] == "WARNING" and failed_login["client_ip"] == "testclient"
    custom = next(line for line in _lines(err) if line["logger"] == "coleta.test" and line["level"] == "WARNING")
    assert custom["message"] == "paciente cpf [cpf] tel [phone]"
    assert (custom["patient_name"], custom["cpf"], custom["token"]) == ("[redacted]", "[redacted]", "[redacted]")
    # Eleven bare digits could be a CPF or a mobile with its DDD: masked either way.
    assert custom["note"] == "ligar [cpf] ou [email]"
    assert custom["context"] == {"phone": "[redacted]", "nested": ["cpf [cpf]"]}
    failure = next(line for line in _lines(err) if line["message"] == "erro ao processar")
    assert "ValueError: falhou para [cpf] / [email] / [cpf]" in failure["exception"]
    invalid_body = next(line for line in _lines(err) if line["message"].startswith("corpo inválido"))
    assert "input_value=[redacted]" in invalid_body["message"]
    uvicorn = next(line for line in _lines(err) if line["logger"] == "uvicorn.access")
    assert uvicorn["message"] == '203.0.113.1:5000 - "GET /api/v1/patients HTTP/1.1" 200'


def test_the_filter_masks_messages_and_fields():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "cpf %s", (CPF_FORMATTED,), None)
    record.phone_number = PHONE
    record.index = "patients"
    assert logs.RedactingFilter().filter(record) is True
    assert (record.getMessage(), record.phone_number, record.index) == ("cpf [cpf]", "[redacted]", "patients")
    line = json.loads(logs.JsonFormatter().format(record))
    assert (line["message"], line["phone_number"], line["index"], line["request_id"]) == (
        "cpf [cpf]", "[redacted]", "patients", None,
    )
