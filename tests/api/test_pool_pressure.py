"""Under more concurrent requests than database connections, requests queue for a connection and all
succeed: a request that finished never holds its connection while waiting for a thread to release it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.fixtures import ROOT, wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_many_concurrent_requests_on_a_one_connection_pool_all_succeed(make_account):
    headers = make_account("viewer").headers
    port = _free_port()
    # One connection, no overflow, a short wait: the old starvation turned this into 503s (or a 30 s hang).
    env = {**os.environ, "COLETA_DB_POOL_SIZE": "1", "COLETA_DB_MAX_OVERFLOW": "0", "COLETA_DB_POOL_TIMEOUT": "5"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(up, timeout=30, interval=0.2)
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            def me(_: int) -> int:
                return client.get("/api/v1/users/me").status_code

            with ThreadPoolExecutor(max_workers=80) as pool:
                statuses = list(pool.map(me, range(400)))
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert statuses == [200] * 400
