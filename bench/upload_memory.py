"""The API's memory under concurrent big uploads: RSS before, at peak and after four 60 MB uploads at once.

    .venv/bin/python -m bench.upload_memory
    .venv/bin/python -m bench.upload_memory --uploads 4 --size-mb 60 --app-root /path/to/other/checkout

It starts the API as `make run` does (one uvicorn process, `api.app:app`) on a port of
its own, against the shared PostgreSQL, Redis and OpenSearch but with its own database
(created from the `coleta_test` template, migrated, dropped at the end), index prefix
and queue prefix, so it runs beside the dev stack and the tests. No worker consumes
its queue: the uploads stay queued, only the API is measured. `--app-root` runs the
API (and its migrations) from another checkout, to compare before and after.

The file is a valid workbook (the DasaExp sample) carrying an incompressible part up
to the size asked, generated once into .cache/bench. RSS is VmRSS of the uvicorn
process, sampled every 20 ms; "after" is 5 s after the last response.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
RUN = uuid.uuid4().hex[:8]
PG_SERVER = os.environ.get("COLETA_BENCH_PG", "coleta:coleta@127.0.0.1:5433")
DATABASE = f"coleta_upload_bench_{RUN}"
EMAIL, PASSWORD = "bench-upload@coleta.local", "bench-upload-password-1"
MB = 1024 * 1024


def bench_env() -> dict[str, str]:
    """The API's environment: the shared services, this bench's database, index and queue prefixes."""
    return {
        **os.environ,
        "COLETA_DATABASE_URL": f"postgresql+psycopg://{PG_SERVER}/{DATABASE}",
        "COLETA_REDIS_URL": os.environ.get("COLETA_BENCH_REDIS_URL", "redis://127.0.0.1:6380/2"),
        "COLETA_OPENSEARCH_URL": os.environ.get("COLETA_OPENSEARCH_URL", "http://127.0.0.1:9200"),
        "COLETA_INDEX_PREFIX": f"upload-bench-{RUN}-",
        "COLETA_QUEUE_PREFIX": f"upload-bench-{RUN}-",
    }


def upload_file(size_mb: int) -> Path:
    """A valid workbook of about `size_mb` MB (the sample plus an incompressible part), generated once."""
    from tests.samples import DASAEXP_SAMPLE

    path = ROOT / ".cache" / "bench" / f"upload-{size_mb}mb.xlsx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = random.Random(1)
        with zipfile.ZipFile(io.BytesIO(DASAEXP_SAMPLE.read_bytes())) as source, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                target.writestr(info.filename, source.read(info.filename))
            with target.open(zipfile.ZipInfo("docProps/padding.bin"), "w", force_zip64=True) as member:
                for _ in range(size_mb - 1):
                    member.write(rng.randbytes(MB))
    return path


def server_engine():
    return create_engine(f"postgresql+psycopg://{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    """Start the API, upload concurrently, print its RSS before, at peak and after."""
    parser = argparse.ArgumentParser(description="Memória da API com uploads grandes simultâneos")
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--size-mb", type=int, default=60)
    parser.add_argument("--port", type=int, default=int(os.environ.get("COLETA_BENCH_API_PORT", "8765")))
    parser.add_argument("--app-root", type=Path, default=ROOT, help="checkout cujo código roda a API")
    args = parser.parse_args(argv)
    app_root = args.app_root.resolve()
    python = sys.executable
    env = bench_env()
    # The uploads must pass the size limit of the code under test, whatever its default.
    env["COLETA_IMPORT_MAX_BYTES"] = str((args.size_mb + 4) * MB)
    path = upload_file(args.size_mb)

    server = server_engine()
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{DATABASE}" TEMPLATE coleta_test'))
    api = None
    try:
        subprocess.run([python, "-m", "alembic", "upgrade", "heads"], cwd=app_root, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([python, "-m", "workers", "setup-index"], cwd=app_root, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([python, "-m", "workers", "users", "create", "--email", EMAIL, "--name", "Bench Upload",
                        "--role", "operator", "--password-stdin"], cwd=app_root, env=env, check=True,
                       input=PASSWORD.encode(), stdout=subprocess.DEVNULL)
        log = open(ROOT / ".local" / "log" / "bench-upload-api.log", "ab")
        api = subprocess.Popen([python, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(args.port)],
                               cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{args.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if api.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("a API do benchmark não subiu; veja .local/log/bench-upload-api.log")
            time.sleep(0.2)
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        # One small upload first: the routes, the pool and the sniffing code are warm before "before".
        httpx.post(f"{base}/api/v1/imports", headers=headers, timeout=60,
                   files={"file": ("aquecimento.csv", b"a;b\r\n1;2\r\n", "text/csv")})
        time.sleep(1)
        before = rss_mb(api.pid)

        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb(api.pid))
                time.sleep(0.02)

        statuses: list[int] = []

        def send(index: int) -> None:
            with open(path, "rb") as file:
                response = httpx.post(f"{base}/api/v1/imports", headers=headers, timeout=600,
                                      files={"file": (f"agenda-{index}.xlsx", file, "application/octet-stream")})
            statuses.append(response.status_code)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        senders = [threading.Thread(target=send, args=(index,)) for index in range(args.uploads)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        seconds = time.monotonic() - started
        time.sleep(5)
        done.set()
        sampler.join()
        after = rss_mb(api.pid)
        print(
            f"{args.uploads} uploads simultâneos de {path.stat().st_size / MB:.0f} MB ({app_root}): "
            f"respostas {sorted(statuses)} em {seconds:.1f}s; RSS da API antes {before:.0f} MB, "
            f"pico {peak[0]:.0f} MB, depois {after:.0f} MB"
        )
    finally:
        if api is not None and api.poll() is None:
            api.terminate()
            api.wait(timeout=30)
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        server.dispose()
        prefix = env["COLETA_INDEX_PREFIX"]
        httpx.delete(f"{env['COLETA_OPENSEARCH_URL']}/{prefix}*", params={"expand_wildcards": "all"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
