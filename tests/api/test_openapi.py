"""The OpenAPI document describes the API well enough to generate a typed client from it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.fixtures import ROOT

DOCUMENT = create_app().openapi()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]

# The names the web app's generated client calls; a rename is a breaking change for it.
OPERATION_IDS = {
    ("GET", "/healthz"): "getLiveness",
    ("GET", "/readyz"): "getReadiness",
    ("POST", "/api/v1/auth/token"): "login",
    ("POST", "/api/v1/auth/refresh"): "refreshTokens",
    ("GET", "/api/v1/users"): "listUsers",
    ("POST", "/api/v1/users"): "createUser",
    ("GET", "/api/v1/users/me"): "getCurrentUser",
    ("GET", "/api/v1/users/{user_id}"): "getUser",
    ("PATCH", "/api/v1/users/{user_id}"): "updateUser",
    ("GET", "/api/v1/patients"): "searchPatients",
    ("POST", "/api/v1/patients"): "createPatient",
    ("GET", "/api/v1/patients/suggest"): "suggestPatients",
    ("GET", "/api/v1/patients/facets"): "searchFacets",
    ("GET", "/api/v1/patients/facets/{name}"): "listFacetValues",
    ("GET", "/api/v1/patients/{patient_id}"): "getPatient",
    ("PATCH", "/api/v1/patients/{patient_id}"): "updatePatient",
    ("DELETE", "/api/v1/patients/{patient_id}"): "deletePatient",
    ("GET", "/api/v1/patients/{patient_id}/audit"): "listPatientAudit",
    ("POST", "/api/v1/imports"): "uploadImport",
    ("GET", "/api/v1/imports"): "listImports",
    ("GET", "/api/v1/imports/{import_id}"): "getImport",
    ("GET", "/api/v1/imports/{import_id}/issues"): "listImportIssues",
    ("GET", "/api/v1/imports/{import_id}/visits"): "listImportVisits",
    ("GET", "/api/v1/admin/sync"): "getSyncStatus",
    ("POST", "/api/v1/admin/reindex"): "requestReindex",
    ("GET", "/api/v1/stats/dashboard"): "getDashboard",
    ("GET", "/api/v1/stats/confirmation-rates"): "getConfirmationRates",
    ("GET", "/api/v1/stats/trend"): "getTrend",
    ("GET", "/api/v1/units"): "listUnits",
    ("POST", "/api/v1/bulk"): "createBulkJob",
    ("GET", "/api/v1/bulk/{job_id}"): "getBulkJob",
    ("GET", "/api/v1/bulk/{job_id}/download"): "downloadBulkExport",
    ("GET", "/api/v1/cars"): "listCars",
    ("POST", "/api/v1/cars"): "createCar",
    ("GET", "/api/v1/cars/{car_id}"): "getCar",
    ("PATCH", "/api/v1/cars/{car_id}"): "updateCar",
    ("DELETE", "/api/v1/cars/{car_id}"): "deleteCar",
    ("GET", "/api/v1/cars/{car_id}/route-sheet"): "getRouteSheet",
    ("GET", "/api/v1/drivers"): "listDrivers",
    ("POST", "/api/v1/drivers"): "createDriver",
    ("GET", "/api/v1/drivers/me/assignment"): "getMyAssignment",
    ("GET", "/api/v1/drivers/{driver_id}"): "getDriver",
    ("PATCH", "/api/v1/drivers/{driver_id}"): "updateDriver",
    ("DELETE", "/api/v1/drivers/{driver_id}"): "deleteDriver",
    ("GET", "/api/v1/collectors"): "listCollectors",
    ("POST", "/api/v1/collectors"): "createCollector",
    ("GET", "/api/v1/collectors/{collector_id}"): "getCollector",
    ("PATCH", "/api/v1/collectors/{collector_id}"): "updateCollector",
    ("DELETE", "/api/v1/collectors/{collector_id}"): "deleteCollector",
    ("GET", "/api/v1/teams"): "listTeams",
    ("POST", "/api/v1/teams"): "createTeam",
    ("GET", "/api/v1/teams/{team_id}"): "getTeam",
    ("PATCH", "/api/v1/teams/{team_id}"): "updateTeam",
    ("DELETE", "/api/v1/teams/{team_id}"): "deleteTeam",
    ("GET", "/api/v1/visits"): "getSchedule",
    ("POST", "/api/v1/visits"): "createVisit",
    ("GET", "/api/v1/visits/{visit_id}"): "getVisit",
    ("PATCH", "/api/v1/visits/{visit_id}"): "updateVisit",
    ("POST", "/api/v1/visits/{visit_id}/confirmation-attempts"): "createConfirmationAttempt",
    ("POST", "/api/v1/messages"): "createMessage",
    ("GET", "/api/v1/messages"): "listMessages",
    ("GET", "/api/v1/duplicates"): "listDuplicates",
    ("POST", "/api/v1/duplicates/{pair_id}/decision"): "decideDuplicate",
    ("POST", "/api/v1/patients/{survivor_id}/merge"): "mergePatients",
    ("POST", "/api/v1/patients/{patient_id}/unmerge"): "unmergePatient",
    ("POST", "/api/v1/webhooks/twilio/status"): "receiveTwilioStatus",
    ("POST", "/api/v1/webhooks/twilio/inbound"): "receiveTwilioInbound",
    ("GET", "/api/v1/webhooks/whatsapp"): "verifyWhatsappSubscription",
    ("POST", "/api/v1/webhooks/whatsapp"): "receiveWhatsappEvents",
    # Issue 11, part 2: running the day.
    ("GET", "/api/v1/confirmations/queue"): "getConfirmationQueue",
    ("POST", "/api/v1/messages/preview"): "previewMessage",
    ("GET", "/api/v1/messages/reminder"): "getReminder",
    ("GET", "/api/v1/messages/reminder/recipients"): "listReminderRecipients",
    ("GET", "/api/v1/bulk"): "listBulkJobs",
    ("POST", "/api/v1/bulk/preview"): "previewBulkJob",
    ("POST", "/api/v1/bulk/{job_id}/cancel"): "cancelBulkJob",
    ("POST", "/api/v1/cars/{car_id}/route-sheet/link"): "createRouteSheetLink",
    ("GET", "/api/v1/route-sheets/{token}"): "openRouteSheetLink",
    ("GET", "/api/v1/admin/reindex"): "listReindexJobs",
    ("GET", "/api/v1/admin/reindex/{job_id}"): "getReindexJob",
    ("GET", "/api/v1/audit"): "searchAudit",
}


def test_operation_ids_read_as_names_and_are_unique():
    assert {(m, p): op["operationId"] for m, p, op in OPERATIONS} == OPERATION_IDS
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]*)*", op_id) for op_id in OPERATION_IDS.values())
    assert len(set(OPERATION_IDS.values())) == len(OPERATION_IDS)


def test_every_error_is_documented_with_the_one_error_body():
    schemas = DOCUMENT["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert "HTTPValidationError" not in json.dumps(DOCUMENT)
    assert schemas["ErrorResponse"]["required"] == ["error"]
    assert schemas["ErrorDetail"]["required"] == ["code", "message", "details"]
    for method, path, operation in OPERATIONS:
        errors = {s for s in operation["responses"] if s.startswith(("4", "5"))}
        assert "422" in errors, (method, path)
        if path.startswith("/api/v1/"):
            assert "503" in errors, (method, path)
        if path != "/readyz":
            for status in errors:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


@pytest.mark.parametrize(("method", "path", "statuses"), [
    ("GET", "/api/v1/patients/{patient_id}", {"401", "403", "404", "422", "503"}),
    ("POST", "/api/v1/patients", {"400", "401", "403", "409", "413", "422", "503"}),
    ("GET", "/api/v1/users/me", {"401", "422", "503"}),
    ("POST", "/api/v1/auth/token", {"400", "401", "413", "422", "429", "503"}),
    ("POST", "/api/v1/imports", {"400", "401", "403", "409", "413", "415", "422", "503"}),
])
def test_the_statuses_follow_from_what_the_route_is(method, path, statuses):
    operation = DOCUMENT["paths"][path][method.lower()]
    assert {s for s in operation["responses"] if s.startswith(("4", "5"))} == statuses


def test_a_validation_error_comes_out_in_the_documented_shape(api_client, make_account):
    headers = make_account("operator").headers
    response = api_client.get("/api/v1/patients", params={"page_size": 1000}, headers=headers)
    assert response.status_code == 422
    assert response.json() == {"error": {
        "code": "validation_error", "message": "Dados inválidos: verifique os campos indicados.",
        "details": [{"field": "query.page_size", "type": "less_than_equal"}],
    }}


def test_docs_load_nothing_from_a_cdn():
    with TestClient(create_app()) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            assert "cdn." not in html and "fonts.googleapis" not in html
            for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
                assert asset.startswith("/"), asset
                assert client.get(asset).status_code == 200, asset


def test_cors_exposes_the_download_file_name(api_client):
    response = api_client.get("/healthz", headers={"Origin": "http://127.0.0.1:5173"})
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert "content-disposition" in exposed


def test_the_dump_is_the_served_document_with_sorted_keys(tmp_path):
    target = tmp_path / "openapi.json"
    subprocess.run([sys.executable, "-m", "api.openapi", str(target)], cwd=ROOT, check=True)
    text = target.read_text(encoding="utf-8")
    assert json.loads(text) == DOCUMENT
    assert text == json.dumps(DOCUMENT, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    again = tmp_path / "again.json"
    subprocess.run([sys.executable, "-m", "api.openapi", str(again)], cwd=ROOT, check=True)
    assert again.read_text(encoding="utf-8") == text


def _unbounded(schema: dict, where: str, seen: set[str]) -> list[str]:
    """Strings without maxLength (or an enum or a date format) and arrays without maxItems, through $refs."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _unbounded(DOCUMENT["components"]["schemas"][name], name, seen)
    found = []
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        found += _unbounded(option, where, seen)
    kind = schema.get("type")
    if kind == "string" and not ({"maxLength", "enum", "const", "contentMediaType"} & set(schema)) and schema.get("format") not in (
        "date", "date-time", "binary"
    ):
        found.append(where)
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}[]")
        found += _unbounded(schema.get("items", {}), f"{where}[]", seen)
    for name, prop in schema.get("properties", {}).items():
        found += _unbounded(prop, f"{where}.{name}", seen)
    return found


def test_every_string_and_list_of_every_body_is_bounded():
    # Bounded by the column it goes to: nothing is cut short silently, nothing reaches PostgreSQL too long.
    unbounded = []
    for method, path, operation in OPERATIONS:
        for content in operation.get("requestBody", {}).get("content", {}).values():
            unbounded += [f"{method} {path}: {f}" for f in _unbounded(content["schema"], "body", set())]
    assert unbounded == [], "\n".join(unbounded)
