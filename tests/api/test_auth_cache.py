"""The signed-in user is reused briefly per API process, and revocation stays immediate."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import update

from api import auth_cache
from api.settings import get_settings as get_api_settings
from storage.db import unit_of_work
from storage.users.models import User
from tests.fixtures import ROOT
from tests.throwaway import throwaway_redis  # noqa: F401
from workers import user_generation
from workers.settings import get_settings as get_worker_settings

ME = "/api/v1/users/me"


def _rename_by_hand(user_id: str, name: str) -> None:
    """A change nobody announces (SQL by hand): no generation is replaced."""
    with unit_of_work() as session:
        session.execute(update(User).where(User.id == user_id).values(name=name))


@pytest.fixture(autouse=True)
def _fresh_cache():
    auth_cache.clear()
    yield
    auth_cache.clear()


def test_an_unannounced_change_is_seen_once_the_generation_changes(api_client, make_account):
    account = make_account("viewer")
    assert api_client.get(ME, headers=account.headers).json()["name"] == "Usuária de Teste"

    _rename_by_hand(account.id, "Renomeada à mão")
    # The copy is reused while the user's generation stands (at most COLETA_AUTH_CACHE_SECONDS)...
    assert api_client.get(ME, headers=account.headers).json()["name"] == "Usuária de Teste"
    # ...and dropped as soon as it is replaced.
    assert user_generation.bump(account.id) is True
    assert api_client.get(ME, headers=account.headers).json()["name"] == "Renomeada à mão"


def test_a_cli_deactivation_in_another_process_ends_a_cached_token_at_once(api_client, make_account):
    account = make_account("operator")
    assert api_client.get(ME, headers=account.headers).status_code == 200  # the copy is cached now

    subprocess.run([sys.executable, "-m", "workers", "users", "deactivate", "--email", account.email],
                   cwd=ROOT, check=True, capture_output=True)

    me = api_client.get(ME, headers=account.headers)
    assert (me.status_code, me.json()["error"]["code"]) == (401, "invalid_token")


def test_a_role_change_through_the_api_ends_the_old_token_at_once(api_client, make_account):
    admin = make_account("admin")
    operator = make_account("operator")
    assert api_client.get("/api/v1/patients/suggest", params={"q": "ma"}, headers=operator.headers).status_code == 200

    response = api_client.patch(f"/api/v1/users/{operator.id}", json={"role": "viewer"}, headers=admin.headers)
    assert response.status_code == 200

    me = api_client.get(ME, headers=operator.headers)
    assert (me.status_code, me.json()["error"]["code"]) == (401, "invalid_token")


def test_without_redis_the_user_is_read_from_postgresql_on_every_request(
    api_client, make_account, throwaway_redis, monkeypatch
):
    account = make_account("viewer")
    monkeypatch.setenv("COLETA_REDIS_URL", throwaway_redis.url)
    get_worker_settings.cache_clear()
    user_generation._client.cache_clear()
    throwaway_redis.stop()
    try:
        assert api_client.get(ME, headers=account.headers).json()["name"] == "Usuária de Teste"
        _rename_by_hand(account.id, "Sem Redis")
        assert api_client.get(ME, headers=account.headers).json()["name"] == "Sem Redis"
    finally:
        monkeypatch.undo()
        get_worker_settings.cache_clear()
        user_generation._client.cache_clear()
        user_generation._breaker.succeeded()


def test_a_zero_cache_time_reads_postgresql_on_every_request(api_client, make_account, monkeypatch):
    account = make_account("viewer")
    monkeypatch.setenv("COLETA_AUTH_CACHE_SECONDS", "0")
    get_api_settings.cache_clear()
    try:
        assert api_client.get(ME, headers=account.headers).json()["name"] == "Usuária de Teste"
        _rename_by_hand(account.id, "Sem cópia")
        assert api_client.get(ME, headers=account.headers).json()["name"] == "Sem cópia"
    finally:
        monkeypatch.undo()
        get_api_settings.cache_clear()
