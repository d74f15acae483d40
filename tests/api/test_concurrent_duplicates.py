"""Concurrent registrations of one CPF against a real uvicorn: one 201, the rest 409 `patient_cpf_exists`
(never a 500 from the unique index), and PostgreSQL's own log keeps no CPF of the refused rows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from storage.db import get_engine
from tests.fixtures import ROOT, wait_until

CPF, CPF_DIGITS = "529.982.247-25", "52998224725"


@pytest.fixture
def live_api(committed) -> Iterator[str]:
    """The API in its own uvicorn process (real sockets, real concurrency), on this run's database."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(up, timeout=30, interval=0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_eight_concurrent_creates_with_one_cpf_give_one_patient_and_seven_409(live_api, make_account):
    headers = make_account("operator").headers
    start = threading.Barrier(8)

    def create(index: int) -> httpx.Response:
        start.wait()
        return httpx.post(f"{live_api}/api/v1/patients", headers=headers, timeout=30,
                          json={"name": f"Paciente Concorrente {index}", "cpf": CPF})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(create, range(8)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    winner = next(r.json()["id"] for r in responses if r.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {"error": {
                "code": "patient_cpf_exists", "message": "Já existe um paciente cadastrado com este CPF.",
                "details": {"patient_id": winner},
            }}
    found = httpx.get(f"{live_api}/api/v1/patients/{winner}", headers=headers).json()
    assert found["cpf"] == CPF_DIGITS


def _server_log() -> Path | None:
    """The log file of the PostgreSQL serving the tests: `<data>/../postgres.log` as scripts/postgres.sh
    starts it (found from the server process's own command line, whichever checkout started it)."""
    port = make_url(os.environ["COLETA_DATABASE_URL"]).port
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if args and args[0].endswith("/postgres") and f"port={port}" in args and "-D" in args:
            log = Path(args[args.index("-D") + 1]).parent / "postgres.log"
            return log if log.exists() else None
    return None


def test_the_server_log_keeps_no_cpf_of_a_refused_duplicate(make_account):
    log = _server_log()
    if log is None:
        pytest.skip("the PostgreSQL of these tests was not started by scripts/postgres.sh on this machine")
    with get_engine().connect() as connection:
        settings = {name: connection.execute(text(f"SHOW {name}")).scalar_one()
                    for name in ("log_error_verbosity", "log_min_error_statement", "log_parameter_max_length_on_error")}
    assert settings == {"log_error_verbosity": "terse", "log_min_error_statement": "panic",
                        "log_parameter_max_length_on_error": "0"}, (
        "PostgreSQL runs without the log settings of scripts/postgres.sh: run `make run` (or scripts/postgres.sh start)")
    offset = log.stat().st_size
    insert = text("INSERT INTO patients (id, row_version, name, name_folded, cpf) VALUES (:id, 1, :name, :name, :cpf)")
    with get_engine().begin() as connection:
        connection.execute(insert, {"id": str(uuid.uuid4()), "name": "maria duplicada", "cpf": CPF_DIGITS})
    with pytest.raises(IntegrityError), get_engine().begin() as connection:
        connection.execute(insert, {"id": str(uuid.uuid4()), "name": "maria duplicada", "cpf": CPF_DIGITS})

    def written() -> str:
        with log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")

    tail = wait_until(lambda: "uq_patients_cpf" in written() and written(), timeout=10)
    assert tail, "the refused insert never reached the server log"
    assert 'duplicate key value violates unique constraint "uq_patients_cpf"' in tail
    for secret in (CPF_DIGITS, CPF, "maria duplicada"):
        assert secret not in tail
    assert "DETAIL" not in tail and "STATEMENT" not in tail
