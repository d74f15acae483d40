"""Patient routes write the audit trail: reads commit their own row, changes share the transaction."""

from __future__ import annotations

from sqlalchemy import text

from storage.audit import repo as audit_repo
from storage.db import unit_of_work

PATIENTS = "/api/v1/patients"
BODY = {
    "name": "Maria José da Silva",
    "cpf": "529.982.247-25",
    "phones": ["(21) 99876-5432"],
    "address": {"city": "Rio de Janeiro", "neighborhood": "Barra da Tijuca"},
}


def _events(patient_id):
    with unit_of_work() as session:
        return [
            (e.action, e.actor_id, e.actor_role, e.entity_type, e.entity_id, e.details)
            for e in reversed(audit_repo.list_for_entity(session, "patient", patient_id))
        ]


def test_create_read_update_delete_each_write_one_row(api_client, make_account):
    operator, admin = make_account("operator"), make_account("admin")
    created = api_client.post(PATIENTS, json=BODY, headers=operator.headers)
    assert created.status_code == 201
    pid = created.json()["id"]

    assert api_client.get(f"{PATIENTS}/{pid}", headers=operator.headers).status_code == 200
    patched = api_client.patch(
        f"{PATIENTS}/{pid}",
        json={"notes": "portão azul", "address": {"city": "Niterói"}, "tags": []},
        headers=operator.headers,
    )
    assert patched.status_code == 200
    assert api_client.delete(f"{PATIENTS}/{pid}", headers=admin.headers).status_code == 204

    assert _events(pid) == [
        ("patient.create", operator.id, "operator", "patient", pid, {"fields": ["address", "cpf", "name", "phones"]}),
        ("patient.read", operator.id, "operator", "patient", pid, {}),
        # Only what changed (tags were already empty), nested fields dotted; never the values.
        ("patient.update", operator.id, "operator", "patient", pid, {"fields": ["address.city", "notes"]}),
        ("patient.delete", admin.id, "admin", "patient", pid, {}),
    ]


def test_each_row_says_from_where_and_which_request(api_client, make_account):
    viewer = make_account("viewer")
    pid = api_client.post(PATIENTS, json=BODY, headers=make_account("operator").headers).json()["id"]

    response = api_client.get(
        f"{PATIENTS}/{pid}",
        headers={**viewer.headers, "X-Request-ID": "req-from-front-0001", "User-Agent": "Coleta-Web/1.0 " + "x" * 400},
    )
    assert response.headers["x-request-id"] == "req-from-front-0001"
    with unit_of_work() as session:
        event = audit_repo.list_for_entity(session, "patient", pid)[0]
    assert (event.action, event.actor_id, event.ip, event.request_id) == (
        "patient.read", viewer.id, "testclient", "req-from-front-0001",
    )
    assert event.user_agent == ("Coleta-Web/1.0 " + "x" * 400)[:200]


def test_failed_changes_and_missing_patients_write_nothing(api_client, make_account):
    operator = make_account("operator")
    pid = api_client.post(PATIENTS, json=BODY, headers=operator.headers).json()["id"]

    bad = api_client.patch(f"{PATIENTS}/{pid}", json={"cpf": "111.111.111-11"}, headers=operator.headers)
    assert bad.status_code == 422
    duplicate = api_client.post(PATIENTS, json=BODY, headers=operator.headers)
    assert duplicate.status_code == 409
    assert api_client.get(f"{PATIENTS}/nao-existe", headers=operator.headers).status_code == 404

    assert [e[0] for e in _events(pid)] == ["patient.create"]
    assert _events("nao-existe") == []
    with unit_of_work() as session:
        assert session.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1


def test_forbidden_attempts_write_nothing(api_client, make_account):
    pid = api_client.post(PATIENTS, json=BODY, headers=make_account("operator").headers).json()["id"]
    viewer = make_account("viewer")

    assert api_client.patch(f"{PATIENTS}/{pid}", json={"notes": "x"}, headers=viewer.headers).status_code == 403
    assert api_client.delete(f"{PATIENTS}/{pid}", headers=viewer.headers).status_code == 403
    assert [e[0] for e in _events(pid)] == ["patient.create"]


def test_admins_read_the_trail_newest_first_with_a_cursor(api_client, make_account):
    operator, admin = make_account("operator"), make_account("admin")
    pid = api_client.post(PATIENTS, json=BODY, headers=operator.headers).json()["id"]
    for _ in range(3):
        api_client.get(f"{PATIENTS}/{pid}", headers=operator.headers)

    first = api_client.get(f"{PATIENTS}/{pid}/audit", params={"limit": 3}, headers=admin.headers)
    assert first.status_code == 200
    page = first.json()
    assert [e["action"] for e in page["items"]] == ["patient.read"] * 3
    assert {e["actor_id"] for e in page["items"]} == {operator.id}
    assert set(page["items"][0]) == {
        "id", "occurred_at", "actor_id", "actor_name", "actor_role", "action", "entity_type", "entity_id", "ip",
        "request_id", "user_agent", "details",
    }
    assert page["items"][0]["actor_name"] == "Usuária de Teste"
    rest = api_client.get(
        f"{PATIENTS}/{pid}/audit", params={"limit": 3, "cursor": page["next_cursor"]}, headers=admin.headers
    ).json()
    assert [e["action"] for e in rest["items"]] == ["patient.create"]
    assert rest["next_cursor"] is None
    # Reading the trail is not itself a patient read.
    assert len(_events(pid)) == 4


def test_the_trail_outlives_the_patient(api_client, make_account):
    admin = make_account("admin")
    pid = api_client.post(PATIENTS, json=BODY, headers=admin.headers).json()["id"]
    api_client.delete(f"{PATIENTS}/{pid}", headers=admin.headers)

    trail = api_client.get(f"{PATIENTS}/{pid}/audit", headers=admin.headers).json()
    assert [e["action"] for e in trail["items"]] == ["patient.delete", "patient.create"]


def test_no_route_edits_the_trail(api_client, make_account):
    admin = make_account("admin")
    pid = api_client.post(PATIENTS, json=BODY, headers=admin.headers).json()["id"]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert api_client.request(method, f"{PATIENTS}/{pid}/audit", headers=admin.headers).status_code == 405


def test_user_changes_are_audited_by_field_name(api_client, make_account):
    admin = make_account("admin")
    created = api_client.post(
        "/api/v1/users",
        json={"email": "nova@coleta.test", "name": "Nova", "role": "viewer", "password": "senha-nova-123"},
        headers=admin.headers,
    )
    uid = created.json()["id"]
    api_client.patch(f"/api/v1/users/{uid}", json={"password": "outra-senha-123", "role": "operator"}, headers=admin.headers)

    with unit_of_work() as session:
        events = [(e.action, e.actor_id, e.details) for e in reversed(audit_repo.list_for_entity(session, "user", uid))]
    assert events == [
        ("user.create", admin.id, {"fields": ["email", "name", "password", "role"]}),
        ("user.update", admin.id, {"fields": ["password", "role"]}),
    ]
