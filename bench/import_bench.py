"""End-to-end import benchmark: upload -> applied by a real Celery worker -> drained -> searchable.

    .venv/bin/python -m bench.import_bench            # 10k and 100k rows
    .venv/bin/python -m bench.import_bench 20000 --seed 3

For each size it generates a realistic DasaExp export (bench/dasaexp_export.py; the
files go to .cache/bench, never to git), registers the upload, enqueues the real
task to a real worker process (`-Q default`, solo pool) while a second worker
drains the outbox (`-Q sync`), and stops the clock when the import succeeded, the
outbox is empty and the index counts (after a refresh) equal PostgreSQL's. It
prints rows/s end to end, the time to applied, and the peak RSS (VmHWM) of the
import worker, then re-imports the same file to show it changes nothing.

It runs on its own database (cloned from the `coleta_test` template), index prefix
and queues, so it can run beside the dev stack and the test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = uuid.uuid4().hex[:8]
PG_SERVER = os.environ.get("COLETA_BENCH_PG", "coleta:coleta@127.0.0.1:5433")
DATABASE = f"coleta_bench_{RUN}"
os.environ.update({
    "COLETA_ENVIRONMENT": "test",
    "COLETA_DATABASE_URL": f"postgresql+psycopg://{PG_SERVER}/{DATABASE}",
    "COLETA_INDEX_PREFIX": f"bench-{RUN}-",
    "COLETA_QUEUE_PREFIX": f"bench-{RUN}-",
    "COLETA_REDIS_URL": os.environ.get("COLETA_BENCH_REDIS_URL", "redis://127.0.0.1:6380/2"),
})

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bench.dasaexp_export import Generator, write_xlsx  # noqa: E402
from indexing import lifecycle, names  # noqa: E402
from indexing.client import get_client  # noqa: E402
from storage import outbox  # noqa: E402
from storage.db import drop_database, reset_caches, unit_of_work  # noqa: E402
from storage.imports import service as import_service  # noqa: E402
from storage.imports.models import Import  # noqa: E402
from storage.patients.models import Patient  # noqa: E402
from storage.visits.models import Visit  # noqa: E402
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app  # noqa: E402
from workers.enqueue import enqueue_import  # noqa: E402
from workers.tasks.sync import drain_outbox  # noqa: E402

CACHE = ROOT / ".cache" / "bench"


def export_file(rows: int, seed: int) -> Path:
    """Generate (once) an export of `rows` data rows."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"dasaexp-{rows}-{seed}.xlsx"
    if not path.exists():
        started = time.monotonic()
        write_xlsx(path, Generator(seed).rows(rows))
        print(f"  gerado {path.name} ({path.stat().st_size / 1e6:.1f} MB) em {time.monotonic() - started:.1f}s")
    return path


def create_database() -> None:
    """A fresh database from the template, migrated to every head, and fresh indices."""
    server = create_engine(f"postgresql+psycopg://{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{DATABASE}" TEMPLATE coleta_test'))
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "heads")
    lifecycle.setup(get_client())


def drop_database() -> None:
    """Remove the bench database and indices."""
    reset_caches()
    server = create_engine(f"postgresql+psycopg://{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with server.connect() as connection:
        drop_database(connection, DATABASE)
    get_client().indices.delete(index=f"bench-{RUN}-*", params={"expand_wildcards": "all"})


def truncate() -> None:
    """Empty the tables and indices between sizes."""
    with unit_of_work() as session:
        session.execute(text(
            "TRUNCATE outbox, visit_sources, visits, cars, import_patients, import_issues, import_file_chunks, imports, "
            "patients RESTART IDENTITY CASCADE"
        ))
    client = get_client()
    client.indices.delete(index=f"bench-{RUN}-*", params={"expand_wildcards": "all"})
    lifecycle.setup(client)


def start_worker(
    queue: str, name: str, log_path: Path, env: dict[str, str] | None = None, concurrency: int = 1
) -> subprocess.Popen:
    """A real Celery worker (solo pool for one: the task runs in this very process, so its RSS is the task's)."""
    log = open(log_path, "ab")
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork", "--concurrency", str(concurrency)]
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker", "-Q", queue, *pool,
         "--loglevel", "WARNING", "-n", f"{name}-{RUN}@bench"],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker {name} exited; see {log_path}")
        if celery_app.control.ping(destination=[f"{name}-{RUN}@bench"], timeout=0.5):
            return process
    process.kill()
    raise RuntimeError(f"worker {name} did not answer")


