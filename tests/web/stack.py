"""A whole Coleta of its own for the browser tests, the screenshots and the web bench.

`python -m tests.web.stack -- COMMAND…` creates an isolated database (from the `coleta_test`
template), index prefix, Celery queues and Redis key prefix, starts a Celery worker and the
API (serving `web/dist`) on a free port, seeds a small registry through the API, runs COMMAND
with `COLETA_WEB_URL` and the accounts in its environment, then stops everything and drops what
it made. Its exit status is COMMAND's. `--keep` leaves the stack up until Ctrl-C.

Only the shared services (PostgreSQL, Redis, OpenSearch) are reused, as `make test` does.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "senha-do-teste-web-1"
ACCOUNTS = {
    "admin": "admin@coleta.test",
    "operator": "operadora@coleta.test",
    "viewer": "consulta@coleta.test",
    "driver": "motorista@coleta.test",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stack_env(run_id: str) -> dict[str, str]:
    """The environment of an isolated stack: its own database, index prefix, queues and Redis keys."""
    pg = os.environ.get("COLETA_TEST_PG", f"coleta:coleta@127.0.0.1:{os.environ.get('COLETA_PG_PORT', '5433')}")
    redis = os.environ.get("COLETA_TEST_REDIS_URL", f"redis://127.0.0.1:{os.environ.get('COLETA_REDIS_PORT', '6380')}/1")
    return {
        "COLETA_ENVIRONMENT": "test",
        "COLETA_DATABASE_URL": f"postgresql+psycopg://{pg}/coleta_web_{run_id}",
        "COLETA_INDEX_PREFIX": f"web-{run_id}-",
        "COLETA_QUEUE_PREFIX": f"web-{run_id}-",
        "COLETA_REDIS_URL": redis,
        "COLETA_REDIS_KEY_PREFIX": f"web-{run_id}:",
        "COLETA_PASSWORD_HASH_TIME_COST": "1",
        "COLETA_PASSWORD_HASH_MEMORY_KIB": "1024",
        "COLETA_PASSWORD_HASH_PARALLELISM": "1",
        # Generous login throttling: every spec signs in afresh.
        "COLETA_LOGIN_MAX_FAILURES_PER_IP": "1000",
        "COLETA_LOG_LEVEL": "WARNING",
        "COLETA_WEB_DIST": str(ROOT / "web" / "dist"),
    }


@contextmanager
def running_stack(seed: bool = True) -> Iterator[dict[str, str]]:
    """Start the stack; yield the environment a client needs (URL, accounts); tear it all down."""
    run_id = uuid.uuid4().hex[:8]
    env = stack_env(run_id)
    os.environ.update(env)  # before any project module reads its settings
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from indexing import lifecycle
    from indexing.client import get_client
    from storage.db import drop_database, reset_caches, unit_of_work
    from storage.users import service as user_service

    pg = env["COLETA_DATABASE_URL"].rsplit("/", 1)[0]
    server = create_engine(f"{pg}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    database = f"coleta_web_{run_id}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE coleta_test'))
    processes: list[subprocess.Popen] = []
    log_dir = ROOT / ".local" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / "web-stack.log", "ab")
    try:
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["configure_logger"] = False
        command.upgrade(config, "heads")
        lifecycle.setup(get_client())
        with unit_of_work() as session:
            for role, email in ACCOUNTS.items():
                user_service.create(session, {"email": email, "name": _NAMES[role], "role": role, "password": PASSWORD})
        port = int(os.environ.get("COLETA_WEB_STACK_PORT") or _free_port())
        child_env = {**os.environ, **env}
        prefix = env["COLETA_QUEUE_PREFIX"]
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker", "-Q", f"{prefix}sync,{prefix}default",
             "--pool", "solo", "--loglevel", "WARNING", "-n", f"web-{run_id}@coleta"],
            cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
        ))
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
        ))
        url = f"http://127.0.0.1:{port}"
        _wait_for(url, processes)
        if seed:
            from tests.web.seed import seed_registry

            seed_registry(url, ACCOUNTS["admin"], PASSWORD)
        yield {
            "COLETA_WEB_URL": url,
            "COLETA_WEB_PASSWORD": PASSWORD,
            **{f"COLETA_WEB_{role.upper()}": email for role, email in ACCOUNTS.items()},
        }
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        reset_caches()
        try:
            get_client().indices.delete(index=f"{env['COLETA_INDEX_PREFIX']}*", params={"expand_wildcards": "all"})
        finally:
            _forget_redis_keys(env)
            with server.connect() as connection:
                drop_database(connection, database)
            server.dispose()


_NAMES = {"admin": "Ana Administradora", "operator": "Olga Operadora", "viewer": "Vera Consulta",
          "driver": "Diego Motorista"}


def _wait_for(url: str, processes: list[subprocess.Popen]) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a process of the web stack exited; see .local/log/web-stack.log")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web stack's API did not answer at {url}")


def _forget_redis_keys(env: dict[str, str]) -> None:
    import redis

    client = redis.Redis.from_url(env["COLETA_REDIS_URL"])
    keys = list(client.scan_iter(match=f"{env['COLETA_REDIS_KEY_PREFIX']}*", count=1000))
    if keys:
        client.delete(*keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="deixa a pilha de pé até Ctrl-C")
    parser.add_argument("--no-seed", action="store_true", help="sem os pacientes de exemplo")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="comando a rodar com a pilha de pé (depois de --)")
    args = parser.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    with running_stack(seed=not args.no_seed) as client_env:
        print(f"Pilha web em {client_env['COLETA_WEB_URL']}", flush=True)
        if args.keep or not cmd:
            for role, email in ACCOUNTS.items():
                print(f"  {role}: {email} / {PASSWORD}", flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                return 0
        return subprocess.call(cmd, env={**os.environ, **client_env}, cwd=os.getcwd())


if __name__ == "__main__":
    sys.exit(main())
