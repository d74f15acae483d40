"""Sign-in, refresh, forged and expired tokens, deactivation, throttling, settings that refuse defaults."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.settings import DEV_SECRET_KEY, ApiSettings, get_settings
from tests.fixtures import TEST_PASSWORD
from tests.throwaway import throwaway_redis  # noqa: F401

ME = "/api/v1/users/me"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"


def _login(client, email, password=TEST_PASSWORD, ip=None):
    if ip is not None:  # a client with another address (same app)
        client = TestClient(client.app, client=(ip, 50000))
    return client.post(TOKEN, data={"username": email, "password": password})


def _error(response):
    return response.json()["error"]["code"]


def test_login_issues_bearer_tokens_that_open_the_api(api_client, make_account):
    account = make_account("viewer", email="Vera.Lucia@Coleta.Test")

    response = _login(api_client, "vera.lucia@coleta.test ")
    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"], body["refresh_expires_in"]) == ("bearer", 900, 28800)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    assert (claims["sub"], claims["role"], claims["type"], claims["iss"], claims["ver"]) == (
        account.id, "viewer", "access", "coleta", 0,
    )
    assert claims["exp"] - claims["iat"] == 900

    me = api_client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert (me.json()["id"], me.json()["email"], me.json()["role"]) == (account.id, "vera.lucia@coleta.test", "viewer")
    assert me.json()["last_login_at"] is not None
    assert "password_hash" not in me.json()


@pytest.mark.parametrize(("email", "password"), [("vera@coleta.test", "senha-errada-1"), ("ninguem@coleta.test", TEST_PASSWORD)])
def test_wrong_password_or_unknown_user_get_the_same_401(api_client, make_account, email, password):
    make_account("viewer", email="vera@coleta.test")

    response = _login(api_client, email, password)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": {"code": "invalid_credentials", "message": "E-mail ou senha incorretos.", "details": None}}


def test_no_token_is_401_with_a_bearer_challenge(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": {"code": "not_authenticated", "message": "Autenticação necessária.", "details": None}}
    assert api_client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(account, **overrides):
    now = datetime.now(UTC)
    claims = {"iss": "coleta", "sub": account.id, "role": account.role, "type": "access", "ver": 0,
              "iat": now, "exp": now + timedelta(minutes=5), "jti": "j1"}
    claims.update(overrides)
    return claims


def _forgeries(account):
    real = jwt.decode(account.access_token, options={"verify_signature": False})
    key = get_settings().secret_key.get_secret_value()
    header, payload, signature = account.access_token.split(".")
    as_admin = _b64({**real, "role": "admin"})
    unsigned = {**real}
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(unsigned)}.",
        "alg none, signature kept": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}",
        "wrong key": jwt.encode(_claims(account), "outra-chave-secreta-com-32-bytes-ou-mais", algorithm="HS256"),
        "HS512 with the right key": jwt.encode(_claims(account), key, algorithm="HS512"),
        "payload tampered": f"{header}.{as_admin}.{signature}",
        "signature cut": f"{header}.{payload}.",
        "garbage": "nao-e-um-jwt",
        "other issuer": jwt.encode(_claims(account, iss="outro"), key, algorithm="HS256"),
        "refresh used as access": account.refresh_token,
        "missing jti": jwt.encode({k: v for k, v in _claims(account).items() if k != "jti"}, key, algorithm="HS256"),
        "unknown user": jwt.encode(_claims(account, sub="00000000-0000-0000-0000-000000000000"), key, algorithm="HS256"),
        "old token version": jwt.encode(_claims(account, ver=-1), key, algorithm="HS256"),
    }


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_tokens_are_401(api_client, make_account):
    account = make_account("operator")
    assert api_client.get(ME, headers=account.headers).status_code == 200

    for label, token in _forgeries(account).items():
        response = api_client.get(ME, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, label
        assert _error(response) == "invalid_token", label
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', label


def test_an_expired_token_is_401_token_expired(api_client, make_account):
    account = make_account("operator")
    key = get_settings().secret_key.get_secret_value()
    past = datetime.now(UTC) - timedelta(hours=1)
    token = jwt.encode(_claims(account, iat=past, exp=past + timedelta(minutes=15)), key, algorithm="HS256")

    response = api_client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, _error(response)) == (401, "token_expired")
    assert response.json()["error"]["message"] == "Sessão expirada: entre novamente."


def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_account(api_client, make_account):
    account = make_account("operator")

    first = api_client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != account.refresh_token
    assert api_client.get(ME, headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 200

    replay = api_client.post(REFRESH, json={"refresh_token": account.refresh_token})
    assert (replay.status_code, _error(replay)) == (401, "invalid_token")
    # The replay ended every session: the tokens issued by the first refresh are dead too.
    assert api_client.get(ME, headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 401
    assert api_client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_an_access_token_is_no_refresh_token(api_client, make_account):
    account = make_account("viewer")
    response = api_client.post(REFRESH, json={"refresh_token": account.access_token})
    assert (response.status_code, _error(response)) == (401, "invalid_token")


def test_deactivation_ends_access_and_refresh_tokens_at_once(api_client, make_account):
    admin = make_account("admin")
    operator = make_account("operator")
    assert api_client.get(ME, headers=operator.headers).status_code == 200

    response = api_client.patch(f"/api/v1/users/{operator.id}", json={"active": False}, headers=admin.headers)
    assert (response.status_code, response.json()["active"]) == (200, False)

    me = api_client.get(ME, headers=operator.headers)
    assert (me.status_code, _error(me)) == (401, "invalid_token")
    assert api_client.post(REFRESH, json={"refresh_token": operator.refresh_token}).status_code == 401
    assert _login(api_client, operator.email).status_code == 401

    # Reactivated: old tokens stay dead, a new login works.
    api_client.patch(f"/api/v1/users/{operator.id}", json={"active": True}, headers=admin.headers)
    assert api_client.get(ME, headers=operator.headers).status_code == 401
    assert _login(api_client, operator.email).status_code == 200


def test_a_password_change_ends_the_old_tokens(api_client, make_account):
    admin = make_account("admin")
    viewer = make_account("viewer")
    response = api_client.patch(f"/api/v1/users/{viewer.id}", json={"password": "nova-senha-forte"}, headers=admin.headers)
    assert response.status_code == 200
    assert api_client.get(ME, headers=viewer.headers).status_code == 401
    assert _login(api_client, viewer.email, TEST_PASSWORD).status_code == 401
    assert _login(api_client, viewer.email, "nova-senha-forte").status_code == 200


# --- throttling -------------------------------------------------------------------------------


def test_the_sixth_attempt_on_an_account_is_429_even_with_the_right_password(api_client, make_account):
    account = make_account("operator")

    statuses = [_login(api_client, account.email, "senha-errada-1").status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = _login(api_client, account.email)
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_attempts"
    assert blocked.json()["error"]["message"] == "Muitas tentativas de login. Aguarde alguns minutos e tente novamente."
    retry_after = int(blocked.headers["retry-after"])
    assert 890 <= retry_after <= 900
    assert blocked.json()["error"]["details"] == {"retry_after": retry_after}
    # Per account: another address is blocked too; another account from this address is not.
    assert _login(api_client, account.email, ip="203.0.113.9").status_code == 429
    other = make_account("viewer")
    assert _login(api_client, other.email).status_code == 200


def test_a_success_resets_the_account_counter(api_client, make_account):
    account = make_account("operator")
    for _ in range(4):
        assert _login(api_client, account.email, "senha-errada-1").status_code == 401
    assert _login(api_client, account.email).status_code == 200
    for _ in range(4):
        assert _login(api_client, account.email, "senha-errada-1").status_code == 401
    assert _login(api_client, account.email).status_code == 200


def test_one_address_trying_many_accounts_is_throttled(api_client, make_account):
    account = make_account("operator")
    ip = "198.51.100.4"
    for n in range(20):
        assert _login(api_client, f"tentativa{n}@coleta.test", "senha-errada-1", ip=ip).status_code == 401
    blocked = _login(api_client, account.email, ip=ip)
    assert (blocked.status_code, _error(blocked)) == (429, "too_many_attempts")
    assert _login(api_client, account.email, ip="198.51.100.5").status_code == 200


def test_throttle_counters_expire_with_the_window(api_client, make_account):
    from api.throttle import LoginThrottle, get_redis

    account = make_account("operator")
    settings = get_settings().model_copy(update={"login_window_seconds": 1})
    throttle = LoginThrottle(get_redis(), settings)
    for _ in range(5):
        throttle.failed(account.email, "192.0.2.1")
    with pytest.raises(Exception) as error:
        throttle.check(account.email, "192.0.2.1")
    assert error.value.status == 429
    time.sleep(1.1)
    throttle.check(account.email, "192.0.2.1")


# --- settings ------------------------------------------------------------------------------


def test_outside_development_default_secrets_refuse_to_load(monkeypatch):
    monkeypatch.delenv("COLETA_SECRET_KEY", raising=False)
    monkeypatch.delenv("COLETA_ADMIN_PASSWORD", raising=False)
    strong = "k" * 40
    for environment in ("development", "test"):
        assert ApiSettings(environment=environment).secret_key.get_secret_value() == DEV_SECRET_KEY

    with pytest.raises(ValidationError, match="COLETA_SECRET_KEY"):
        ApiSettings(environment="production")
    with pytest.raises(ValidationError, match="COLETA_SECRET_KEY"):
        ApiSettings(environment="production", secret_key="curta-demais", admin_password="outra-senha-forte")
    with pytest.raises(ValidationError, match="COLETA_ADMIN_PASSWORD"):
        ApiSettings(environment="staging", secret_key=strong)
    settings = ApiSettings(environment="production", secret_key=strong, admin_password="outra-senha-forte")
    assert settings.secret_key.get_secret_value() == strong


def test_cors_origins_never_a_wildcard(monkeypatch):
    with pytest.raises(ValidationError, match="não pode conter"):
        ApiSettings(cors_origins=["*"])
    with pytest.raises(ValidationError, match="origem CORS inválida"):
        ApiSettings(cors_origins=["app.coleta.com.br"])
    monkeypatch.setenv("COLETA_CORS_ORIGINS", "https://app.coleta.com.br, https://painel.coleta.com.br")
    assert ApiSettings().cors_origins == ["https://app.coleta.com.br", "https://painel.coleta.com.br"]
    monkeypatch.setenv("COLETA_CORS_ORIGINS", '["https://app.coleta.com.br"]')
    assert ApiSettings().cors_origins == ["https://app.coleta.com.br"]


def test_cors_preflight_allows_the_front_end_origin_only(api_client):
    request = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}

    allowed = api_client.options("/api/v1/patients", headers={"Origin": "http://localhost:5173", **request})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert allowed.headers["access-control-allow-credentials"] == "true"

    other = api_client.options("/api/v1/patients", headers={"Origin": "https://evil.example", **request})
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers

    simple = api_client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


# --- Redis down ----------------------------------------------------------------------------


@pytest.fixture
def redis_down_login(api_client, throwaway_redis):
    """The login route on a Redis of the test's own, which is then stopped; the fallback forgotten after."""
    from api import throttle

    api_client.app.dependency_overrides[throttle.get_redis] = throwaway_redis.client
    throwaway_redis.stop()
    yield api_client
    throttle._redis_breaker.succeeded()
    throttle._local_counters = throttle.LocalCounters()
    api_client.app.dependency_overrides.clear()


