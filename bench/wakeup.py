"""What an idle machine adds to one request: each service answered back to back, then after a pause.

    .venv/bin/python -m bench.wakeup [--api http://127.0.0.1:8000] [--user E-MAIL --password …] [--count 30] [--save]

The keystroke bench (`bench/web_speed.mjs`) sends its search after the debounce's 200 ms of quiet,
and `bench.search_scale` at 20 req/s leaves 50 ms between requests. On a virtual machine, the
processes a request crosses (the API, OpenSearch, PostgreSQL, Redis) may pay milliseconds after a
pause that the same request does not pay on a server kept busy (on the dev VM not the guest's idle
halt: `bench/results/wakeup-2026-12-07-2.txt`). This prints,
for the cheapest call each service answers, the p50 and p95 back to back, after 50 ms and after
200 ms of idle, so the other benches' figures can be read against the machine they ran on. With
`--user`, also `/api/v1/users/me`, the trivial authenticated route (the API's own overhead: token,
user, dependencies, JSON). The API is the running one (`make run`'s by default); the rest are this
checkout's settings. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402

PAUSES_MS = (0, 50, 200)


def probes(api: str, user: str | None, password: str | None) -> dict[str, Callable[[], object]]:
    """The cheapest call of each service, on connections opened once (as the API keeps them)."""
    import httpx
    import psycopg
    import redis
    from opensearchpy import OpenSearch

    from api.settings import get_settings as api_settings
    from indexing.settings import get_settings as index_settings
    from storage.settings import get_settings as storage_settings

    http = httpx.Client(base_url=api)
    search = OpenSearch(index_settings().opensearch_url)
    cache = redis.Redis.from_url(api_settings().redis_url)
    database = psycopg.connect(storage_settings().database_url.replace("postgresql+psycopg://", "postgresql://"),
                               autocommit=True)
    calls: dict[str, Callable[[], object]] = {"API /healthz (no I/O)": lambda: http.get("/healthz").raise_for_status()}
    if user:
        token = http.post("/api/v1/auth/token", data={"username": user, "password": password or ""})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        calls["API /users/me (auth)"] = lambda: http.get("/api/v1/users/me", headers=headers).raise_for_status()
    return calls | {
        "OpenSearch GET /": search.info,
        "PostgreSQL SELECT 1": lambda: database.execute("SELECT 1").fetchone(),
        "Redis PING": cache.ping,
    }


def timed(call: Callable[[], object], pause_ms: int, count: int) -> list[float]:
    times = []
    for _ in range(count):
        if pause_ms:
            time.sleep(pause_ms / 1000)
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def measure(api: str, count: int, user: str | None = None, password: str | None = None) -> list[str]:
    lines = [f"p50 / p95 in ms of {count} calls each; a call is timed after the pause before it"]
    lines.append(f"{'call':24}" + "".join(f"{f'after {p} ms idle' if p else 'back to back':>20}" for p in PAUSES_MS))
    for name, call in probes(api, user, password).items():
        timed(call, 0, 5)
        cells = []
        for pause in PAUSES_MS:
            times = timed(call, pause, count)
            cells.append(f"{statistics.median(times):>9.1f} / {pct(times, 95):>6.1f}  ")
        lines.append(f"{name:24}" + "".join(f"{c:>20}" for c in cells))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--save", action="store_true", help="also write the report to bench/results/")
    args = parser.parse_args()
    lines = baseline.header("bench.wakeup") + [f"API {args.api}", ""] + measure(args.api, args.count, args.user, args.password)
    print("\n".join(lines), flush=True)
    if args.save:
        baseline.save("wakeup", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
