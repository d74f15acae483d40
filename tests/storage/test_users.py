"""Users: creation rules, argon2 hashes, authentication, updates that revoke tokens, ensure_admin."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from storage.errors import Conflict, Invalid, NotFound
from storage.users import passwords, repo
from storage.users import service as user_service

PASSWORD = "uma-senha-longa-1"


def _create(session, **overrides):
    data = {"email": "Ana.Souza@Coleta.Test ", "name": "  Ana   Souza ", "role": "operator", "password": PASSWORD}
    data.update(overrides)
    return user_service.create(session, data)


def test_create_normalises_and_hashes_with_argon2id(db_session):
    user = _create(db_session)

    assert (user.email, user.name, user.role, user.active, user.car_id, user.token_version) == (
        "ana.souza@coleta.test", "Ana Souza", "operator", True, None, 0,
    )
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert passwords.verify_password(user.password_hash, PASSWORD) is True
    assert passwords.verify_password(user.password_hash, PASSWORD + "x") is False
    assert repo.get_by_email(db_session, "ana.souza@coleta.test").id == user.id


def test_duplicate_email_is_a_conflict_whatever_the_case(db_session):
    _create(db_session)
    with pytest.raises(Conflict) as error:
        _create(db_session, email="ANA.SOUZA@coleta.test")
    assert error.value.code == "user_email_exists"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"email": "sem-arroba"}, "invalid_email", "email"),
        ({"name": "   "}, "missing_name", "name"),
        ({"role": "root"}, "invalid_role", "role"),
        ({"password": "curta"}, "weak_password", "password"),
        ({"password": "x" * 129}, "invalid_password", "password"),
        ({"email": "longa.senha1@coleta.test", "password": "longa.senha1@coleta.test"}, "weak_password", "password"),
        ({"car_id": "car-1"}, "car_only_for_drivers", "car_id"),
    ],
)
def test_create_rejects_bad_input(db_session, overrides, code, field):
    with pytest.raises(Invalid) as error:
        _create(db_session, **overrides)
    assert (error.value.code, error.value.details["field"]) == (code, field)


def test_a_driver_keeps_a_car_until_the_role_changes(db_session):
    driver = _create(db_session, email="motorista@coleta.test", role="driver", car_id="car-7")
    assert driver.car_id == "car-7"

    user_service.update(db_session, driver.id, {"role": "viewer"})
    assert (driver.role, driver.car_id, driver.token_version) == ("viewer", None, 1)


def test_authenticate_accepts_only_the_right_password_of_an_active_user(db_session):
    user = _create(db_session)

    assert user_service.authenticate(db_session, " ANA.souza@coleta.test", PASSWORD).id == user.id
    assert user.last_login_at is not None
    assert user_service.authenticate(db_session, "ana.souza@coleta.test", "errada-errada") is None
    assert user_service.authenticate(db_session, "ninguem@coleta.test", PASSWORD) is None
    assert user_service.authenticate(db_session, "nem-email", PASSWORD) is None
    user_service.update(db_session, user.id, {"active": False})
    assert user_service.authenticate(db_session, "ana.souza@coleta.test", PASSWORD) is None


def test_authenticate_rehashes_a_hash_made_with_weaker_parameters(db_session):
    user = _create(db_session)
    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    user.password_hash = weak
    db_session.flush()

    assert user_service.authenticate(db_session, user.email, PASSWORD) is not None
    assert user.password_hash != weak
    assert passwords.needs_rehash(user.password_hash) is False


def test_access_changes_bump_the_token_version_and_a_rename_does_not(db_session):
    _create(db_session, email="outra.admin@coleta.test", role="admin")
    user = _create(db_session, role="admin")

    user_service.update(db_session, user.id, {"name": "Ana S."})
    assert user.token_version == 0
    user_service.update(db_session, user.id, {"password": "outra-senha-longa"})
    assert user.token_version == 1
    user_service.update(db_session, user.id, {"role": "operator"})
    assert user.token_version == 2
    user_service.update(db_session, user.id, {"active": False})
    assert user.token_version == 3
    user_service.update(db_session, user.id, {"active": False})
    assert user.token_version == 3
    user_service.revoke_tokens(db_session, user.id)
    assert user.token_version == 4


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(db_session):
    admin = _create(db_session, role="admin")
    for changes in ({"role": "viewer"}, {"active": False}):
        with pytest.raises(Conflict) as error:
            user_service.update(db_session, admin.id, changes)
        assert error.value.code == "last_admin"


def test_update_of_unknown_user_or_field(db_session):
    with pytest.raises(NotFound):
        user_service.update(db_session, "00000000-0000-0000-0000-000000000000", {"name": "X"})
    user = _create(db_session)
    with pytest.raises(Invalid) as error:
        user_service.update(db_session, user.id, {"email": "novo@coleta.test"})
    assert error.value.code == "unknown_fields"


def test_ensure_admin_is_idempotent_and_reset_restores_access(db_session):
    admin, created = user_service.ensure_admin(db_session, "Admin@Coleta.Local", "coleta-dev-admin")
    assert (created, admin.email, admin.role, admin.name) == (True, "admin@coleta.local", "admin", "Administrador")

    again, created = user_service.ensure_admin(db_session, "admin@coleta.local", "outra-senha-qualquer")
    assert (created, again.id) == (False, admin.id)
    assert passwords.verify_password(again.password_hash, "coleta-dev-admin") is True

    _create(db_session, email="segunda.admin@coleta.test", role="admin")
    user_service.update(db_session, admin.id, {"active": False})
    _, created = user_service.ensure_admin(db_session, "admin@coleta.local", "senha-nova-123", reset=True)
    assert (created, admin.active, admin.role) == (False, True, "admin")
    assert passwords.verify_password(admin.password_hash, "senha-nova-123") is True
    count = db_session.execute(text("SELECT count(*) FROM users WHERE email = 'admin@coleta.local'")).scalar_one()
    assert count == 1


def test_the_database_keeps_emails_lower_case_and_roles_known(db_session):
    from sqlalchemy.exc import IntegrityError

    for column, value in (("email", "'Maiuscula@coleta.test'"), ("role", "'root'")):
        values = {"email": "'x@coleta.test'", "role": "'viewer'"}
        values[column] = value
        with pytest.raises(IntegrityError), db_session.begin_nested():
            db_session.execute(text(
                "INSERT INTO users (id, email, name, role, password_hash) "
                f"VALUES (gen_random_uuid()::text, {values['email']}, 'X', {values['role']}, 'h')"
            ))
