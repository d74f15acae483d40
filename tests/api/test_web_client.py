"""The web app's typed client is generated from the API's OpenAPI document: the committed copy must match."""

from __future__ import annotations

import json
from pathlib import Path

from api.app import create_app

COMMITTED = Path(__file__).resolve().parents[2] / "web" / "src" / "api" / "openapi.json"


def test_the_committed_openapi_document_of_the_web_client_is_current():
    current = json.loads(json.dumps(create_app().openapi()))
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == current, (
        "web/src/api/openapi.json está desatualizado: rode `npm run gen:api` na pasta web/ e faça commit "
        "de src/api/openapi.json e src/api/schema.d.ts"
    )
