"""Freshness and search during an import, the code before issue 14 beside today's.

    .venv/bin/python -m bench.freshness [--seed-rows 5000] [--import-rows 100000] [--count 40] [--clients 20]

For each variant (`baseline` = `bench.baseline.BASELINE_REF`, `current` = this checkout) a whole
stack of its own runs that variant's code as `make run` starts it (a Celery worker with two
processes on both queues, beat, one uvicorn process) on a database cloned from the `coleta_test`
template, its own index prefix, queues and Redis keys; only PostgreSQL, Redis and OpenSearch are
shared. Then, one variant after the other:

1. a seed export of `--seed-rows` rows is imported (and drained): the registry searched below;
2. idle: `--count` patients created and deleted through the API, each timed until search finds
   it (and no longer finds it): `bench.sync_latency`;
3. an import of `--import-rows` rows alone: its rows/s (applied, and drained);
4. the same size again (another file) while patients are created one after the other: POST →
   found p50/p95/p99 and the import's rows/s beside them (issue 14's freshness target);
5. `--clients` clients search names in a closed loop for `--search-seconds` (p50/p95, req/s),
   idle, on the registry the imports left;
6. the same size again (a third file) while the same clients search, from the upload until the
   import is applied: search p50/p95 against 5's, and the import's rows/s (it waits for staff);
7. the same clients, idle again once that import is drained, on the registry it left.

Each import adds patients, and a larger registry is slower to search and count, so the searches
during the import (6) are bracketed by idle ones on the registry it starts from (5) and the one
it leaves (7); the probes' writes (each made searchable at once) are left out of the search figures.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline, sync_latency  # noqa: E402

PG = os.environ.get("COLETA_BENCH_PG", "coleta:coleta@127.0.0.1:5433")
REDIS = os.environ.get("COLETA_BENCH_REDIS_URL", "redis://127.0.0.1:6380/3")
ADMIN, PASSWORD = "admin@fresh.test", "senha-do-bench-fresh-1"
NAMES = ("maria", "jose", "ana", "joao", "francisca", "antonio", "silva", "santos", "oliveira", "souza",
         "carlos", "paulo", "pedro", "lucas", "luiz", "marcos", "gabriel", "rafael", "daniel", "marcelo")


class Stack:
    """One variant's API, worker and beat on a database, index prefix, queues and Redis keys of their own."""

    def __init__(self, variant: str, directory: Path, port: int) -> None:
        run = uuid.uuid4().hex[:6]
        self.variant, self.directory, self.port = variant, directory, port
        self.database = f"coleta_fresh_{variant}_{run}"
        self.env = baseline.env_for(directory, {
            **os.environ,
            "COLETA_ENVIRONMENT": "test",
            "COLETA_DATABASE_URL": f"postgresql+psycopg://{PG}/{self.database}",
            "COLETA_INDEX_PREFIX": f"fresh-{variant}-{run}-",
            "COLETA_QUEUE_PREFIX": f"fresh-{variant}-{run}-",
            "COLETA_REDIS_URL": REDIS,
            "COLETA_REDIS_KEY_PREFIX": f"fresh-{variant}-{run}:",
            "COLETA_LOGIN_MAX_FAILURES_PER_IP": "1000",
            "COLETA_ACCESS_TOKEN_MINUTES": "600",
            "COLETA_LOG_LEVEL": "WARNING",
        })
        self.processes: list[subprocess.Popen] = []
        self.schedule = Path(tempfile.mkdtemp(prefix="fresh-beat-")) / "schedule"
        self.url = f"http://127.0.0.1:{port}"

    def _run(self, *command: str, stdin: str | None = None) -> None:
        subprocess.run([sys.executable, *command], cwd=self.directory, env=self.env, check=True, input=stdin,
                       text=True, capture_output=True)

    def start(self) -> None:
        self._sql(f'CREATE DATABASE "{self.database}" TEMPLATE coleta_test')
        self._run("-m", "alembic", "upgrade", "heads")
        self._run("-m", "workers", "setup-index")
        self._run("-m", "workers", "users", "create", "--email", ADMIN, "--name", "Bench", "--role", "admin",
                  "--password-stdin", stdin=PASSWORD + "\n")
        log = open(ROOT / ".local" / "log" / f"bench-fresh-{self.variant}.log", "ab")
        prefix = self.env["COLETA_QUEUE_PREFIX"]
        celery = [sys.executable, "-m", "celery", "-A", "workers.app:celery_app"]
        if self.variant == "baseline":  # one worker on both queues, as make run started it then
            workers = [[*celery, "worker", "-Q", f"{prefix}sync,{prefix}default", "--concurrency", "2",
                        "--loglevel", "WARNING", "-n", f"{prefix}@bench"]]
        else:  # the drain's worker and the jobs' worker, as scripts/app.sh starts them
            workers = [[*celery, "worker", "-Q", f"{prefix}{queue}", "--concurrency", "2", "--loglevel", "WARNING",
                        "-n", f"{prefix}{queue}@bench"] for queue in ("sync", "default")]
        for command in (
            *workers,
            [*celery, "beat", "--loglevel", "WARNING", "--schedule", str(self.schedule)],
            [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"],
        ):
            self.processes.append(subprocess.Popen(command, cwd=self.directory, env=self.env, stdout=log,
                                                   stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise SystemExit(f"the {self.variant} stack did not answer")

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=60)
        sync_latency.login(client, ADMIN, PASSWORD)
        return client

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        httpx.delete(f"http://127.0.0.1:9200/{self.env['COLETA_INDEX_PREFIX']}*?expand_wildcards=all", timeout=60)
        for attempt in range(10):  # an autovacuum worker on it refuses FORCE for a moment
            try:
                self._sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
                return
            except Exception as error:  # noqa: BLE001
                if attempt == 9:
                    print(f"could not drop {self.database}: {error}", file=sys.stderr)
                time.sleep(1)

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"postgresql://{PG}/postgres", autocommit=True) as connection:
            connection.execute(statement)


class Searchers:
    """`clients` threads searching names in a closed loop until stopped."""

    def __init__(self, url: str, token: str, clients: int) -> None:
        self.url, self.token, self.clients = url, token, clients
        self.latencies: list[float] = []
        self.errors = 0
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _client(self, n: int) -> None:
        rnd = random.Random(n)
        with httpx.Client(base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {self.token}"}) as client:
            while not self.stop.is_set():
                q = " ".join(rnd.sample(NAMES, 2))
                began = time.perf_counter()
                try:
                    client.get("/api/v1/patients", params={"q": q}).raise_for_status()
                    self.latencies.append(time.perf_counter() - began)
                except httpx.HTTPError:
                    self.errors += 1

    def start(self) -> "Searchers":
        self.started = time.perf_counter()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.clients)]
        for thread in self.threads:
            thread.start()
        return self

    def finish(self) -> dict:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        seconds = time.perf_counter() - self.started
        ordered = sorted(self.latencies)
        return {"p50": statistics.median(ordered) * 1000, "p95": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
                "rate": len(ordered) / seconds, "errors": self.errors}


