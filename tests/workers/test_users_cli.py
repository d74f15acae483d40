"""`python -m workers users …`: passwords from stdin or the environment, never from argv."""

from __future__ import annotations

import io

import pytest

from storage.audit import repo as audit_repo
from storage.db import unit_of_work
from storage.users import passwords
from storage.users import repo as user_repo
from workers import __main__ as cli
from workers.settings import get_settings


@pytest.fixture
def stdin(monkeypatch):
    def feed(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return feed


@pytest.fixture
def worker_settings(monkeypatch):
    """Fresh worker settings after the test changed the environment."""
    get_settings.cache_clear()
    yield lambda: get_settings.cache_clear()
    get_settings.cache_clear()


def _user(email):
    with unit_of_work() as session:
        return user_repo.get_by_email(session, email)


def test_create_list_set_password_deactivate(committed, stdin, capsys):
    stdin("senha-da-bia-123\n")
    assert cli.main(["users", "create", "--email", "Bia@Coleta.Test", "--name", "Bia", "--role", "driver",
                     "--car-id", "car-2", "--password-stdin"]) == 0
    bia = _user("bia@coleta.test")
    assert (bia.role, bia.car_id, bia.active) == ("driver", "car-2", True)
    assert passwords.verify_password(bia.password_hash, "senha-da-bia-123")

    capsys.readouterr()
    assert cli.main(["users", "list"]) == 0
    assert capsys.readouterr().out == f"{bia.id}  bia@coleta.test  driver  ativo carro=car-2\n"

    stdin("outra-senha-da-bia\n")
    assert cli.main(["users", "set-password", "--email", "bia@coleta.test", "--password-stdin"]) == 0
    assert passwords.verify_password(_user("bia@coleta.test").password_hash, "outra-senha-da-bia")

    assert cli.main(["users", "deactivate", "--email", "BIA@coleta.test"]) == 0
    bia = _user("bia@coleta.test")
    assert (bia.active, bia.token_version) == (False, 2)

    with unit_of_work() as session:
        trail = [(e.action, e.actor_role, e.user_agent, e.details) for e in
                 reversed(audit_repo.list_for_entity(session, "user", bia.id))]
    assert trail == [
        ("user.create", "system", "cli", {"fields": ["car_id", "email", "name", "password", "role"]}),
        ("user.update", "system", "cli", {"fields": ["password"]}),
        ("user.update", "system", "cli", {"fields": ["active"]}),
    ]


def test_password_from_the_environment_and_never_from_argv(committed, monkeypatch, stdin, capsys):
    monkeypatch.setenv("COLETA_USER_PASSWORD", "senha-do-ambiente-1")
    stdin("")
    assert cli.main(["users", "create", "--email", "env@coleta.test", "--name", "Env", "--role", "viewer"]) == 0
    assert passwords.verify_password(_user("env@coleta.test").password_hash, "senha-do-ambiente-1")

    monkeypatch.delenv("COLETA_USER_PASSWORD")
    assert cli.main(["users", "create", "--email", "sem@coleta.test", "--name", "Sem", "--role", "viewer"]) == 2
    assert "--password-stdin" in capsys.readouterr().err
    assert _user("sem@coleta.test") is None
    with pytest.raises(SystemExit):
        cli.main(["users", "create", "--email", "x@coleta.test", "--name", "X", "--role", "viewer", "--password", "p"])


def test_domain_errors_are_reported_in_pt_br(committed, stdin, capsys):
    stdin("curta\n")
    assert cli.main(["users", "create", "--email", "c@coleta.test", "--name", "C", "--role", "viewer",
                     "--password-stdin"]) == 1
    assert capsys.readouterr().err == "Erro: A senha deve ter pelo menos 10 caracteres.\n"
    assert cli.main(["users", "deactivate", "--email", "ninguem@coleta.test"]) == 1
    assert capsys.readouterr().err == "Erro: Usuário não encontrado.\n"


def test_ensure_admin_from_the_environment_is_idempotent(committed, monkeypatch, worker_settings, capsys):
    monkeypatch.setenv("COLETA_ADMIN_EMAIL", "root@coleta.test")
    monkeypatch.setenv("COLETA_ADMIN_PASSWORD", "senha-do-admin-1")
    worker_settings()
    assert cli.main(["users", "ensure-admin"]) == 0
    assert cli.main(["users", "ensure-admin"]) == 0
    assert capsys.readouterr().out == "Administrador root@coleta.test: criado.\nAdministrador root@coleta.test: já existia.\n"
    admin = _user("root@coleta.test")
    assert (admin.role, admin.active, admin.name) == ("admin", True, "Administrador")
    assert passwords.verify_password(admin.password_hash, "senha-do-admin-1")


def test_ensure_admin_defaults_in_development_only(committed, monkeypatch, worker_settings, capsys):
    monkeypatch.delenv("COLETA_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("COLETA_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("COLETA_ENVIRONMENT", "development")
    worker_settings()
    assert cli.main(["users", "ensure-admin"]) == 0
    assert passwords.verify_password(_user("admin@coleta.local").password_hash, "coleta-dev-admin")

    monkeypatch.setenv("COLETA_ENVIRONMENT", "production")
    worker_settings()
    capsys.readouterr()
    assert cli.main(["users", "ensure-admin", "--email", "prod@coleta.test"]) == 2
    assert capsys.readouterr().err == "Defina COLETA_ADMIN_PASSWORD (ou use --password-stdin).\n"
    monkeypatch.setenv("COLETA_ADMIN_PASSWORD", "coleta-dev-admin")
    worker_settings()
    assert cli.main(["users", "ensure-admin", "--email", "prod@coleta.test"]) == 2
    assert capsys.readouterr().err == "A senha padrão não é aceita no ambiente 'production'.\n"
    assert _user("prod@coleta.test") is None
