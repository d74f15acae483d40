"""How long until a write through the API shows in search (POST → found, DELETE → gone), idle or during an import.

Run against `make run` (or any API):
    .venv/bin/python -m bench.sync_latency [--count 50]
    .venv/bin/python -m bench.sync_latency --during-import 100000     # while a generated export is imported

`--during-import ROWS` uploads a generated DasaExp export of ROWS rows (bench/dasaexp_export.py,
cached under .cache/bench) through the API and creates patients one after the other until the
import is applied and its changes are drained, printing the latencies (p50/p95/p99) and the
import's rows/s. `bench.freshness` runs it beside the code before issue 14. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.factories import patient_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def login(client: httpx.Client, email: str | None = None, password: str | None = None) -> None:
    """Use the development admin's token (or the given account's) when the API requires one."""
    response = client.post(
        "/api/v1/auth/token",
        data={
            "username": email or os.environ.get("COLETA_ADMIN_EMAIL", "admin@coleta.local"),
            "password": password or os.environ.get("COLETA_ADMIN_PASSWORD", "coleta-dev-admin"),
        },
    )
    if response.status_code == 200:
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


def wait_for(client: httpx.Client, q: str, present: bool, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        total = client.get("/api/v1/patients", params={"q": q}).json()["total"]
        if (total > 0) == present:
            return time.monotonic() - started
        time.sleep(0.01)
    raise TimeoutError(q)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def one_write(client: httpx.Client, delete: bool = True) -> tuple[float, float | None]:
    """Create a patient and wait until search finds it; then (optionally) delete it and wait until it is gone."""
    data = patient_data()
    started = time.monotonic()
    response = client.post("/api/v1/patients", json=data)
    response.raise_for_status()
    found = time.monotonic() - started + wait_for(client, data["cpf"], True)
    if not delete:
        return found, None
    started = time.monotonic()
    client.delete(f"/api/v1/patients/{response.json()['id']}").raise_for_status()
    return found, time.monotonic() - started + wait_for(client, data["cpf"], False)


def export_file(rows: int, seed: int = 11) -> Path:
    """A generated DasaExp export of `rows` rows (made once, cached)."""
    from bench.dasaexp_export import Generator, write_xlsx

    path = ROOT / ".cache" / "bench" / f"dasaexp-{rows}-{seed}.xlsx"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_xlsx(path, Generator(seed).rows(rows))
    return path


def upload(client: httpx.Client, path: Path) -> str:
    """Send an export to POST /api/v1/imports; return the import id."""
    with path.open("rb") as file:
        response = client.post(
            "/api/v1/imports",
            files={"file": (path.name, file, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
        )
    response.raise_for_status()
    return response.json()["id"]


def import_status(client: httpx.Client, import_id: str) -> str:
    return client.get(f"/api/v1/imports/{import_id}").json()["status"]


def outbox_backlog(client: httpx.Client) -> int:
    """Rows still due in the outbox (GET /api/v1/admin/sync; 0 when the account may not see it)."""
    response = client.get("/api/v1/admin/sync")
    return response.json().get("outbox_pending", 0) if response.status_code == 200 else 0


def during_import(client: httpx.Client, path: Path, timeout: float = 3600) -> dict:
    """Upload `path`, then create patients one by one until it is applied and drained; latencies and timings."""
    found: list[float] = []
    started = time.monotonic()
    import_id = upload(client, path)
    applied = drained = None
    while time.monotonic() - started < timeout:
        found.append(one_write(client, delete=False)[0])
        if applied is None and import_status(client, import_id) in ("succeeded", "failed"):
            applied = time.monotonic() - started
        if applied is not None and outbox_backlog(client) == 0:
            drained = time.monotonic() - started
            break
    return {"found": found, "applied": applied, "drained": drained, "status": import_status(client, import_id)}


def summary(label: str, values: list[float]) -> str:
    return (
        f"{label:24} n={len(values):<4} p50={percentile(values, 0.5) * 1000:6.0f} ms  "
        f"p95={percentile(values, 0.95) * 1000:6.0f} ms  p99={percentile(values, 0.99) * 1000:6.0f} ms  "
        f"max={max(values) * 1000:6.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--during-import", type=int, metavar="ROWS", help="measure while an export of ROWS rows is imported")
    args = parser.parse_args()
    with httpx.Client(base_url=args.base_url, timeout=30) as client:
        login(client)
        if args.during_import:
            path = export_file(args.during_import)
            result = during_import(client, path)
            print(summary("POST → encontrado (imp.)", result["found"]))
            print(f"importação de {args.during_import:,} linhas: {result['status']}, aplicada em {result['applied']:.1f} s "
                  f"({args.during_import / result['applied']:,.0f} linhas/s), drenada em {result['drained']:.1f} s")
            return
        created, deleted = [], []
        for _ in range(args.count):
            found, gone = one_write(client)
            created.append(found)
            deleted.append(gone)
    print(summary("POST → encontrado", created))
    print(summary("DELETE → sumiu", deleted))


if __name__ == "__main__":
    main()
