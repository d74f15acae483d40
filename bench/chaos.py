"""Fault scenarios against a running stack of our own: `make chaos` (scripts/chaos.sh) starts it and calls this.

Three scenarios, each during 2,000 writes through the API at a bounded rate (creates and
updates of patients and visits, a quarter each, from 16 threads, open loop):

- worker: an import is running when the Celery workers (and their pools) are killed with SIGKILL;
  it is restarted at once (as a supervisor would, `scripts/app.sh restart-worker`), and the
  import must resume by itself (heartbeat + resume sweep) and finish;
- opensearch: the node is stopped for 60 s, then started again;
- redis: Redis is stopped for 60 s (the broker, the nudge, login throttling), then started again;
  a login is tried while it is down.

Per scenario it prints the errors returned (by status), write latency before/during/after the
fault, the catch-up time after recovery (until the index holds every write made before the
recovery, and until PostgreSQL and the index agree exactly once the writes stop), and the
reconciliation of ids and row versions of patients and visits (must be 0 mismatches).
Figures are printed, never asserted; exit status 1 when a reconciliation does not reach 0.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dasaexp_export import Generator, write_xlsx  # noqa: E402
from indexing import names  # noqa: E402
from indexing.client import get_client  # noqa: E402
from storage.db import get_engine  # noqa: E402
from tests.factories import patient_data  # noqa: E402

TZ = ZoneInfo("America/Sao_Paulo")
LOCAL = Path(os.environ.get("COLETA_LOCAL_DIR", ROOT / ".local"))
RUN_DIR = LOCAL / "run"
SCRIPTS = ROOT / "scripts"
API = f"http://127.0.0.1:{os.environ.get('COLETA_API_PORT', '8000')}"
ADMIN = (os.environ.get("COLETA_ADMIN_EMAIL", "admin@coleta.local"),
         os.environ.get("COLETA_ADMIN_PASSWORD", "coleta-dev-admin"))
INDICES = ("patients", "visits")
SEED_PATIENTS = 200


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


def script(name: str, *args: str) -> None:
    """Run one of the project's scripts on this stack (the environment carries its ports and folder)."""
    subprocess.run(["bash", str(SCRIPTS / name), *args], check=True, stdout=subprocess.DEVNULL)


def our_pid(name: str) -> int:
    """The pid of a process this stack started, from its pid file; refuses anything else."""
    pid = int((RUN_DIR / f"{name}.pid").read_text().strip())
    os.kill(pid, 0)
    return pid


