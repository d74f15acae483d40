"""Liveness and readiness probe the real services."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import get_settings as get_api_settings
from indexing.client import reset_client
from indexing.settings import get_settings as get_index_settings


@pytest.fixture
def client():
    with TestClient(create_app()) as test_client:
        yield test_client


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"postgres": "ok", "redis": "ok", "opensearch": "ok"}


def test_readyz_names_what_is_down(client, monkeypatch):
    # Nothing listens on port 9: Redis and OpenSearch are really unreachable there.
    monkeypatch.setenv("COLETA_REDIS_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setenv("COLETA_OPENSEARCH_URL", "http://127.0.0.1:9")
    get_api_settings.cache_clear()
    get_index_settings.cache_clear()
    reset_client()
    try:
        response = client.get("/readyz")
    finally:
        monkeypatch.undo()
        get_api_settings.cache_clear()
        get_index_settings.cache_clear()
        reset_client()
    assert response.status_code == 503
    assert response.json() == {"postgres": "ok", "redis": "down", "opensearch": "down"}