def children_peak_rss_mb(pid: int) -> float:
    """The largest peak RSS (VmHWM) among a process's live children, in MB (0 when none)."""
    peak = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) != pid:
                continue
            peak = max(peak, peak_rss_mb(int(entry.name)))
        except (OSError, ValueError, IndexError):
            continue
    return peak


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_once(path: Path, timeout: float, worker_pid: int) -> dict:
    """Upload, apply through the worker, wait until searchable; return timings and counts."""
    data = path.read_bytes()
    started = time.monotonic()
    with unit_of_work() as session:
        import_id = import_service.register_upload(session, path.name, data).id
    enqueue_import(import_id)
    applied_at = None
    client = get_client()
    last_sweep = 0.0
    child_rss = 0.0
    while time.monotonic() - started < timeout:
        child_rss = max(child_rss, children_peak_rss_mb(worker_pid))
        if time.monotonic() - last_sweep >= 1.0:  # what the beat schedule does in production
            drain_outbox.apply_async(expires=5)
            last_sweep = time.monotonic()
        with unit_of_work() as session:
            status = session.scalar(select(Import.status).where(Import.id == import_id))
            pending, _ = outbox.backlog(session)
            patients = session.scalar(select(func.count(Patient.id)))
            visits = session.scalar(select(func.count(Visit.id)))
        if status in ("succeeded", "failed") and applied_at is None:
            applied_at = time.monotonic()
            if status == "failed":
                break
        if applied_at is not None and pending == 0:
            client.indices.refresh(index=f"{names.alias('patients')},{names.alias('visits')}")
            indexed_patients = client.count(index=names.alias("patients"))["count"]
            indexed_visits = client.count(index=names.alias("visits"))["count"]
            if (indexed_patients, indexed_visits) == (patients, visits):
                break
        time.sleep(0.1)
    else:
        raise TimeoutError("the import did not become searchable in time")
    finished = time.monotonic()
    with unit_of_work() as session:
        report = import_service.report(session, import_id, issue_limit=0)
    return {"report": report, "seconds": finished - started, "applied_seconds": applied_at - started,
            "patients": patients, "visits": visits, "child_rss": child_rss}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each size and print the figures."""
    parser = argparse.ArgumentParser(description="Benchmark de importação ponta a ponta")
    parser.add_argument("sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="mantém o banco e os índices do benchmark")
    parser.add_argument("--drain-batch-size", type=int, default=2000, help="COLETA_DRAIN_BATCH_SIZE do worker de drenagem")
    parser.add_argument("--drainers", type=int, default=2, help="processos do worker de drenagem (fila sync)")
    args = parser.parse_args(argv)

    print(f"banco {DATABASE}, índices bench-{RUN}-*")
    create_database()
    log_dir = ROOT / ".local" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for rows in args.sizes:
            path = export_file(rows, args.seed)
            truncate()
            importer = start_worker(DEFAULT_QUEUE, "importer", log_dir / "bench-importer.log")
            drainer = start_worker(SYNC_QUEUE, "drainer", log_dir / "bench-drainer.log",
                                   {"COLETA_DRAIN_BATCH_SIZE": str(args.drain_batch_size)}, args.drainers)
            try:
                first = run_once(path, args.timeout, importer.pid)
                rss = peak_rss_mb(importer.pid)
                drain_rss = max(peak_rss_mb(drainer.pid), children_peak_rss_mb(drainer.pid))
                second = run_once(path, args.timeout, importer.pid)
            finally:
                for process in (importer, drainer):
                    process.terminate()
                    process.wait(timeout=30)
            report = first["report"]
            print(
                f"{rows:>7} linhas: {rows / first['seconds']:,.0f} linhas/s ponta a ponta "
                f"({first['seconds']:.1f}s; aplicado em {first['applied_seconds']:.1f}s); "
                f"RSS máx. do worker de importação {rss:.0f} MB (+ processo de leitura {first['child_rss']:.0f} MB; "
                f"drenagem {drain_rss:.0f} MB); "
                f"{report['visits_created']} visitas, {report['patients_created']} pacientes, "
                f"{report['skipped']} ignoradas, {report['errors']} com erro"
            )
            again = second["report"]
            print(
                f"          reimportação: {again['visits_created']} criadas, {again['visits_updated']} alteradas, "
                f"{again['patients_created']} + {again['patients_updated']} pacientes; {second['seconds']:.1f}s"
            )
            results.append((rows, rows / first["seconds"], rss))
    finally:
        if not args.keep:
            drop_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
