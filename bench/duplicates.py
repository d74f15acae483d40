"""Measure the duplicate finder: quality on a registry with known duplicates, and time.

    python -m bench.duplicates quality [--size 100000] [--seed 13]
    python -m bench.duplicates scan --size 1000000     # a throwaway database, COPY-loaded, then the full scan
    python -m bench.duplicates check [--size 1000000]  # p50/p95 of the check on single creates (same database)
    make bench-duplicates                               # quality at 100k, scan of 100k and 1M, single-create check

Quality is measured on the pure pipeline (the same blocking keys, pair generation and
scoring the scan runs); precision and recall of the review band (score ≥ REVIEW_THRESHOLD)
and of the auto band. Times are printed, never asserted. The scan and check benches load
their registry into a database of their own (`coleta_bench_duplicates`), dropped at the end
unless `--keep`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from bench.duplicates_data import Record, make_registry, true_pairs
from storage.linkage import blocking, features, model


@dataclass(frozen=True)
class BandQuality:
    """Precision, recall and F1 of one band against the known duplicate pairs."""

    name: str
    found: int
    true_found: int
    truth: int

    @property
    def precision(self) -> float:
        return self.true_found / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_found / self.truth if self.truth else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self) -> str:
        return (f"{self.name:<7} pairs {self.found:>7}  precision {self.precision:.4f}  recall {self.recall:.4f}  "
                f"F1 {self.f1:.4f}")


@dataclass(frozen=True)
class Quality:
    """Both bands, the blocking's own recall (pairs compared at all) and the candidate count."""

    review: BandQuality
    auto: BandQuality
    blocking_recall: float
    candidate_pairs: int
    seconds: float


def persons_of(records: list[Record]) -> list[features.Person]:
    """The linkage view of generated records."""
    return [features.Person(r.id, r.name, r.cpf, r.birth_date, r.phones, r.zip_code, r.number, r.gender)
            for r in records]


def evaluate(records: list[Record]) -> Quality:
    """Run blocking and scoring over the records and compare both bands with the known duplicates."""
    started = time.monotonic()
    persons = persons_of(records)
    parts = [features.name_parts(p.name) for p in persons]
    owners, keys = [], []
    for index, (person, part) in enumerate(zip(persons, parts)):
        person_keys = features.blocking_keys(person, part)
        owners.extend([index] * len(person_keys))
        keys.extend(person_keys)
    blocked = blocking.pairs_from_keys(np.array(owners, dtype=np.int64), np.array(keys, dtype=np.int64))
    table = features.build_table(persons, parts)
    given, others = features.token_counts(parts)
    scored = model.score_pairs(table, blocked.a, blocked.b, tf=model.term_frequencies(given, others, len(persons)),
                               registry_size=len(persons))
    bands = model.bands(scored.score, scored.levels)
    seconds = time.monotonic() - started
    truth = true_pairs(records)
    pairs = list(zip(blocked.a.tolist(), blocked.b.tolist()))
    blocked_true = sum(1 for pair in pairs if pair in truth)
    results = []
    for name, level in (("review", 1), ("auto", 2)):
        chosen = [pairs[k] for k in np.flatnonzero(bands >= level)]
        results.append(BandQuality(name, len(chosen), sum(1 for pair in chosen if pair in truth), len(truth)))
    return Quality(results[0], results[1], blocked_true / len(truth) if truth else 1.0, len(pairs), seconds)


def _quality(args: argparse.Namespace) -> None:
    records = make_registry(args.size, seed=args.seed)
    quality = evaluate(records)
    print(f"quality at {args.size:,} records (seed {args.seed}, {len(true_pairs(records)):,} duplicate pairs): "
          f"{quality.candidate_pairs:,} candidate pairs, blocking recall {quality.blocking_recall:.4f}, "
          f"{quality.seconds:.1f} s in Python")
    print("  " + quality.review.line() + f"   (score ≥ {model.REVIEW_THRESHOLD})")
    print("  " + quality.auto.line() + f"   (score ≥ {model.AUTO_THRESHOLD}, given names agreeing)")


# ---------------------------------------------------------------- the database benches

BENCH_DATABASE = "coleta_bench_duplicates"


def _database_url(name: str) -> str:
    server = os.environ.get("COLETA_TEST_PG", "coleta:coleta@127.0.0.1:5433")
    return f"postgresql+psycopg://{server}/{name}"