def test_with_redis_down_logins_work_and_are_throttled_per_process(redis_down_login, make_account):
    account = make_account("operator")
    assert _login(redis_down_login, account.email).status_code == 200

    statuses = [_login(redis_down_login, account.email, "senha-errada-1").status_code for _ in range(5)]
    assert statuses == [401] * 5
    blocked = _login(redis_down_login, account.email)
    assert (blocked.status_code, _error(blocked)) == (429, "too_many_attempts")
    assert 890 <= int(blocked.headers["retry-after"]) <= 900
    # The same limits per address, and another account is untouched.
    assert _login(redis_down_login, make_account("viewer").email).status_code == 200


def test_with_redis_down_a_refresh_works_once_and_a_replay_still_revokes(redis_down_login, make_account):
    account = make_account("operator")
    login = _login(redis_down_login, account.email)
    assert login.status_code == 200
    refresh_token = login.json()["refresh_token"]

    first = redis_down_login.post(REFRESH, json={"refresh_token": refresh_token})
    assert first.status_code == 200
    replay = redis_down_login.post(REFRESH, json={"refresh_token": refresh_token})
    assert (replay.status_code, _error(replay)) == (401, "invalid_token")
    # The replay ended the account's sessions: the pair from the first refresh is dead too.
    assert redis_down_login.post(REFRESH, json={"refresh_token": first.json()["refresh_token"]}).status_code == 401


def test_the_throttle_counts_in_redis_again_once_it_is_back(throwaway_redis, make_account):
    from api.throttle import LocalCounters, LoginThrottle
    from observability.breaker import Breaker

    account = make_account("operator")
    client = throwaway_redis.client()
    throttle = LoginThrottle(client, get_settings(), local=LocalCounters(), breaker=Breaker(0.3))
    throwaway_redis.stop()
    for _ in range(5):
        throttle.failed(account.email, "192.0.2.7")  # counted in this process
    with pytest.raises(Exception) as error:
        throttle.check(account.email, "192.0.2.7")
    assert error.value.status == 429
    throttle.succeeded(account.email)
    throttle.check(account.email, "192.0.2.7")

    throwaway_redis.start()
    time.sleep(0.4)  # the breaker's cool-down
    throttle.failed(account.email, "192.0.2.7")
    assert sorted(int(v) for v in (client.get(k) for k in client.keys("*login:fail:*"))) == [1, 1]
