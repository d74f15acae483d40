"""The OpenAPI document the web app's typed client is generated from.

Operation ids are the route functions' names in camelCase (`search_patients` → `searchPatients`),
and every operation documents the error body it really answers with (`ErrorResponse`, never
FastAPI's `HTTPValidationError`) for each status it can return. The statuses follow from what
the operation is, read from the document itself, so a new route needs nothing by hand:

- 422 everywhere (request validation, a NUL character in any parameter or body);
- 503 wherever PostgreSQL, Redis or OpenSearch is behind the answer (every /api/v1 route);
- 401 for routes that need a token, 403 when not every role may call it;
- 404 when the path, a query parameter or a body field names a record (`…_id`), 409 for writes (duplicates, concurrent updates, state);
- 400 (unparsable) and 413 (too large) for request bodies;
- anything else (413, 415, 429, 400, a 404 of a query parameter) declared on the route with
  `responses=errors_for(...)`.

`python -m api.openapi PATH` writes the document with sorted keys, for the client generator.
"""

from __future__ import annotations

import json
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.schemas.errors import ErrorResponse
from storage.users.models import ROLES

REF = "#/components/schemas/ErrorResponse"
WRITES = {"post", "put", "patch", "delete"}
DESCRIPTIONS = {
    400: "Malformed request body",
    401: "Missing, invalid or expired token (or a bad webhook signature)",
    403: "The user's role may not do this",
    404: "Not found",
    409: "Conflict with the current state (duplicate, concurrent change, wrong status)",
    413: "Request or file too large",
    415: "Unsupported file type",
    422: "Invalid input (validation, domain rule, NUL character)",
    429: "Too many attempts",
    503: "A dependency (PostgreSQL, Redis, OpenSearch, the task queue) is unavailable",
}


def operation_id(route: APIRoute) -> str:
    """`search_patients` → `searchPatients`: the route function's name, read as a name by generated clients."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def errors_for(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route `responses=` for error statuses the document cannot infer (413, 415, 429, …)."""
    return {status: _error_response(status) for status in statuses}


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": DESCRIPTIONS.get(status) or HTTPStatus(status).phrase,
        "content": {"application/json": {"schema": {"$ref": REF}}},
    }


def _references(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """Whether a query parameter or a body field names another record (`patient_id`, `car_id`…)."""
    if any(p.get("in") == "query" and p["name"].endswith("_id") for p in operation.get("parameters", [])):
        return True
    for content in operation.get("requestBody", {}).get("content", {}).values():
        schema = content.get("schema", {})
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        if any(name.endswith("_id") or name.endswith("_ids") for name in schema.get("properties", {})):
            return True
    return False


def _statuses(document: dict[str, Any], path: str, method: str, operation: dict[str, Any]) -> set[int]:
    statuses = {422}
    if not path.startswith("/api/v1/"):
        return statuses
    statuses.add(503)
    if not operation.get("x-public"):
        statuses.add(401)
        if set(operation.get("x-roles") or ()) != set(ROLES):
            statuses.add(403)
    references = not operation.get("x-public") and _references(document, operation)
    if any(p.get("in") == "path" for p in operation.get("parameters", [])) or references:
        statuses.add(404)
    if method in WRITES and not operation.get("x-public"):
        statuses.add(409)
    if "requestBody" in operation:
        statuses.add(400)  # a body that cannot be parsed at all (not UTF-8, a broken multipart envelope)
        if "multipart/form-data" not in operation["requestBody"].get("content", {}):
            statuses.add(413)  # api.nul_guard holds at most MAX_SCANNED_BODY of a body to scan it
    return statuses


def _document_errors(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in _statuses(document, path, method, operation):
                key = str(status)
                # A route's own model for that status (e.g. readiness's 503) wins.
                if key not in responses or responses[key].get("content", {}).get("application/json", {}).get(
                    "schema", {}
                ).get("$ref", "").endswith("HTTPValidationError"):
                    responses[key] = _error_response(status)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorResponse"] = error_schema
    # FastAPI's own validation bodies: no route answers with them (api/errors.py reshapes validation errors).
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(document):
            schemas.pop(unused, None)


def build(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with the error responses of every operation; unique operation ids."""
    document = get_openapi(
        title=app.title, version=app.version, openapi_version=app.openapi_version, summary=app.summary,
        description=app.description, routes=app.routes, tags=app.openapi_tags, servers=app.servers,
    )
    seen: dict[str, str] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            other = seen.setdefault(operation["operationId"], f"{method.upper()} {path}")
            if other != f"{method.upper()} {path}":
                raise RuntimeError(f"duplicate operationId {operation['operationId']}: {other} and {method} {path}")
    _document_errors(document)
    return document


def install(app: FastAPI) -> None:
    """Serve `build(app)` (built once) as the app's /openapi.json."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def dump(path: Path) -> None:
    """Write the document to `path` deterministically (sorted keys, two-space indent, final newline)."""
    from api.app import create_app

    document = create_app().openapi()
    path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("uso: python -m api.openapi ARQUIVO.json")
    dump(Path(sys.argv[1]))
