"""Dashboard and trend speed, called in process on a loaded bench registry (no HTTP, no API).

    flock /work/wt/quiet.lock env COLETA_INDEX_PREFIX=bench-1000000- .venv/bin/python -m bench.dashboard_speed

`indexing.queries.stats.dashboard` for `--days` days spread over the indexed agenda, then
`trend` over 7, 30 and 90 days (`--repeats` ranges each, ending on different days), one call
at a time: median and p95 of the wall time and of OpenSearch's `took` (summed over the
round trips of one call), and the round trips per call. The shard request cache of the
prefix's indices is off while measuring (every write empties it in production) and back on
after. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta
from typing import Any

from indexing import names
from indexing.client import get_client
from indexing.queries import stats
from indexing.settings import get_settings


class Timed:
    """An OpenSearch client that adds up the `took` of the searches made through it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.took = 0
        self.calls = 0

    def search(self, **kwargs: Any) -> dict[str, Any]:
        response = self.client.search(**kwargs)
        self.took += response["took"]
        self.calls += 1
        return response

    def msearch(self, **kwargs: Any) -> dict[str, Any]:
        response = self.client.msearch(**kwargs)
        self.took += response["took"]
        self.calls += 1
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def run(label: str, calls: list[Any]) -> str:
    walls, tooks, trips = [], [], []
    for call in calls:
        timed = Timed(get_client())
        started = time.perf_counter()
        call(timed)
        walls.append((time.perf_counter() - started) * 1000)
        tooks.append(timed.took)
        trips.append(timed.calls)
    return (f"{label:<16} n={len(calls):<3} wall p50 {statistics.median(walls):7.1f} ms  p95 {p95(walls):7.1f} ms"
            f"   took p50 {statistics.median(tooks):7.1f} ms  p95 {p95(tooks):7.1f} ms"
            f"   round trips {min(trips)}-{max(trips)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    client = get_client()
    prefix = get_settings().index_prefix
    span = client.search(index=names.alias("visits"), body={"size": 0, "aggs": {
        "first": {"min": {"field": "date"}}, "last": {"max": {"field": "date"}}}})["aggregations"]
    first = date.fromisoformat(span["first"]["value_as_string"])
    last = date.fromisoformat(span["last"]["value_as_string"])
    step = max(1, ((last - first).days + 1) // args.days)
    days = [first + timedelta(days=step * n) for n in range(args.days)]
    print(f"visits index {names.alias('visits')}: {first} .. {last}; dashboard of {len(days)} days, every {step}")
    client.indices.put_settings(index=f"{prefix}*", body={"index": {"requests.cache.enable": False}})
    try:
        client.indices.clear_cache(index=f"{prefix}*", params={"request": "true"})
        for day in days[:3]:  # warm-up
            stats.dashboard(client, day)
        print(run("dashboard", [lambda c, d=day: stats.dashboard(c, d) for day in days]))
        for length in (7, 30, 90):
            ends = [last - timedelta(days=n * 3) for n in range(args.repeats)]
            print(run(f"trend {length} days", [
                lambda c, e=end, n=length: stats.trend(c, e - timedelta(days=n - 1), e) for end in ends]))
    finally:
        client.indices.put_settings(index=f"{prefix}*", body={"index": {"requests.cache.enable": True}})


if __name__ == "__main__":
    main()
