"""Rebuild throughput: the backfill of main before issue 14 (serial) beside today's, on the same registry.

    .venv/bin/python -m bench.search_scale load --patients 200000 --visits 600000   # once
    .venv/bin/python -m bench.rebuild_bench --patients 200000 --visits 600000 [--index patients visits]
        [--workers 1 2 3 4] [--chunks 1000 2000] [--no-baseline] [--save]

Every variant runs in a child process of its own (its peak RSS is the worker's), one after the
other on the `bench.search_scale` registry (its database and index prefix):

- `baseline`: the backfill as it was, on the code of `bench.baseline.BASELINE_REF` (loaders,
  builders, bulk writer of before issue 14): one chunk at a time (`ids_after`, load, build, one
  bulk request, 2,000 keys per chunk as the search bench configured it) into a scratch index with
  only refresh off, then refresh on, a refresh and a count: what `lifecycle.rebuild` did;
- `rebuild`: `lifecycle.rebuild` itself (backfill settings, parallel key ranges, settings back,
  counts checked, alias swapped), with the `--workers` and `--chunks` asked for.

While each runs, a thread searches the live alias (a name query, one every 100 ms) and reports
p50/p95 and errors: searches must keep answering. Printed per variant: docs/s end to end and per
phase (read = PostgreSQL rows, build = documents and the bulk body, write = the bulk request;
a phase's docs/s counts its own seconds summed over the workers), peak RSS, the search probe.
Figures are printed (and with `--save` written to bench/results/), never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A variant's child runs the code of its checkout (the baseline's: `bench.baseline`), this script aside.
CODE = Path(os.environ.get("COLETA_BENCH_CODE", ROOT))
if str(CODE) not in sys.path:
    sys.path.insert(0, str(CODE))

from bench.search_scale import Bench, configure, say  # noqa: E402

BASELINE_CHUNK = 2000


def _baseline(index: str) -> dict:
    """The serial backfill before issue 14 (indexing.lifecycle._backfill of `bench.baseline.BASELINE_REF`, run
    on that checkout's code) into a scratch index, timed per phase; its build phase includes no JSON encoding
    (bulk.write did it, timed as write)."""
    from indexing import bulk, lifecycle
    from indexing.client import get_client
    from indexing.registry import by_index
    from storage.db import unit_of_work

    client = get_client()
    _, entity = by_index(index)
    started = time.monotonic()
    target = lifecycle.create_concrete(client, index)
    try:
        client.indices.put_settings(index=target, body={"index": {"refresh_interval": "-1"}})
        read = build = write = 0.0
        documents = 0
        after = None
        while True:
            t0 = time.perf_counter()
            with unit_of_work() as session:
                ids = entity.ids_after(session, after, BASELINE_CHUNK)
                if not ids:
                    break
                rows = entity.load(session, ids)
                t1 = time.perf_counter()
                ops = [bulk.IndexOp(target, r.id, r.row_version, entity.build(r)) for r in rows]
            t2 = time.perf_counter()
            outcome = bulk.write(client, ops, require_alias=False)
            t3 = time.perf_counter()
            assert not outcome.failed, outcome.failed
            read, build, write = read + t1 - t0, build + t2 - t1, write + t3 - t2
            documents += len(rows)
            after = ids[-1]
        client.indices.put_settings(index=target, body={"index": {"refresh_interval": "1s"}})
        client.indices.refresh(index=target)
        indexed = client.count(index=target)["count"]
        assert indexed == documents, (indexed, documents)
        wall = time.monotonic() - started
    finally:
        client.indices.delete(index=target, ignore_unavailable=True)
    return {"documents": documents, "read": read, "build": build, "write": write, "wall": wall, "workers": 1,
            "chunk": BASELINE_CHUNK}


def _rebuild(index: str, workers: int, chunk: int) -> dict:
    """`lifecycle.rebuild` as production runs it, with these workers and chunk size."""
    os.environ["COLETA_BACKFILL_WORKERS"] = str(workers)
    os.environ["COLETA_BACKFILL_CHUNK_SIZE"] = str(chunk)
    from indexing import lifecycle
    from indexing.settings import get_settings

    get_settings.cache_clear()
    report = lifecycle.rebuild(index, abandoned_after_seconds=0)
    phases = report.phases
    return {"documents": report.documents, "read": phases.read, "build": phases.build, "write": phases.write,
            "wall": report.seconds, "backfill": phases.wall, "workers": workers, "chunk": chunk}


class SearchProbe(threading.Thread):
    """Searches the live alias every 100 ms while a variant runs: latency and errors."""

    def __init__(self, index: str) -> None:
        super().__init__(daemon=True)
        self.index, self.stop, self.latencies, self.errors = index, threading.Event(), [], 0

    def run(self) -> None:
        from indexing import names
        from indexing.client import get_client

        client = get_client()
        body = {"query": {"match": {"name" if self.index == "patients" else "patient_name": "maria silva"}},
                "size": 20}
        while not self.stop.wait(0.1):
            started = time.perf_counter()
            try:
                client.search(index=names.alias(self.index), body=body, params={"request_cache": "false"})
                self.latencies.append((time.perf_counter() - started) * 1000)
            except Exception:  # noqa: BLE001 - counted, that is the point
                self.errors += 1

    def result(self) -> dict:
        ordered = sorted(self.latencies) or [float("nan")]
        return {"searches": len(self.latencies), "search_errors": self.errors,
                "search_p50": statistics.median(ordered), "search_p95": ordered[int(0.95 * (len(ordered) - 1))]}


def child(args: argparse.Namespace) -> int:
    """One variant, in this process: prints its figures as one JSON line."""
    probe = SearchProbe(args.index)
    probe.start()
    try:
        if args.variant == "baseline":
            result = _baseline(args.index)
        else:
            result = _rebuild(args.index, args.workers[0], args.chunks[0])
    finally:
        probe.stop.set()
        probe.join()
    result.update(probe.result())
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result), flush=True)
    return 0


def _line(label: str, r: dict) -> str:
    def rate(seconds: float) -> str:
        return f"{r['documents'] / seconds:>7,.0f}" if seconds else "      —"

    fill = f"{r['backfill']:>7.1f}" if r.get("backfill") else "      —"
    return (
        f"{label:40} {r['documents']:>9,} {r['wall']:>7.1f} {fill} {rate(r['wall'])} {rate(r['read'])} {rate(r['build'])} "
        f"{rate(r['write'])} {r['rss_mb']:>7.0f} {r['searches']:>6} {r['search_errors']:>4} "
        f"{r['search_p50']:>6.1f} {r['search_p95']:>6.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--visits", type=int, default=600_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--index", nargs="*", default=["patients", "visits"], choices=("patients", "visits"))
    parser.add_argument("--workers", type=int, nargs="*", default=[3])
    parser.add_argument("--chunks", type=int, nargs="*", default=[1000])
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--baseline-ref", default="5959d47", help="the code before issue 14 (bench.baseline)")
    parser.add_argument("--against", metavar="REF",
                        help="also run the rebuild of this commit, alternating with this checkout's (A/B)")
    parser.add_argument("--rounds", type=int, default=1, help="run every variant this many times, interleaved")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    bench = Bench(args.patients, args.visits, args.seed, f"coleta_bench_{args.patients}", f"bench-{args.patients}-")
    configure(bench)
    if args.variant:
        args.index = args.index[0]
        return child(args)

    load = os.getloadavg()
    lines = [
        f"bench.rebuild_bench — {datetime.now().isoformat(timespec='seconds')}",
        f"registry: {bench.patients:,} patients, {bench.visits:,} visits; database {bench.database}, prefix {bench.prefix}",
        f"machine: {os.cpu_count()} cores, CPython {platform.python_version()}, load average before "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        "phases: docs/s over each phase's own seconds summed over workers; end to end = documents / wall time",
        "fill s: the backfill's wall time; the rest of wall s is the force merge, the settings put back, the swap",
        "search probe: a name query on the live alias every 100 ms during the run",
        "",
        f"{'variant':40} {'docs':>9} {'wall s':>7} {'fill s':>7} {'e2e/s':>7} {'read/s':>7} {'build/s':>7} {'write/s':>7} "
        f"{'RSS MB':>7} {'search':>6} {'err':>4} {'p50 ms':>6} {'p95 ms':>6}",
    ]
    from bench import baseline as baseline_code  # the parent runs this checkout's code

    code = {"baseline": baseline_code.checkout(args.baseline_ref), "rebuild": ROOT}
    # Run to run, this VM's rebuild times wander by 10% and more: a change is judged against its parent
    # in the same session, the two alternating (`--against HEAD~1 --rounds 2`).
    rebuilds = ["rebuild"]
    if args.against:
        code[f"rebuild@{args.against}"] = baseline_code.checkout(args.against)
        rebuilds.append(f"rebuild@{args.against}")
    for index in args.index:
        variants = [] if args.no_baseline else [("baseline", 1, BASELINE_CHUNK)]
        variants += [(rebuild, w, c) for w in args.workers for c in args.chunks for rebuild in rebuilds]
        for variant, workers, chunk in variants * args.rounds:
            label = f"{index} {variant}" + ("" if variant == "baseline" else f" w={workers} chunk={chunk}")
            say(f"running {label}")
            command = [sys.executable, str(Path(__file__).resolve()), "--patients", str(args.patients), "--visits",
                       str(args.visits), "--seed", str(args.seed), "--index", index, "--variant", variant.split("@")[0],
                       "--workers", str(workers), "--chunks", str(chunk)]
            env = {**baseline_code.env_for(code[variant]), "COLETA_BENCH_CODE": str(code[variant])}
            output = subprocess.run(command, cwd=code[variant], env=env, check=True, stdout=subprocess.PIPE,
                                    text=True).stdout
            result = json.loads(output.strip().splitlines()[-1])
            lines.append(_line(label, result))
            say(lines[-1])
    text = "\n".join(lines)
    print(text, flush=True)
    if args.save:
        baseline_code.save("rebuild", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
