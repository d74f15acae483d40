"""Uploading agendas over HTTP: 202 and a worker applies it; 413/415 refused at the door; the report."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile

import pytest

from indexing import names
from indexing.client import get_client
from storage.imports.settings import get_settings as get_import_settings
from tests.fixtures import wait_until
from tests.samples import DASAEXP_SAMPLE

IMPORTS = "/api/v1/imports"
DASAEXP = DASAEXP_SAMPLE.name


@pytest.fixture
def operator(make_account):
    return make_account("operator").headers


def upload(api_client, headers, name, data, content_type="application/octet-stream"):
    return api_client.post(IMPORTS, files={"file": (name, data, content_type)}, headers=headers)


def finished(api_client, headers, import_id):
    def status():
        report = api_client.get(f"{IMPORTS}/{import_id}", headers=headers).json()
        return report if report["status"] in ("succeeded", "failed") else None

    return wait_until(status, timeout=60, interval=0.2)


def test_the_dasaexp_sample_through_the_api_and_a_real_worker(api_client, operator, celery_worker):
    response = upload(api_client, operator, DASAEXP, DASAEXP_SAMPLE.read_bytes())
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"

    report = finished(api_client, operator, body["id"])
    assert report["status"] == "succeeded", report["failure"]
    assert report["layout"] == "dasaexp"
    assert (report["total_rows"], report["processed_rows"]) == (129, 129)
    assert (report["imported"], report["skipped"], report["errors"]) == (60, 60, 2)
    assert (report["visits_created"], report["visits_updated"]) == (60, 0)
    assert (report["patients_created"], report["patients_updated"]) == (34, 0)
    errors = [i for i in report["issues"] if i["level"] == "error"]
    assert [(i["row"], i["code"]) for i in errors] == [(96, "missing_patient_name"), (99, "missing_patient_name")]
    assert all(i["message"] for i in report["issues"])

    listed = api_client.get(IMPORTS, headers=operator).json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert "issues" not in listed[0]

    # Each patient once in search, and the visits in the index, once the drain caught up.
    def searchable():
        get_client().indices.refresh(index=names.alias("patients"))
        return api_client.get("/api/v1/patients", params={"page_size": 1}, headers=operator).json()["total"] == 34

    assert wait_until(searchable, timeout=30, interval=0.2)

    def visits_indexed():
        get_client().indices.refresh(index=names.alias("visits"))
        return get_client().count(index=names.alias("visits"))["count"] == 60

    assert wait_until(visits_indexed, timeout=30, interval=0.2)

    # The same file again: accepted, and nothing created or changed.
    again = finished(api_client, operator, upload(api_client, operator, DASAEXP, DASAEXP_SAMPLE.read_bytes()).json()["id"])
    assert (again["imported"], again["visits_created"], again["visits_updated"]) == (0, 0, 0)
    assert (again["patients_created"], again["patients_updated"]) == (0, 0)


def test_too_large_is_413_before_anything_is_stored(api_client, operator, monkeypatch):
    monkeypatch.setenv("COLETA_IMPORT_MAX_BYTES", "1000")
    get_import_settings.cache_clear()
    try:
        response = upload(api_client, operator, "grande.csv", b"a;b\n" * 1000)
    finally:
        monkeypatch.undo()
        get_import_settings.cache_clear()
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert api_client.get(IMPORTS, headers=operator).json()["items"] == []


@pytest.mark.parametrize(
    "name, data",
    [
        ("agenda.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        ("agenda.xls", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    ],
    ids=["pdf named xlsx", "png named xls"],
)
def test_not_a_spreadsheet_by_content_is_415(api_client, operator, name, data):
    response = upload(api_client, operator, name, data)
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_file_type"
    assert error["message"]


def test_a_zip_that_is_no_workbook_is_refused_and_the_api_stays_up(api_client, operator):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "oi")
    response = upload(api_client, operator, "agenda.xlsx", buffer.getvalue())
    assert response.status_code in (415, 422)
    assert response.json()["error"]["code"] in ("unsupported_file_type", "corrupt_file")
    assert api_client.get("/healthz").status_code == 200


def test_missing_file_field_is_a_validation_error(api_client, operator):
    response = api_client.post(IMPORTS, data={"x": "1"}, headers=operator)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_unknown_import_is_404(api_client, operator):
    response = api_client.get(f"{IMPORTS}/00000000-0000-0000-0000-000000000000", headers=operator)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "import_not_found"


# ---------------------------------------------------------------- streamed uploads


def chunked_upload(api_client, headers, name: str, parts, boundary: str = "coleta-boundary"):
    """A multipart upload sent as a stream without Content-Length (a client cannot be trusted to send one)."""
    def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n").encode()
        yield from parts
        yield f"\r\n--{boundary}--\r\n".encode()

    return api_client.post(
        IMPORTS, content=body(), headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    )


def test_an_upload_is_stored_in_chunks_and_read_back_whole(api_client, operator):
    from storage.db import unit_of_work
    from storage.imports import repo, uploads
    from storage.imports.models import FILE_CHUNK_BYTES

    # The sample workbook padded with an incompressible part: a bit over 3 chunks.
    data = DASAEXP_SAMPLE.read_bytes()
    padded = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(padded, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
        target.writestr("docProps/padding.bin", random_bytes(3 * FILE_CHUNK_BYTES))
    payload = padded.getvalue()

    pieces = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]
    response = chunked_upload(api_client, operator, "agenda.xlsx", pieces)

    assert response.status_code == 202, response.json()
    import_id = response.json()["id"]
    with unit_of_work() as session:
        item = repo.get(session, import_id)
        chunks = [len(repo.file_chunk(session, import_id, seq) or b"") for seq in range(5)]
        stored = uploads.read_all(session, import_id)
    assert (item.size, item.sha256, item.filename) == (len(payload), hashlib.sha256(payload).hexdigest(), "agenda.xlsx")
    assert chunks == [FILE_CHUNK_BYTES, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES, len(payload) - 3 * FILE_CHUNK_BYTES, 0]
    assert stored == payload


def test_a_streamed_upload_past_the_limit_is_413_and_nothing_is_stored(api_client, operator, monkeypatch):
    monkeypatch.setenv("COLETA_IMPORT_MAX_BYTES", str(2 * 1024 * 1024))
    get_import_settings.cache_clear()
    try:
        response = chunked_upload(api_client, operator, "grande.csv", [b"a;b;c\r\n" * 65536] * 8)  # ~3.5 MB
    finally:
        monkeypatch.undo()
        get_import_settings.cache_clear()

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "file_too_large",
        "message": "O arquivo passa do limite de 2 MB. Divida a planilha em arquivos menores.",
        "details": {"max_bytes": 2 * 1024 * 1024},
    }
    assert api_client.get(IMPORTS, headers=operator).json()["items"] == []


def test_a_pdf_is_refused_from_its_first_bytes(api_client, operator):
    response = chunked_upload(api_client, operator, "agenda.xlsx", [b"%PDF-1.7\n" + b"\x00" * 65536] * 4)

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_file_type"
    assert api_client.get(IMPORTS, headers=operator).json()["items"] == []


def test_a_malformed_multipart_body_is_400(api_client, operator):
    response = api_client.post(
        IMPORTS, content=b"--x\r\nnot a header line\r\n\r\n",
        headers={**operator, "Content-Type": "multipart/form-data; boundary=x"},
    )

    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] in ("invalid_multipart", "validation_error")


def test_the_openapi_document_still_describes_the_file_field(api_client):
    operation = api_client.get("/openapi.json").json()["paths"]["/api/v1/imports"]["post"]

    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert (operation["requestBody"]["required"], schema["required"], schema["properties"]["file"]["format"]) == (
        True, ["file"], "binary")


def random_bytes(size: int) -> bytes:
    return random.Random(5).randbytes(size)
