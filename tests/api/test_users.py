"""Users API (admins manage accounts) and the driver's car dependency."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from api.security import DriverCar

USERS = "/api/v1/users"


def test_admin_creates_lists_reads_and_updates_users(api_client, make_account):
    admin = make_account("admin", email="chefe@coleta.test")

    created = api_client.post(
        USERS,
        json={"email": " Joao.Motorista@Coleta.Test", "name": "João  Motorista", "role": "driver",
              "password": "senha-do-joao-1", "car_id": "car-3"},
        headers=admin.headers,
    )
    assert created.status_code == 201
    user = created.json()
    assert {k: user[k] for k in ("email", "name", "role", "active", "car_id", "last_login_at")} == {
        "email": "joao.motorista@coleta.test", "name": "João Motorista", "role": "driver", "active": True,
        "car_id": "car-3", "last_login_at": None,
    }
    assert "password" not in user and "password_hash" not in user

    listed = api_client.get(USERS, headers=admin.headers).json()["items"]
    assert [u["email"] for u in listed] == ["chefe@coleta.test", "joao.motorista@coleta.test"]
    assert api_client.get(f"{USERS}/{user['id']}", headers=admin.headers).json()["id"] == user["id"]

    patched = api_client.patch(f"{USERS}/{user['id']}", json={"car_id": None, "name": "João M."}, headers=admin.headers)
    assert (patched.json()["car_id"], patched.json()["name"], patched.json()["role"]) == (None, "João M.", "driver")


def test_user_errors_are_pt_br_and_never_echo_the_password(api_client, make_account):
    admin = make_account("admin", email="chefe@coleta.test")
    secret = "curtinha"

    weak = api_client.post(USERS, json={"email": "a@coleta.test", "name": "A", "role": "viewer", "password": secret},
                           headers=admin.headers)
    assert weak.status_code == 422
    assert weak.json()["error"] == {
        "code": "weak_password", "message": "A senha deve ter pelo menos 10 caracteres.", "details": {"field": "password"},
    }
    taken = api_client.post(USERS, json={"email": "CHEFE@coleta.test", "name": "B", "role": "viewer",
                                         "password": "senha-longa-123"}, headers=admin.headers)
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "user_email_exists")
    bad_role = api_client.post(USERS, json={"email": "c@coleta.test", "name": "C", "role": "root",
                                            "password": "senha-longa-123"}, headers=admin.headers)
    assert bad_role.status_code == 422
    last_admin = api_client.patch(f"{USERS}/{admin.id}", json={"active": False}, headers=admin.headers)
    assert (last_admin.status_code, last_admin.json()["error"]["code"]) == (409, "last_admin")
    missing = api_client.get(f"{USERS}/00000000-0000-0000-0000-000000000000", headers=admin.headers)
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "Usuário não encontrado.")
    for response in (weak, taken, bad_role):
        assert secret not in response.text and "senha-longa-123" not in response.text


def test_every_role_reads_itself(api_client, make_account):
    for role in ("admin", "operator", "viewer", "driver"):
        account = make_account(role)
        me = api_client.get(f"{USERS}/me", headers=account.headers)
        assert (me.status_code, me.json()["id"], me.json()["role"]) == (200, account.id, role)


def _driver_app() -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.get("/car")
    def car(car_id: DriverCar) -> dict[str, str]:
        return {"car_id": car_id}

    return TestClient(app)


def test_current_driver_car(api_client, make_account):
    client = _driver_app()

    assert client.get("/car", headers=make_account("driver", car_id="car-9").headers).json() == {"car_id": "car-9"}
    no_car = client.get("/car", headers=make_account("driver").headers)
    assert (no_car.status_code, no_car.json()["error"]["code"]) == (403, "no_car_assigned")
    for role in ("admin", "operator", "viewer"):
        other = client.get("/car", headers=make_account(role).headers)
        assert (other.status_code, other.json()["error"]["code"]) == (403, "forbidden")
    assert client.get("/car").status_code == 401