def wait_imported(client: httpx.Client, import_id: str, started: float, timeout: float = 3600,
                  drained: bool = True) -> tuple[float, float]:
    """Seconds from `started` until the import is applied, and until the outbox is empty (`drained=False`:
    the first again, not waiting for the drain)."""
    applied = None
    while time.monotonic() - started < timeout:
        if applied is None and sync_latency.import_status(client, import_id) in ("succeeded", "failed"):
            applied = time.monotonic() - started
        if applied is not None and (not drained or sync_latency.outbox_backlog(client) == 0):
            return applied, (time.monotonic() - started if drained else applied)
        time.sleep(0.2)
    raise TimeoutError(import_id)


def run_variant(stack: Stack, args: argparse.Namespace) -> dict:
    """Everything measured on one stack."""
    from bench.sync_latency import export_file

    result: dict = {}
    client = stack.client()
    try:
        token = client.headers["Authorization"].split()[1]
        import_id = sync_latency.upload(client, export_file(args.seed_rows, seed=5))
        wait_imported(client, import_id, time.monotonic())
        httpx.post(f"http://127.0.0.1:9200/{stack.env['COLETA_INDEX_PREFIX']}*/_refresh", timeout=60)
        result["patients"] = client.get("/api/v1/patients", params={"page_size": 1}).json()["total"]

        found, gone = [], []
        for _ in range(args.count):
            f, g = sync_latency.one_write(client)
            found.append(f)
            gone.append(g)
        result["idle_found"], result["idle_gone"] = found, gone

        started = time.monotonic()
        import_id = sync_latency.upload(client, export_file(args.import_rows, seed=21))
        result["alone"] = wait_imported(client, import_id, started)

        during = sync_latency.during_import(client, export_file(args.import_rows, seed=22))
        result["busy_found"] = during["found"]
        result["busy"] = (during["applied"], during["drained"])

        result["patients_before"] = client.get("/api/v1/patients", params={"page_size": 1}).json()["total"]
        searchers = Searchers(stack.url, token, args.clients).start()
        time.sleep(args.search_seconds)
        result["idle_search"] = searchers.finish()

        searchers = Searchers(stack.url, token, args.clients).start()
        started = time.monotonic()
        import_id = sync_latency.upload(client, export_file(args.import_rows, seed=23))
        applied = wait_imported(client, import_id, started, drained=False)
        result["busy_search"] = searchers.finish()
        result["searched"] = applied
        wait_imported(client, import_id, started)
        searchers = Searchers(stack.url, token, args.clients).start()
        time.sleep(args.search_seconds)
        result["after_search"] = searchers.finish()
        result["patients_after"] = client.get("/api/v1/patients", params={"page_size": 1}).json()["total"]
    finally:
        client.close()
    return result