def children(pid: int) -> list[int]:
    """Pids of the direct children of `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


# --- the API -------------------------------------------------------------------------------------


def login(client: httpx.Client) -> int:
    response = client.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
    if response.status_code == 200:
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return response.status_code


@dataclass
class World:
    """What the writes work on: cars, seeded patients and visits, and per-thread clients."""

    token: str
    cars: list[str]
    patients: list[str]
    visits: list[str]
    visit_status: dict[str, str]
    next_slot: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    def client(self) -> httpx.Client:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(
                base_url=API, timeout=30, headers={"Authorization": f"Bearer {self.token}"})
        return client

    def slot(self) -> tuple[str, datetime]:
        """A car and a 30-minute start no other visit of that car (or of the patient it goes with) has."""
        with self.lock:
            k = self.next_slot
            self.next_slot += 1
        car = self.cars[k % len(self.cars)]
        n = k // len(self.cars)
        day = date.today() + timedelta(days=30 + n // 24)
        return car, datetime.combine(day, dtime(6, 0), tzinfo=TZ) + timedelta(minutes=30 * (n % 24))


def seed(client: httpx.Client) -> World:
    """Five cars, 200 patients with one visit each: the targets of the updates."""
    cars = []
    for n in range(5):
        response = client.post("/api/v1/cars", json={"label": f"CARRO CAOS {n + 1}", "base": "CAOS"})
        response.raise_for_status()
        cars.append(response.json()["id"])
    world = World(client.headers["Authorization"].split()[1], cars, [], [], {})
    for _ in range(SEED_PATIENTS):
        response = client.post("/api/v1/patients", json=patient_data())
        response.raise_for_status()
        world.patients.append(response.json()["id"])
    for n, patient_id in enumerate(world.patients):
        world.visits.append(_book(client, world, patient_id).json()["id"])
        world.visit_status[world.visits[-1]] = "scheduled"
    return world


def _book(client: httpx.Client, world: World, patient_id: str) -> httpx.Response:
    car, start = world.slot()
    response = client.post("/api/v1/visits", json={
        "patient_id": patient_id, "car_id": car, "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(), "exam_codes": ["HEMO"]})
    return response


def write(world: World, i: int) -> tuple[int | str, float]:
    """The i-th write: a quarter each of patient creates, patient updates, visit creates, visit updates.

    Updates go round the seeded rows, so one row's consecutive updates are 800 writes apart and never race.
    """
    client = world.client()
    kind, k = i % 4, i // 4
    started = time.monotonic()
    try:
        if kind == 0:
            response = client.post("/api/v1/patients", json=patient_data())
        elif kind == 1:
            patient_id = world.patients[k % len(world.patients)]
            response = client.patch(f"/api/v1/patients/{patient_id}", json={"notes": f"caos {i}"})
        elif kind == 2:
            response = _book(client, world, world.patients[k % len(world.patients)])
        else:
            visit_id = world.visits[k % len(world.visits)]
            new = "no_show" if world.visit_status[visit_id] == "scheduled" else "scheduled"
            response = client.patch(f"/api/v1/visits/{visit_id}", json={"status": new, "reason": "caos"})
            if response.status_code == 200:
                world.visit_status[visit_id] = new
        status: int | str = response.status_code
    except httpx.HTTPError as error:
        status = type(error).__name__
    return status, time.monotonic() - started


@dataclass
class WriteRun:
    """2,000 writes at `rate` per second; each result is (scheduled offset, status, latency)."""

    results: list[tuple[float, int | str, float]] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def run_writes(world: World, count: int, rate: float, run: WriteRun) -> None:
    run.started = time.monotonic()

    def one(i: int) -> None:
        delay = run.started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        status, latency = write(world, i)
        run.results.append((time.monotonic() - latency - run.started, status, latency))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(one, range(count)))
    run.finished = time.monotonic()


# --- PostgreSQL against the index ---------------------------------------------------------------


def pg_versions() -> dict[str, dict[str, int]]:
    with get_engine().connect() as connection:
        return {index: dict(connection.execute(text(f"SELECT id, row_version FROM {index}")).all())
                for index in INDICES}


def index_versions() -> dict[str, dict[str, int]]:
    client = get_client()
    client.indices.refresh(index=",".join(names.alias(i) for i in INDICES))
    found: dict[str, dict[str, int]] = {}
    for index in INDICES:
        versions: dict[str, int] = {}
        page = client.search(index=names.alias(index), scroll="1m", size=5000,
                             body={"query": {"match_all": {}}, "_source": False, "version": True})
        while page["hits"]["hits"]:
            versions.update((hit["_id"], hit["_version"]) for hit in page["hits"]["hits"])
            page = client.scroll(scroll_id=page["_scroll_id"], scroll="1m")
        client.clear_scroll(scroll_id=page["_scroll_id"])
        found[index] = versions
    return found


def mismatches(expected: dict[str, dict[str, int]], indexed: dict[str, dict[str, int]], at_least: bool = False) -> dict:
    """Per index: ids missing from the index, ids only in the index, ids whose version differs.

    `at_least`: the index may hold newer versions and ids PostgreSQL got later (catching up with a snapshot).
    """
    out = {}
    for index in INDICES:
        want, have = expected[index], indexed.get(index, {})
        missing = [i for i in want if i not in have]
        extra = [] if at_least else [i for i in have if i not in want]
        stale = [i for i, v in want.items() if i in have and (have[i] < v if at_least else have[i] != v)]
        out[index] = {"missing": len(missing), "extra": len(extra), "version": len(stale)}
    return out


def total(found: dict) -> int:
    return sum(sum(counts.values()) for counts in found.values())


def wait_agreement(snapshot: dict | None, timeout: float) -> tuple[float | None, dict]:
    """Seconds until the index covers `snapshot` (or, with None, equals PostgreSQL now); and the last mismatches."""
    started = time.monotonic()
    last: dict = {}
    while time.monotonic() - started < timeout:
        try:
            expected = snapshot if snapshot is not None else pg_versions()
            last = mismatches(expected, index_versions(), at_least=snapshot is not None)
            if total(last) == 0:
                return time.monotonic() - started, last
        except Exception as error:  # noqa: BLE001 - the index may still be coming back
            last = {"error": type(error).__name__}
        time.sleep(0.25)
    return None, last


# --- scenarios -----------------------------------------------------------------------------------


@dataclass
class Report:
    name: str
    fault_at: float = 0.0
    recovered_at: float = 0.0
    run: WriteRun = field(default_factory=WriteRun)
    caught_up: float | None = None
    agreed: float | None = None
    agreed_after_last_write: float | None = None
    final: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def scenario(name: str, world: World, count: int, rate: float, fault_after: float, fault, recover) -> Report:
    """Writes in the background; `fault()` at `fault_after` s, `recover()` when it returns; then catch-up."""
    report = Report(name)
    writer = threading.Thread(target=run_writes, args=(world, count, rate, report.run))
    writer.start()
    time.sleep(fault_after)
    report.fault_at = time.monotonic()
    log(f"{name}: falha injetada")
    fault(report)
    recover(report)
    report.recovered_at = time.monotonic()
    log(f"{name}: serviço de volta ({report.recovered_at - report.fault_at:.0f} s após a falha)")
    snapshot = pg_versions()  # every write committed before the recovery
    report.caught_up, _ = wait_agreement(snapshot, timeout=600)
    writer.join()
    report.agreed, report.final = wait_agreement(None, timeout=600)
    if report.agreed is not None:
        done = time.monotonic()
        report.agreed_after_last_write = done - report.run.finished
        report.agreed = done - report.recovered_at
    return report


def worker_kill(world: World, count: int, rate: float, import_rows: int) -> Report:
    client = world.client()
    buffer = io.BytesIO()
    write_xlsx(buffer, Generator(seed=int(time.time()) % 1000).rows(import_rows))
    state: dict = {}

    def fault(report: Report) -> None:
        response = client.post("/api/v1/imports", files={"file": ("agenda-caos.xlsx", buffer.getvalue())})
        response.raise_for_status()
        state["import"] = response.json()["id"]
        while (item := client.get(f"/api/v1/imports/{state['import']}").json())["processed_rows"] < 500:
            time.sleep(0.05)
        # Both workers: the one applying the import and the drain's.
        pids = [our_pid(name) for name in ("worker-jobs", "worker")]
        state["processed_at_kill"] = item["processed_rows"]
        victims = [victim for pid in pids for victim in (pid, *children(pid))]
        for victim in victims:
            os.kill(victim, signal.SIGKILL)
        report.fault_at = time.monotonic()
        report.notes.append(f"kill -9 dos workers (pids {pids} e {len(victims) - 2} filhos) com a importação em "
                            f"{item['processed_rows']}/{item['total_rows']} linhas")
        monitor.start()

    def recover(report: Report) -> None:
        script("app.sh", "restart-worker")

    def watch() -> None:
        """From the kill on: when the import moves again, and when it ends."""
        with httpx.Client(base_url=API, timeout=30, headers={"Authorization": f"Bearer {world.token}"}) as watcher:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                item = state["item"] = watcher.get(f"/api/v1/imports/{state['import']}").json()
                if "resumed" not in state and item["processed_rows"] > state["processed_at_kill"]:
                    state["resumed"] = time.monotonic()
                if item["status"] in ("succeeded", "failed"):
                    state["finished"] = time.monotonic()
                    return
                time.sleep(0.2)

    monitor = threading.Thread(target=watch)
    report = scenario("worker kill -9", world, count, rate, 10, fault, recover)
    monitor.join()
    item = state["item"]
    resumed = state["resumed"] - report.fault_at if "resumed" in state else None
    finished = state.get("finished", time.monotonic()) - report.fault_at
    report.notes.append(
        f"importação: {item['status']}, {item['processed_rows']}/{item['total_rows']} linhas, "
        f"{item['visits_created']} visitas criadas, {item['patients_created']} pacientes criados; retomada "
        f"{resumed:.0f} s após o kill, concluída {finished:.0f} s após" if resumed is not None else
        f"importação: {item['status']} (não retomou em 600 s)")
    # The import's own rows must reach the index too.
    report.agreed, report.final = wait_agreement(None, timeout=600)
    if report.agreed is not None:
        report.agreed = time.monotonic() - report.recovered_at
        report.agreed_after_last_write = None
    return report


def opensearch_down(world: World, count: int, rate: float, down: float) -> Report:
    def fault(report: Report) -> None:
        our_pid("opensearch")
        script("opensearch.sh", "stop")
        report.fault_at = time.monotonic()
        time.sleep(down)

    def recover(report: Report) -> None:
        script("opensearch.sh", "start")  # returns once the node is yellow

    return scenario("OpenSearch parado", world, count, rate, 10, fault, recover)


def redis_down(world: World, count: int, rate: float, down: float) -> Report:
    def fault(report: Report) -> None:
        our_pid("redis")
        script("redis.sh", "stop")
        report.fault_at = time.monotonic()
        time.sleep(down / 2)
        with httpx.Client(base_url=API, timeout=30) as anonymous:
            started = time.monotonic()
            status = login(anonymous)
        report.notes.append(f"login com o Redis parado: {status} em {(time.monotonic() - started) * 1000:.0f} ms")
        time.sleep(down / 2)

    def recover(report: Report) -> None:
        script("redis.sh", "start")

    return scenario("Redis parado", world, count, rate, 10, fault, recover)


# --- printing ------------------------------------------------------------------------------------


def latency_line(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (n={len(ordered)})"


def print_report(report: Report) -> None:
    run = report.run
    fault, back = report.fault_at - run.started, report.recovered_at - run.started
    statuses = Counter(status for _, status, _ in run.results)
    errors = {str(s): n for s, n in sorted(statuses.items(), key=str) if not (isinstance(s, int) and s < 400)}
    phases = {"antes": [], "durante": [], "depois": []}
    for at, _, latency in run.results:
        phases["antes" if at < fault else "durante" if at < back else "depois"].append(latency)
    span = run.finished - run.started
    print(f"\n== {report.name}")
    print(f"  escritas: {len(run.results)} em {span:.0f} s ({len(run.results) / span:.1f}/s); "
          f"falha em t={fault:.0f} s, de volta em t={back:.0f} s")
    print(f"  erros devolvidos: {errors or 'nenhum'}  (todos os status: {dict(sorted(statuses.items(), key=str))})")
    for phase, values in phases.items():
        print(f"  latência {phase:8}: {latency_line(values)}")
    for note in report.notes:
        print(f"  {note}")
    caught = f"{report.caught_up:.1f} s" if report.caught_up is not None else "não em 600 s"
    print(f"  índice em dia com tudo o que foi escrito até a volta: {caught} após a volta")
    if report.agreed is not None:
        after = (f", {report.agreed_after_last_write:.1f} s após a última escrita"
                 if report.agreed_after_last_write is not None else "")
        print(f"  PostgreSQL = índice: {report.agreed:.1f} s após a volta{after}")
    print(f"  reconciliação (ids e row_version de pacientes e visitas): {total(report.final) if 'error' not in report.final else report.final} divergências {report.final}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=25.0, help="writes per second (open loop)")
    parser.add_argument("--down", type=float, default=60.0, help="seconds OpenSearch and Redis stay down")
    parser.add_argument("--import-rows", type=int, default=10000)
    parser.add_argument("--only", choices=("worker", "opensearch", "redis"), action="append")
    args = parser.parse_args()
    chosen = args.only or ["worker", "opensearch", "redis"]

    with httpx.Client(base_url=API, timeout=30) as client:
        if login(client) != 200:
            raise SystemExit(f"login do administrador falhou em {API}")
        log("semeando 5 carros, 200 pacientes e 200 visitas")
        world = seed(client)
    agreed, found = wait_agreement(None, timeout=300)
    log(f"índice em dia com o PostgreSQL ({found})")

    reports = []
    for name in chosen:
        log(f"cenário {name}: {args.writes} escritas a {args.rate:g}/s")
        if name == "worker":
            reports.append(worker_kill(world, args.writes, args.rate, args.import_rows))
        elif name == "opensearch":
            reports.append(opensearch_down(world, args.writes, args.rate, args.down))
        else:
            reports.append(redis_down(world, args.writes, args.rate, args.down))
        print_report(reports[-1])
    print("\n== resumo")
    for report in reports:
        errors = sum(n for s, n in Counter(s for _, s, _ in report.run.results).items()
                     if not (isinstance(s, int) and s < 400))
        caught = f"{report.caught_up:.1f} s" if report.caught_up is not None else "-"
        print(f"  {report.name:18} erros {errors:4}  em dia após a volta {caught:>8}  divergências "
              f"{total(report.final) if 'error' not in report.final else report.final}")
    return 0 if all(report.final and "error" not in report.final and total(report.final) == 0 for report in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
