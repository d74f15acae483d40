"""The API serves the built web app at `/`: files, the SPA's deep links, cache headers, no build."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import settings as api_settings
from api.app import create_app

INDEX = "<!doctype html><title>Coleta</title>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-Ab12Cd34.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def client_for(monkeypatch, dist: Path) -> TestClient:
    monkeypatch.setenv("COLETA_WEB_DIST", str(dist))
    api_settings.get_settings.cache_clear()
    try:
        return TestClient(create_app())
    finally:
        api_settings.get_settings.cache_clear()


def test_index_and_deep_links_get_the_page_revalidated_every_time(monkeypatch, dist):
    client = client_for(monkeypatch, dist)
    for path in ("/", "/pacientes", "/pacientes/0b6f6a53-0c1f-4c3f-9a5e-3f1f2f3a4b5c?aba=visitas", "/login?redirect=%2F"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["content-type"].startswith("text/html")
    assert client.head("/pacientes").status_code == 200


def test_hashed_assets_are_immutable_the_icon_kept_a_day_and_the_page_revalidated(monkeypatch, dist):
    client = client_for(monkeypatch, dist)
    asset = client.get("/assets/index-Ab12Cd34.js")
    assert asset.status_code == 200
    assert asset.text == "console.log(1)"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    icon = client.get("/favicon.svg")
    # Chromium asks for the icon again on every change of the URL: kept a day, not revalidated each search.
    assert (icon.status_code, icon.headers["cache-control"]) == (200, "public, max-age=86400")
    page = client.get("/index.html")
    assert (page.text, page.headers["cache-control"]) == (INDEX, "no-cache")


def test_a_missing_asset_is_a_404_not_the_page(monkeypatch, dist):
    client = client_for(monkeypatch, dist)
    for path in ("/assets/index-OLD.js", "/robots.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_api_paths_keep_their_own_404_and_docs_still_work(monkeypatch, dist):
    client = client_for(monkeypatch, dist)
    for path in ("/api/v1/nothing-here", "/api", "/api/", "/healthzz-not", "/openapi.json/x"):
        response = client.get(path)
        if path == "/healthzz-not":  # not reserved: a client-side route
            assert response.text == INDEX
            continue
        assert response.status_code == 404, path
        assert response.json() == {"error": {"code": "not_found", "message": "Recurso não encontrado.", "details": None}}
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "Coleta"
    assert client.get("/docs").status_code == 200
    # The catch-all is not part of the API's description.
    assert "/{path}" not in client.get("/openapi.json").json()["paths"]


def test_no_file_outside_the_build_is_served(monkeypatch, dist, tmp_path_factory):
    secret = dist.parent / "secret.txt"
    secret.write_text("segredo")
    client = client_for(monkeypatch, dist)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        response = client.get(path)
        assert "segredo" not in response.text, path


def test_without_a_build_the_api_works_and_root_says_how_to_build(monkeypatch, tmp_path):
    client = client_for(monkeypatch, tmp_path / "absent")
    response = client.get("/")
    assert response.status_code == 404
    body = response.json()["error"]
    assert body["code"] == "web_app_not_built"
    assert "make run" in body["message"] and "npm run build" in body["message"]
    assert client.get("/pacientes").json()["error"]["code"] == "web_app_not_built"
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/patients").status_code == 401
