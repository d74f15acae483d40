"""The stack scripts stop only what their checkout started, and restart the worker without the API.

Real processes on free ports with a `.local` of the test's own (COLETA_LOCAL_DIR): a throwaway
redis-server stands for another checkout's broker.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import httpx
import redis

from tests.fixtures import ROOT
from tests.throwaway import free_port, throwaway_redis  # noqa: F401


def script(name: str, *args: str, local: Path, **env: str) -> str:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLETA_LOCAL_DIR": str(local), **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


def answers(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_connect_timeout=0.5).ping()
    except redis.ConnectionError:
        return False


def test_redis_stop_leaves_a_redis_it_did_not_start_alone(throwaway_redis, tmp_path):
    port = str(throwaway_redis.port)
    assert "não foi iniciado por esta pasta" in script("redis.sh", "status", local=tmp_path, COLETA_REDIS_PORT=port)

    out = script("redis.sh", "stop", local=tmp_path, COLETA_REDIS_PORT=port)

    assert "deixado como está" in out
    assert answers(throwaway_redis.port)


def test_redis_start_and_stop_its_own(tmp_path):
    port = free_port()
    try:
        script("redis.sh", "start", local=tmp_path, COLETA_REDIS_PORT=str(port))
        assert answers(port)
        pid = (tmp_path / "run" / "redis.pid").read_text().strip()
        assert f"rodando (pid {pid}" in script("redis.sh", "status", local=tmp_path, COLETA_REDIS_PORT=str(port))
    finally:
        script("redis.sh", "stop", local=tmp_path, COLETA_REDIS_PORT=str(port))
    assert not answers(port)


def test_restart_worker_restarts_the_worker_and_beat_and_leaves_the_api_serving(tmp_path):
    # Queues of its own: the worker must not pick up tasks other tests left on the run's queues.
    env = {"COLETA_API_PORT": str(free_port()), "COLETA_QUEUE_PREFIX": f"scripts-{uuid.uuid4().hex[:8]}-"}
    run = tmp_path / "run"
    try:
        script("app.sh", "start", local=tmp_path, **env)
        before = {name: (run / f"{name}.pid").read_text() for name in ("api", "worker", "worker-jobs", "beat")}

        script("app.sh", "restart-worker", local=tmp_path, **env)

        after = {name: (run / f"{name}.pid").read_text() for name in ("api", "worker", "worker-jobs", "beat")}
        assert after["api"] == before["api"]
        assert all(after[name] != before[name] for name in ("worker", "worker-jobs", "beat"))
        for name in ("api", "worker", "worker-jobs", "beat"):
            os.kill(int(after[name]), 0)  # alive
        assert not any(Path(f"/proc/{before[name].strip()}").exists() for name in ("worker", "worker-jobs", "beat"))
        assert httpx.get(f"http://127.0.0.1:{env['COLETA_API_PORT']}/healthz").status_code == 200
    finally:
        script("app.sh", "stop", local=tmp_path, **env)