def _prepare_database(keep_existing: bool) -> bool:
    """Create the throwaway database at the head migration (True if it had to be created)."""
    import psycopg

    server = os.environ.get("COLETA_TEST_PG", "coleta:coleta@127.0.0.1:5433")
    with psycopg.connect(f"postgresql://{server}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DATABASE,)).fetchone()
        if exists and keep_existing:
            return False
        if exists:
            connection.execute(f'DROP DATABASE "{BENCH_DATABASE}" WITH (FORCE)')
        template = connection.execute("SELECT 1 FROM pg_database WHERE datname = 'coleta_test'").fetchone()
        connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"' + (" TEMPLATE coleta_test" if template else ""))
    from alembic import command
    from alembic.config import Config

    config = Config("alembic.ini")
    command.upgrade(config, "head")
    return True


def _drop_database() -> None:
    import psycopg

    server = os.environ.get("COLETA_TEST_PG", "coleta:coleta@127.0.0.1:5433")
    with psycopg.connect(f"postgresql://{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def _load(records: list[Record]) -> float:
    """COPY the generated registry into the bench database; returns the seconds it took."""
    import orjson
    from sqlalchemy import text

    from storage.db import unit_of_work
    from storage.identifiers import fold_name

    started = time.monotonic()
    with unit_of_work() as session:
        session.execute(text("TRUNCATE patients CASCADE"))
        connection = session.connection().connection.dbapi_connection
        with connection.cursor() as cursor:
            with cursor.copy("COPY patients (id, row_version, name, name_folded, cpf, birth_date, gender, phones, "
                             "zip_code, number, city, tags, priority, status) FROM STDIN") as copy:
                for r in records:
                    phones = orjson.dumps([{"number": p, "kind": "mobile"} for p in r.phones]).decode()
                    copy.write_row((r.id, 1, r.name, fold_name(r.name), r.cpf, r.birth_date, r.gender, phones,
                                    r.zip_code, r.number, None, [], "normal", "active"))
    with unit_of_work() as session:
        session.execute(text("ANALYZE patients"))
    return time.monotonic() - started


def _scan_bench(args: argparse.Namespace) -> None:
    from storage.duplicates import scan

    os.environ["COLETA_DATABASE_URL"] = _database_url(BENCH_DATABASE)
    _prepare_database(keep_existing=False)
    started = time.monotonic()
    records = make_registry(args.size, seed=args.seed)
    generated = time.monotonic() - started
    loaded = _load(records)
    print(f"scan of {args.size:,}: generated in {generated:.0f} s, loaded (COPY) in {loaded:.0f} s", flush=True)
    started = time.monotonic()
    report = scan.scan()
    total = time.monotonic() - started
    stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in report.seconds.items())
    print(f"  full scan: {total:.1f} s ({stages}); {report.candidate_pairs:,} candidate pairs, "
          f"{report.review:,} review + {report.auto:,} auto pairs, {report.skipped_blocks} oversized blocks skipped")
    if args.check:
        _check_bench(records, args.check)
    if not args.keep:
        _drop_database()


def _check_bench(records: list[Record], count: int) -> None:
    """Create `count` patients through the service (half of them duplicates of registered ones), timing the check."""
    import random

    from storage.db import unit_of_work
    from storage.duplicates import service as duplicate_service
    from storage.patients import service as patient_service

    rnd = random.Random(5)
    timings = []
    warned = 0
    for i in range(count):
        source = records[rnd.randrange(len(records))]
        name = source.name if i % 2 == 0 else f"{rnd.choice(['Ana', 'Bruno', 'Clara'])} {source.name.split()[-1]}"
        data = {"name": name, "birth_date": source.birth_date.isoformat(),
                "phones": list(source.phones[:1]) if i % 3 else []}
        with unit_of_work() as session:
            patient = patient_service.create(session, data)
            started = time.perf_counter()
            warnings = duplicate_service.check_on_write(session, [patient.id], found_by="create")
            timings.append((time.perf_counter() - started) * 1000)
            warned += bool(warnings)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"  check on a single create ({count} creates, {warned} warned): p50 {statistics.median(timings):.1f} ms, "
          f"p95 {p95:.1f} ms, max {timings[-1]:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    """Run one of the benches."""
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates")
    sub = parser.add_subparsers(dest="command", required=True)
    quality = sub.add_parser("quality")
    quality.add_argument("--size", type=int, default=100_000)
    quality.add_argument("--seed", type=int, default=13)
    quality.set_defaults(run=_quality)
    scan_parser = sub.add_parser("scan")
    scan_parser.add_argument("--size", type=int, default=100_000)
    scan_parser.add_argument("--seed", type=int, default=13)
    scan_parser.add_argument("--check", type=int, default=0, help="then time this many single creates")
    scan_parser.add_argument("--keep", action="store_true", help="keep the bench database")
    scan_parser.set_defaults(run=_scan_bench)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
