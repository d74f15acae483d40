"""How long until a write through the API shows in search (POST → found, DELETE → gone).

Run against `make run`:  .venv/bin/python -m bench.sync_latency [--count 50]
Prints p50/p95/max; never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import httpx

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.factories import patient_data  # noqa: E402


def login(client: httpx.Client) -> None:
    """Use the development admin's token when the API requires one."""
    response = client.post(
        "/api/v1/auth/token",
        data={
            "username": os.environ.get("COLETA_ADMIN_EMAIL", "admin@coleta.local"),
            "password": os.environ.get("COLETA_ADMIN_PASSWORD", "coleta-dev-admin"),
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args()
    created, deleted = [], []
    with httpx.Client(base_url=args.base_url, timeout=30) as client:
        login(client)
        for _ in range(args.count):
            data = patient_data()
            started = time.monotonic()
            response = client.post("/api/v1/patients", json=data)
            response.raise_for_status()
            patient_id = response.json()["id"]
            created.append(time.monotonic() - started + wait_for(client, data["cpf"], True))
            started = time.monotonic()
            client.delete(f"/api/v1/patients/{patient_id}").raise_for_status()
            deleted.append(time.monotonic() - started + wait_for(client, data["cpf"], False))
    for label, values in (("POST → encontrado", created), ("DELETE → sumiu", deleted)):
        print(
            f"{label:18} n={len(values)}  p50={statistics.median(values) * 1000:.0f} ms  "
            f"p95={percentile(values, 0.95) * 1000:.0f} ms  max={max(values) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
