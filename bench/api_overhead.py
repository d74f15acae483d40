"""The API before issue 14 and today's, side by side on one registry: a trivial route and every search kind.

    .venv/bin/python -m bench.api_overhead --patients 200000 --visits 600000 [--seconds 20] [--rounds 2]

Two uvicorn processes run at once on the `bench.search_scale` registry (its database, index
prefix and viewer account): `baseline` from the code of `bench.baseline.BASELINE_REF` and
`current` from this checkout, each as `make run` starts it (one process). For each route, an
open loop at `--rate` requests/s (latency counted from the planned start, so queueing shows)
runs against one, then the other, `--rounds` times in alternating order, so both see the same
machine. Routes: `/healthz` (no auth), `/api/v1/users/me` (the trivial authenticated route: its
latency is the API's overhead: auth, dependencies, middleware, serialisation), then the search
kinds of `bench.search_scale` with recall@1/@5 where judged. The shard request cache is off.
Below the table, the API's own time on the two plain routes (each request's `duration_ms` from
its access line: what the API adds, without the bench client's and the loopback's share).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402
from bench.search_scale import (  # noqa: E402
    KINDS, ApiEngine, Bench, Probe, Run, closed, configure, login, query_sets, request_cache, say, steady,
)

PORTS = {"baseline": 8797, "current": 8798}


def start(variant: str, directory: Path, port: int) -> subprocess.Popen:
    """uvicorn api.app:app from `directory`, as `make run` starts it."""
    import httpx

    log_path = ROOT / ".local" / "log" / f"bench-api-{variant}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=directory, env=baseline.env_for(directory), stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the {variant} API exited; see {log_path}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"the {variant} API did not answer; see {log_path}")


class Route(ApiEngine):
    """The search kinds of ApiEngine, plus the two plain routes."""

    def __call__(self, probe: Probe) -> list[str]:
        if probe.kind in ("healthz", "me"):
            response = self._client().get("/healthz" if probe.kind == "healthz" else "/api/v1/users/me")
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")
            return []
        return super().__call__(probe)


def log_path(variant: str) -> Path:
    return ROOT / ".local" / "log" / f"bench-api-{variant}.log"


def server_times(variant: str, offset: int) -> dict[str, list[float]]:
    """The API's own time per request (its access lines' `duration_ms`, from the outermost middleware
    to the last byte handed to uvicorn) by route, from the log lines written after `offset`."""
    import json

    times: dict[str, list[float]] = {}
    with open(log_path(variant), "rb") as log:
        log.seek(offset)
        for line in log:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "request" and "duration_ms" in entry:
                times.setdefault(entry["path"], []).append(float(entry["duration_ms"]))
    return times


def measure(bench: Bench, args: argparse.Namespace) -> list[str]:
    """Both APIs up, every route measured on each in alternating rounds; returns the report lines."""
    count = int(args.rate * args.seconds)
    sets = query_sets(bench, count + args.warmup) if args.kinds else {}
    sets["healthz"] = [Probe("healthz")] * (count + args.warmup)
    sets["me"] = [Probe("me")] * (count + args.warmup)
    kinds = ["healthz", "me", *args.kinds]
    directories = {"baseline": baseline.checkout(args.baseline_ref), "current": ROOT}
    processes = {}
    request_cache(bench, False)
    offsets = {variant: log_path(variant).stat().st_size if log_path(variant).exists() else 0 for variant in directories}
    try:
        engines = {}
        for variant, directory in directories.items():
            processes[variant] = start(variant, directory, PORTS[variant])
            url = f"http://127.0.0.1:{PORTS[variant]}"
            engines[variant] = Route(url, login(url))
        runs: dict[tuple[str, str], Run] = {}
        for kind in kinds:
            measured, warm = sets[kind][:count], sets[kind][count:]
            per_round = max(1, len(measured) // args.rounds)
            for r in range(args.rounds):
                order = ("baseline", "current") if r % 2 == 0 else ("current", "baseline")
                chunk = measured[r * per_round:(r + 1) * per_round]
                for variant in order:
                    if r == 0 and warm:
                        closed(engines[variant], warm, 1, 3.0)
                    run = steady(engines[variant], chunk, args.rate, len(chunk) / args.rate, 32, 60.0)
                    total = runs.setdefault((kind, variant), Run())
                    total.latencies += run.latencies
                    total.errors += run.errors
                    total.ranks += run.ranks
            for variant in directories:
                run = runs[kind, variant]
                say(f"{kind:17} {variant:9} p50 {run.pct(50):6.1f} ms  p95 {run.pct(95):6.1f} ms  errors {len(run.errors)}")
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=20)
        request_cache(bench, True)
    return table(kinds, runs, args) + server_table({variant: server_times(variant, offsets[variant]) for variant in directories})


def server_table(times: dict[str, dict[str, list[float]]]) -> list[str]:
    """The API's own time on the two plain routes (warm-up requests included), without the client's."""
    def pct(values: list[float], q: float) -> str:
        if not values:
            return "     —"
        ordered = sorted(values)
        return f"{ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]:6.1f}"

    lines = ["", "inside the API (access log duration_ms: middleware, auth, dependencies, route, JSON), ms"]
    for path, label in (("/healthz", "/healthz"), ("/api/v1/users/me", "/users/me (auth)")):
        cells = "  ".join(f"{variant} p50 {pct(t.get(path, []), 50)} p95 {pct(t.get(path, []), 95)}"
                          for variant, t in times.items())
        lines.append(f"{label:17} {cells}")
    return lines


def table(kinds: list[str], runs: dict, args: argparse.Namespace) -> list[str]:
    def recall(run: Run, k: int) -> str:
        value = run.recall(k)
        return "    —" if value is None else f"{value:.3f}"

    lines = [
        f"API side by side: {args.rate:g} req/s open loop, {int(args.rate * args.seconds)} requests per route and "
        f"variant in {args.rounds} alternating rounds; baseline = {args.baseline_ref} (before issue 14)",
        f"{'route':17} {'baseline p50':>12} {'p95':>7} {'current p50':>12} {'p95':>7} {'err b/c':>8} "
        f"{'recall@1 b/c':>13} {'recall@5 b/c':>13}",
    ]
    for kind in kinds:
        b, c = runs[kind, "baseline"], runs[kind, "current"]
        label = {"healthz": "/healthz", "me": "/users/me (auth)"}.get(kind, kind)
        lines.append(
            f"{label:17} {b.pct(50):>12.1f} {b.pct(95):>7.1f} {c.pct(50):>12.1f} {c.pct(95):>7.1f} "
            f"{len(b.errors):>3}/{len(c.errors):<4} {recall(b, 1):>6}/{recall(c, 1):<6} {recall(b, 5):>6}/{recall(c, 5):<6}"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--visits", type=int, default=600_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="per route and variant, split over the rounds")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--kinds", nargs="*", choices=KINDS, default=list(KINDS))
    parser.add_argument("--baseline-ref", default=baseline.BASELINE_REF)
    parser.add_argument("--save", action="store_true", help="also write the report to bench/results/")
    args = parser.parse_args()
    bench = Bench(args.patients, args.visits, args.seed, f"coleta_bench_{args.patients}", f"bench-{args.patients}-")
    configure(bench)
    lines = baseline.header("bench.api_overhead") + [
        f"registry: {bench.patients:,} patients, {bench.visits:,} visits; database {bench.database}", ""]
    lines += measure(bench, args)
    print("\n".join(lines), flush=True)
    if args.save:
        baseline.save("api_overhead", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