def report(results: dict, args: argparse.Namespace) -> list[str]:
    pct = sync_latency.percentile
    lines = [
        f"Freshness and search during imports: stacks as `make run` (worker --concurrency 2, beat, 1 uvicorn); "
        f"baseline = {args.baseline_ref}; registry from a {args.seed_rows:,}-row export; imports of "
        f"{args.import_rows:,} rows; {args.clients} search clients (closed loop), idle then during the third import",
        f"{'':34} " + " ".join(f"{variant:>18}" for variant in results),
    ]

    def row(label: str, get) -> None:
        lines.append(f"{label:34} " + " ".join(f"{get(results[v]):>18}" for v in results))

    row("patients in the registry", lambda r: f"{r['patients']:,}")
    for p in (0.5, 0.95, 0.99):
        row(f"idle POST → found p{int(p * 100)} (ms)", lambda r, p=p: f"{pct(r['idle_found'], p) * 1000:.0f}")
    row("idle DELETE → gone p95 (ms)", lambda r: f"{pct(r['idle_gone'], 0.95) * 1000:.0f}")
    for p in (0.5, 0.95, 0.99):
        row(f"import: POST → found p{int(p * 100)} (ms)", lambda r, p=p: f"{pct(r['busy_found'], p) * 1000:.0f}")
    row("import alone: rows/s applied", lambda r: f"{args.import_rows / r['alone'][0]:,.0f}")
    row("import alone: rows/s drained", lambda r: f"{args.import_rows / r['alone'][1]:,.0f}")
    row("import + probes: rows/s applied", lambda r: f"{args.import_rows / r['busy'][0]:,.0f}")
    row("import + searches: rows/s applied", lambda r: f"{args.import_rows / r['searched'][0]:,.0f}")
    row("patients before the searched import", lambda r: f"{r['patients_before']:,}")
    row("search idle p50 / p95 (ms)", lambda r: f"{r['idle_search']['p50']:.0f} / {r['idle_search']['p95']:.0f}")
    row("search in import p50 / p95 (ms)", lambda r: f"{r['busy_search']['p50']:.0f} / {r['busy_search']['p95']:.0f}")
    row("search p95 in import / idle", lambda r: f"{r['busy_search']['p95'] / r['idle_search']['p95']:.2f}×")
    row("search req/s idle / in import", lambda r: f"{r['idle_search']['rate']:.0f} / {r['busy_search']['rate']:.0f}")
    row("search errors idle / in import", lambda r: f"{r['idle_search']['errors']} / {r['busy_search']['errors']}")
    row("patients after the searched import", lambda r: f"{r['patients_after']:,}")
    row("search idle after p50 / p95 (ms)", lambda r: f"{r['after_search']['p50']:.0f} / {r['after_search']['p95']:.0f}")
    row("search p95 in import / idle after", lambda r: f"{r['busy_search']['p95'] / r['after_search']['p95']:.2f}×")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed-rows", type=int, default=5000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--search-seconds", type=float, default=20.0)
    parser.add_argument("--variants", nargs="*", default=["baseline", "current"])
    parser.add_argument("--baseline-ref", default=baseline.BASELINE_REF)
    parser.add_argument("--save", action="store_true", help="also write the report to bench/results/")
    args = parser.parse_args()
    (ROOT / ".local" / "log").mkdir(parents=True, exist_ok=True)
    directories = {"baseline": baseline.checkout(args.baseline_ref), "current": ROOT}
    results = {}
    for n, variant in enumerate(args.variants):
        stack = Stack(variant, directories[variant], 8780 + n)
        print(f"{variant}: starting a stack on {stack.url}", file=sys.stderr, flush=True)
        try:
            stack.start()
            results[variant] = run_variant(stack, args)
        except BaseException:
            import traceback

            traceback.print_exc()
            raise
        finally:
            stack.stop()
        print(f"{variant}: done", file=sys.stderr, flush=True)
    # One column per variant run (`--variants current` alone: today's figures without the baseline's stack).
    lines = baseline.header("bench.freshness") + report(results, args)
    print("\n".join(lines), flush=True)
    if args.save:
        baseline.save("freshness", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
