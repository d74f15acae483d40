"""Search at a million patients: latency through the HTTP API at a steady 20 requests/s, saturation
throughput, and the same queries answered by PostgreSQL alone, with recall side by side.

    make bench-search                                            # load once (resumable), then measure; 1M / 3M
    .venv/bin/python -m bench.search_scale load --patients 50000 --visits 150000
    .venv/bin/python -m bench.search_scale measure --patients 50000 --visits 150000 [--seconds 30] [--save]
    .venv/bin/python -m bench.search_scale drop --patients 50000

`load` (idempotent, resumable): a dedicated database (`coleta_bench_<patients>`, cloned
from the `coleta_test` template and migrated to every head) and index prefix
(`bench-<patients>-`); the registry of `bench.search_scale_data` COPYed in chunks of
10,000 patients with their visits (one transaction per chunk, so a stopped load resumes
at the next chunk); both indices built by `indexing.lifecycle.rebuild` (the production
backfill: the same loaders, document builders and version-guarded bulk writes as the
outbox drain); the PostgreSQL-only baseline table with its indexes
(`bench.search_scale_baseline`); a `viewer` account for the API.

`measure`: starts the API as `make run` does (uvicorn, one process unless
`--api-workers`) on the bench database and prefix, logs in, builds the query sets
from the loaded data (deterministic for the seed; cached in .cache/bench), warms both
engines up, then for each kind of query runs an open loop at `--rate` requests/s for
`--seconds` (requests leave on the wall clock, whatever the answers' speed; latency
counts from the planned start, so queueing shows), first through the API then with
PostgreSQL alone; then a closed loop of increasing concurrency until throughput stops
rising (saturation; its one-client level gives the latency without queueing). Kinds:
`name_typo` (a folded name with one or two keyboard slips in one word), `name_birth_date`
(a first and last name shared by many, beside a birth date in one of the five forms staff
type: `joana ferreira 14/07/1952`), `cpf_partial`
(the first 6-9 digits, bare or punctuated), `phone_last4` (4 digits), `name_phone_last4`
(`maria 4321`), `filters_facets` (a first name + car + neighbourhood + confirmation
status, with the five facets), `suggest` (a name cut as typed), `dashboard` (a day of
the 120). Recall@1/@5 on the queries whose target is known (the patient the typo'd
name, the name + birth date, the CPF prefix or the `name 4321` was made from, each checked
to single it out).
A PostgreSQL run that cannot keep up with the rate stops sending `--give-up` seconds
after the end: the rest count as unserved. The shard request cache is off on the bench
indices while measuring: in production every refresh after a write empties it, so a
bench without writes would otherwise measure a cache.

Figures are printed (and with `--save` written to bench/results/), never asserted.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import os
import platform
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.relevance_data import date_readings, levenshtein, slip, typed_date, words  # noqa: E402
from bench.search_scale_data import DAYS_AFTER, DAYS_BEFORE, TODAY  # noqa: E402

PG_SERVER = os.environ.get("COLETA_BENCH_PG", "coleta:coleta@127.0.0.1:5433")
TEMPLATE = "coleta_test"
BENCH_EMAIL = "bench-search@coleta.local"
BENCH_PASSWORD = "bench-search-scale-password"
DEFAULT_PORT = 8799
KINDS = (
    "name_typo", "name_birth_date", "cpf_partial", "phone_last4", "name_phone_last4", "filters_facets", "suggest",
    "dashboard",
)
JUDGED = {"name_typo", "name_birth_date", "cpf_partial", "name_phone_last4"}
# Issue 5's targets (ms): p95 and p99 per kind (None: no target).
TARGETS = {
    "name_typo": (50, 100),
    "name_birth_date": (50, 100),
    "cpf_partial": (50, 100),
    "phone_last4": (50, 100),
    "name_phone_last4": (50, 100),
    "filters_facets": (None, 150),
    "suggest": (None, 50),
    "dashboard": (None, 150),
}

# ------------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class Bench:
    """Which registry and where it lives."""

    patients: int
    visits: int
    seed: int
    database: str
    prefix: str

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg://{PG_SERVER}/{self.database}"

    @property
    def psycopg_url(self) -> str:
        return f"postgresql://{PG_SERVER}/{self.database}"

    @property
    def params(self) -> dict[str, int]:
        return {"patients": self.patients, "visits": self.visits, "seed": self.seed}


def configure(bench: Bench) -> None:
    """Point every project setting at the bench database, index prefix, queues and Redis keys."""
    os.environ.update({
        "COLETA_DATABASE_URL": bench.sqlalchemy_url,
        "COLETA_INDEX_PREFIX": bench.prefix,
        "COLETA_QUEUE_PREFIX": f"bench-search-{bench.patients}-",
        "COLETA_REDIS_KEY_PREFIX": f"bench-search-{bench.patients}:",
        # Bigger backfill chunks: fewer round trips for the million documents.
        "COLETA_BACKFILL_CHUNK_SIZE": os.environ.get("COLETA_BACKFILL_CHUNK_SIZE", "2000"),
        "COLETA_OPENSEARCH_TIMEOUT": os.environ.get("COLETA_OPENSEARCH_TIMEOUT", "120"),
        # One token for the whole measurement (the default 15 minutes is shorter than a full run).
        "COLETA_ACCESS_TOKEN_MINUTES": "600",
    })


def say(message: str) -> None:
    """Progress for the person at the terminal (stderr: stdout is the report)."""
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ database


def _server():
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(f"postgresql+psycopg://{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)


def ensure_database(bench: Bench) -> bool:
    """Create the bench database from the template unless it exists; True when created."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    server = _server()
    try:
        with server.connect() as connection:
            if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": bench.database}).first():
                return False
            for attempt in range(60):
                try:
                    connection.execute(text(f'CREATE DATABASE "{bench.database}" TEMPLATE "{TEMPLATE}"'))
                    return True
                except OperationalError as error:
                    # A test run cloning the template at the same moment holds it for a second.
                    if "being accessed by other users" not in str(error) or attempt == 59:
                        raise
                    time.sleep(1)
    finally:
        server.dispose()
    return False


def migrate() -> None:
    """alembic upgrade heads (idempotent; later migrations of other features apply here too)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "heads")


def meta_get(session, key: str) -> str | None:
    from sqlalchemy import text

    return session.execute(text("SELECT value FROM bench_meta WHERE key = :k"), {"k": key}).scalar()


def meta_set(session, key: str, value: str) -> None:
    from sqlalchemy import text

    session.execute(
        text("INSERT INTO bench_meta (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = :v"),
        {"k": key, "v": value},
    )


def read_meta() -> dict[str, str]:
    """Everything the bench recorded about its load."""
    from sqlalchemy import text

    from storage.db import unit_of_work

    with unit_of_work() as session:
        return dict(session.execute(text("SELECT key, value FROM bench_meta")).all())


def drop(bench: Bench) -> None:
    """Remove the bench database and indices."""
    from indexing.client import get_client
    from storage.db import drop_database, reset_caches

    reset_caches()
    server = _server()
    with server.connect() as connection:
        drop_database(connection, bench.database)
    server.dispose()
    get_client().indices.delete(index=f"{bench.prefix}*", params={"expand_wildcards": "all"})
    for cached in (ROOT / ".cache" / "bench").glob(f"search_scale-{bench.database}-*.json"):
        cached.unlink()
    say(f"dropped {bench.database} and {bench.prefix}*")


# ------------------------------------------------------------------------------------ load


def load(bench: Bench, chunk_size: int) -> list[str]:
    """Create, fill, index and baseline the bench registry; resumes where a previous load stopped."""
    from sqlalchemy import text
    from tqdm import tqdm

    from bench import search_scale_baseline as baseline
    from bench.search_scale_data import CAR_COLUMNS, PATIENT_COLUMNS, VISIT_COLUMNS, Generator, car_rows
    from indexing import lifecycle
    from indexing.client import get_client
    from storage.sql import copy_rows
    from storage.cars.models import Car
    from storage.db import unit_of_work
    from storage.patients.models import Patient
    from storage.visits.models import Visit

    report: list[str] = []
    created = ensure_database(bench)
    say(f"{'created' if created else 'reusing'} database {bench.database}; migrating")
    migrate()
    lifecycle.setup(get_client())
    generator = Generator(bench.patients, bench.visits, bench.seed, chunk_size)
    with unit_of_work() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text NOT NULL)"))
        stored = meta_get(session, "params")
        wanted = json.dumps({**bench.params, "chunk_size": chunk_size}, sort_keys=True)
        if stored is None:
            meta_set(session, "params", wanted)
            copy_rows(session, Car.__table__, CAR_COLUMNS, car_rows(bench.seed))
        elif stored != wanted:
            raise SystemExit(f"{bench.database} holds another registry ({stored}); run `drop` first")
        done = int(meta_get(session, "chunks_done") or 0)

    # 1. PostgreSQL: one transaction per chunk (patients + their visits), so a load resumes.
    if done < generator.chunks:
        started = time.monotonic()
        first_patient = done * chunk_size
        bar = tqdm(total=bench.patients, initial=first_patient, unit=" patients", desc="COPY", file=sys.stderr,
                   dynamic_ncols=True)
        visits_written = 0
        for k, chunk in generator.all_chunks(done):
            with unit_of_work() as session:
                copy_rows(session, Patient.__table__, PATIENT_COLUMNS, chunk.patients)
                visits_written += copy_rows(session, Visit.__table__, VISIT_COLUMNS, chunk.visits)
                meta_set(session, "chunks_done", str(k + 1))
            bar.update(len(chunk.patients))
            bar.set_postfix(visits=visits_written)
        bar.close()
        seconds = time.monotonic() - started
        patients_written = bench.patients - first_patient
        report.append(
            f"PostgreSQL load: {patients_written:,} patients + {visits_written:,} visits in {seconds:.0f} s "
            f"({patients_written / seconds:,.0f} patients/s, {visits_written / seconds:,.0f} visits/s, generation included)"
        )
        with unit_of_work() as session:
            session.execute(text("ANALYZE patients"))
            session.execute(text("ANALYZE visits"))
    else:
        report.append("PostgreSQL load: already complete")

    # 2. OpenSearch: the production rebuild (backfill from PostgreSQL, counts checked, alias swap).
    for index in ("patients", "visits"):
        rows, indexed = lifecycle.document_counts(index)
        with unit_of_work() as session:
            marked = meta_get(session, f"indexed_{index}")
        if marked == str(rows) and indexed == rows:
            report.append(f"index {index}: already built ({indexed:,} documents)")
            continue
        bar = tqdm(total=rows, unit=" docs", desc=f"index {index}", file=sys.stderr, dynamic_ncols=True)

        def progress(done_docs: int, total: int, bar=bar) -> None:
            bar.total = total
            bar.update(done_docs - bar.n)

        result = lifecycle.rebuild(index, progress=progress, abandoned_after_seconds=0)
        bar.close()
        with unit_of_work() as session:
            meta_set(session, f"indexed_{index}", str(result.documents))
        report.append(
            f"index {index}: {result.documents:,} documents in {result.seconds:.0f} s "
            f"({result.documents / result.seconds:,.0f} docs/s) -> {result.new_index}"
        )

    # 3. The PostgreSQL-only baseline.
    with unit_of_work() as session:
        built = meta_get(session, "baseline")
    if built != baseline.VERSION:
        import psycopg

        say("building the PostgreSQL baseline table and indexes")
        started = time.monotonic()
        with psycopg.connect(bench.psycopg_url, autocommit=True) as connection:
            connection.execute("SET maintenance_work_mem = '256MB'")
            baseline.build(connection)
        with unit_of_work() as session:
            meta_set(session, "baseline", baseline.VERSION)
        report.append(f"PostgreSQL baseline table + indexes: {time.monotonic() - started:.0f} s")
    else:
        report.append("PostgreSQL baseline: already built")

    # What this load did, kept for the measurement's report (a resumed load adds its own lines).
    done_lines = [line for line in report if "already" not in line]
    if done_lines:
        with unit_of_work() as session:
            history = json.loads(meta_get(session, "load_report") or "[]")
            stamp = datetime.now().isoformat(timespec="seconds")
            meta_set(session, "load_report", json.dumps(history + [f"{stamp} {line}" for line in done_lines]))

    # 4. The account the measurement logs in with.
    from storage.users import repo as user_repo
    from storage.users import service as user_service

    with unit_of_work() as session:
        if user_repo.get_by_email(session, BENCH_EMAIL) is None:
            user_service.create(session, {"email": BENCH_EMAIL, "name": "Bench de busca", "role": "viewer",
                                          "password": BENCH_PASSWORD})
    return report


def sizes(bench: Bench) -> list[str]:
    """Index sizes, OpenSearch heap, table sizes."""
    import psycopg

    from indexing.client import get_client

    client = get_client()
    lines = []
    for row in client.cat.indices(index=f"{bench.prefix}*", params={"format": "json", "bytes": "b"}):
        lines.append(f"  {row['index']}: {int(row['docs.count']):,} docs, {int(row['store.size']) / 2**20:,.0f} MiB")
    for node in client.nodes.stats(metric="jvm")["nodes"].values():
        mem = node["jvm"]["mem"]
        old = mem["pools"]["old"]["used_in_bytes"]
        lines.append(
            f"  OpenSearch heap: {mem['heap_used_in_bytes'] / 2**20:,.0f} MiB used of {mem['heap_max_in_bytes'] / 2**20:,.0f} MiB "
            f"(old generation {old / 2**20:,.0f} MiB; the node is shared with the test runs of the other work)"
        )
    with psycopg.connect(bench.psycopg_url) as connection:
        for table in ("patients", "visits", "baseline_patients"):
            size = connection.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()[0]
            lines.append(f"  PostgreSQL {table}: {size / 2**20:,.0f} MiB with indexes")
    return lines


# ------------------------------------------------------------------------------------ query sets


@dataclass(frozen=True)
class Probe:
    """One request of one kind: what to ask, and the patient it must find (None: not judged)."""

    kind: str
    q: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    day: date | None = None
    target: str | None = None


class Registry:
    """The loaded patients' names (folded, by word) and what the judgements need to check a target."""

    def __init__(self, bench: Bench) -> None:
        import psycopg

        from bench.relevance_data import FEMALE, MALE, SURNAMES, VARIANTS, canonical
        from storage.identifiers import fold_name

        self.connection = psycopg.connect(bench.psycopg_url, autocommit=True)
        started = time.monotonic()
        rows = self.connection.execute("SELECT id, name, cpf, birth_date FROM patients ORDER BY id").fetchall()
        self.ids = [r[0] for r in rows]
        self.names = [r[1] for r in rows]
        self.births = [r[3] for r in rows]
        self.folded = [fold_name(n) for n in self.names]
        self.cpfs = sorted(r[2] for r in rows if r[2])
        self.cpf_of = [r[2] for r in rows]
        self.canonical = Counter(canonical(n) for n in self.names)
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(self.names):
            for w in dict.fromkeys(words(name)):
                self.by_word[w].append(i)
        self.lexicon = {fold_name(w) for w in (*FEMALE, *MALE, *(s for s, _ in SURNAMES), *sum(VARIANTS, ()))}
        self._canonical = canonical
        say(f"query sets: {len(self.ids):,} patients read and indexed by word in {time.monotonic() - started:.0f} s")

    def details(self, indices: Sequence[int]) -> dict[int, tuple]:
        """(phones, neighborhood, cars, confirmation statuses) of some patients, from the baseline table."""
        ids = [self.ids[i] for i in indices]
        rows = self.connection.execute(
            "SELECT id, phones, neighborhood, cars, confirmation_statuses FROM baseline_patients WHERE id = ANY(%s)",
            (ids,),
        ).fetchall()
        by_id = {r[0]: r[1:] for r in rows}
        return {i: by_id[self.ids[i]] for i in indices}

    def unique_name(self, i: int) -> bool:
        return self.canonical[self._canonical(self.names[i])] == 1

    def typo_query(self, rnd: random.Random, i: int, edits: int) -> str | None:
        """The folded name with `edits` keyboard slips in one word of 6+ letters, if it stays nearest to i."""
        if not self.unique_name(i):
            return None
        slipped = slip(rnd, self.folded[i], self.lexicon, edits)
        if slipped is None:
            return None
        query, slipped_word = slipped
        # Rivals: names holding every other word (a name differing elsewhere too is farther away).
        others = [w for w in words(self.names[i]) if w != slipped_word]
        rivals: set[int] | None = None
        for w in sorted(others, key=lambda w: len(self.by_word.get(w, ()))):
            holders = set(self.by_word.get(w, ()))
            rivals = holders if rivals is None else rivals & holders
            if len(rivals) <= 1:
                break
        for j in rivals or ():
            if j != i and levenshtein(query, self.folded[j], edits) <= edits:
                return None
        return query

    def birth_date_query(self, rnd: random.Random, i: int) -> str | None:
        """i's first and last name beside its birth date as staff type it (`joana ferreira 14/07/1952`),
        if no one else with both words was born that day (the first and last name alone find many)."""
        ws = words(self.names[i])
        if len(ws) < 2 or self.births[i] is None:
            return None
        typed = typed_date(rnd, self.births[i])
        days = set(date_readings(typed))
        holders = set(self.by_word[ws[0]]).intersection(self.by_word[ws[-1]])
        if any(j != i and self.births[j] in days for j in holders):
            return None
        return f"{ws[0]} {ws[-1]} {typed}"

    def cpf_prefix(self, rnd: random.Random, i: int) -> str | None:
        """The first 6-9 digits of i's CPF (more when needed to single it out), typed bare or punctuated."""
        cpf = self.cpf_of[i]
        if not cpf:
            return None
        length = rnd.randint(6, 9)
        while True:
            prefix = cpf[:length]
            first = bisect.bisect_left(self.cpfs, prefix)
            last = bisect.bisect_left(self.cpfs, prefix + "\uffff")
            if last - first == 1:
                break
            length += 1
        if rnd.random() < 0.5:
            return prefix
        formatted = f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
        seen = 0
        for position, char in enumerate(formatted):
            seen += char.isdigit()
            if seen == length:
                return formatted[:position + 1]
        return formatted

    def phone_rivals(self, i: int, word: str, last4: str) -> int:
        """Other patients with this name word and a phone ending in these digits."""
        return self.connection.execute(
            "SELECT count(*) FROM baseline_patients WHERE phone_last4 @> ARRAY[%s]::text[] AND name_key ~ %s AND id <> %s",
            (last4, r"\m" + word + r"\M", self.ids[i]),
        ).fetchone()[0]


def query_sets(bench: Bench, count: int) -> dict[str, list[Probe]]:
    """`count` probes of each kind, deterministic for the seed; cached in .cache/bench (they take a while at 1M)."""
    cache = ROOT / ".cache" / "bench" / f"search_scale-{bench.database}-{bench.seed}-{count}.json"
    if cache.exists():
        stored = json.loads(cache.read_text())
        # A cache made before a kind was added is made again (each kind's queries stay the same).
        if stored["params"] == bench.params and set(stored["sets"]) == set(KINDS):
            return {
                kind: [Probe(kind, p["q"], p["filters"], date.fromisoformat(p["day"]) if p["day"] else None, p["target"])
                       for p in probes]
                for kind, probes in stored["sets"].items()
            }
    sets = _make_query_sets(bench, count)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"params": bench.params, "sets": {
        kind: [{"q": p.q, "filters": p.filters, "day": p.day.isoformat() if p.day else None, "target": p.target}
               for p in probes]
        for kind, probes in sets.items()
    }}))
    return sets


def _make_query_sets(bench: Bench, count: int) -> dict[str, list[Probe]]:
    registry = Registry(bench)
    n = len(registry.ids)
    sets: dict[str, list[Probe]] = {}

    def sample(kind: str, make: Callable[[random.Random, int], Probe | None]) -> list[Probe]:
        rnd = random.Random(f"search-scale-queries:{bench.seed}:{kind}")
        probes: list[Probe] = []
        tried = 0
        while len(probes) < count:
            tried += 1
            if tried > count * 200:
                raise SystemExit(f"could not make {count} {kind} queries")
            probe = make(rnd, rnd.randrange(n))
            if probe is not None:
                probes.append(probe)
        return probes

    sets["name_typo"] = sample(
        "name_typo",
        lambda rnd, i: (lambda q: Probe("name_typo", q=q, target=registry.ids[i]) if q else None)(
            registry.typo_query(rnd, i, rnd.choice((1, 2)))
        ),
    )
    sets["name_birth_date"] = sample(
        "name_birth_date",
        lambda rnd, i: (lambda q: Probe("name_birth_date", q=q, target=registry.ids[i]) if q else None)(
            registry.birth_date_query(rnd, i)
        ),
    )
    sets["cpf_partial"] = sample(
        "cpf_partial",
        lambda rnd, i: (lambda q: Probe("cpf_partial", q=q, target=registry.ids[i]) if q else None)(
            registry.cpf_prefix(rnd, i)
        ),
    )

    details_cache: dict[int, tuple] = {}

    def details(i: int) -> tuple:
        if i not in details_cache:
            details_cache.update(registry.details([i]))
        return details_cache[i]

    def last4_probe(rnd: random.Random, i: int) -> Probe | None:
        phones = details(i)[0]
        return Probe("phone_last4", q=rnd.choice(phones)[-4:]) if phones else None

    def name_last4_probe(rnd: random.Random, i: int) -> Probe | None:
        phones = details(i)[0]
        if not phones:
            return None
        first = words(registry.names[i])[0]
        last4 = rnd.choice(phones)[-4:]
        if registry.phone_rivals(i, first, last4):
            return None
        return Probe("name_phone_last4", q=f"{first} {last4}", target=registry.ids[i])

    def filters_probe(rnd: random.Random, i: int) -> Probe | None:
        _, neighborhood, cars, statuses = details(i)
        if not cars or not neighborhood or not statuses:
            return None
        return Probe("filters_facets", q=words(registry.names[i])[0], filters={
            "car": [rnd.choice(cars)], "neighborhood": [neighborhood], "confirmation_status": [rnd.choice(statuses)],
        })

    def suggest_probe(rnd: random.Random, i: int) -> Probe | None:
        folded = registry.folded[i]
        return Probe("suggest", q=folded[:rnd.randint(3, len(folded))].rstrip())

    def dashboard_probe(rnd: random.Random, i: int) -> Probe | None:
        return Probe("dashboard", day=TODAY + timedelta(days=rnd.randint(-DAYS_BEFORE, DAYS_AFTER)))

    sets["phone_last4"] = sample("phone_last4", last4_probe)
    sets["name_phone_last4"] = sample("name_phone_last4", name_last4_probe)
    sets["filters_facets"] = sample("filters_facets", filters_probe)
    sets["suggest"] = sample("suggest", suggest_probe)
    sets["dashboard"] = sample("dashboard", dashboard_probe)
    registry.connection.close()
    return sets


# ------------------------------------------------------------------------------------ engines


class ApiEngine:
    """Asks the HTTP API, one keep-alive connection per thread."""

    name = "api"

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.local = threading.local()

    def _client(self):
        import httpx

        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = httpx.Client(base_url=self.base_url, headers=self.headers, timeout=60)
        return client

    def __call__(self, probe: Probe) -> list[str]:
        client = self._client()
        if probe.kind == "dashboard":
            response = client.get("/api/v1/stats/dashboard", params={"date": probe.day.isoformat()})
        elif probe.kind == "suggest":
            response = client.get("/api/v1/patients/suggest", params={"q": probe.q})
        else:
            response = client.get("/api/v1/patients", params={"q": probe.q, "page_size": 20, **probe.filters})
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return [item["id"] for item in response.json().get("items", [])]


class PostgresEngine:
    """Answers with SQL on the baseline table, one connection per thread (a pool of `--pg-pool`)."""

    name = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.local = threading.local()
        self.connections: list[Any] = []
        self.lock = threading.Lock()

    def _connection(self):
        import psycopg

        from bench import search_scale_baseline as baseline

        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = psycopg.connect(self.url, autocommit=True)
            baseline.configure(connection)
            with self.lock:
                self.connections.append(connection)
        return connection

    def __call__(self, probe: Probe) -> list[str]:
        from bench import search_scale_baseline as baseline

        connection = self._connection()
        if probe.kind == "name_typo":
            return baseline.search_name(connection, probe.q)[0]
        if probe.kind == "name_birth_date":
            return baseline.search_name_birth_date(connection, probe.q)[0]
        if probe.kind == "cpf_partial":
            return baseline.search_cpf_prefix(connection, probe.q)[0]
        if probe.kind == "phone_last4":
            return baseline.search_last4(connection, probe.q)[0]
        if probe.kind == "name_phone_last4":
            return baseline.search_name_last4(connection, probe.q)[0]
        if probe.kind == "filters_facets":
            f = probe.filters
            return baseline.search_filtered(connection, probe.q, f["car"], f["neighborhood"], f["confirmation_status"])[0]
        if probe.kind == "suggest":
            return baseline.suggest(connection, probe.q)
        baseline.dashboard(connection, probe.day)
        return []

    def close(self) -> None:
        for connection in self.connections:
            connection.close()


# ------------------------------------------------------------------------------------ loops


@dataclass
class Run:
    """Latencies (seconds), errors and the rank of each judged target (None: not in the page)."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ranks: list[int | None] = field(default_factory=list)
    seconds: float = 0.0
    unserved: int = 0

    def pct(self, p: float) -> float:
        """The p-th percentile in ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))] * 1000

    def recall(self, k: int) -> float | None:
        if not self.ranks:
            return None
        return sum(1 for r in self.ranks if r is not None and r <= k) / len(self.ranks)


def steady(engine: Callable[[Probe], list[str]], probes: Sequence[Probe], rate: float, seconds: float,
           threads: int, give_up: float) -> Run:
    """Open loop: request i leaves at start + i/rate whatever happened before; latency from that planned time.

    An engine that cannot keep up builds a queue; requests still queued `give_up` seconds after
    the start are not sent and count as unserved (latency infinite), so an overload shows as
    such instead of running for an hour.
    """
    total = int(rate * seconds)
    run = Run()
    lock = threading.Lock()
    start = time.perf_counter() + 0.1
    deadline = start + give_up

    def task(i: int, planned: float) -> None:
        probe = probes[i % len(probes)]
        if time.perf_counter() > deadline:
            with lock:
                run.latencies.append(float("inf"))
                run.unserved += 1
            return
        try:
            ids = engine(probe)
            error = None
        except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not a crash
            ids, error = [], f"{type(exc).__name__}: {exc}"[:200]
        elapsed = time.perf_counter() - planned
        with lock:
            run.latencies.append(elapsed)
            if error:
                run.errors.append(error)
            if probe.target is not None:
                run.ranks.append(ids.index(probe.target) + 1 if probe.target in ids else None)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for i in range(total):
            planned = start + i / rate
            delay = planned - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(task, i, planned)
    run.seconds = time.perf_counter() - start
    return run


def closed(engine: Callable[[Probe], list[str]], probes: Sequence[Probe], concurrency: int, seconds: float) -> Run:
    """Closed loop: `concurrency` clients each sending its next request as soon as the last one answered."""
    run = Run()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(offset: int) -> None:
        i = offset
        while time.perf_counter() < deadline:
            probe = probes[i % len(probes)]
            i += concurrency
            began = time.perf_counter()
            try:
                engine(probe)
                error = None
            except Exception as exc:  # noqa: BLE001
                error = f"{type(exc).__name__}: {exc}"[:200]
            with lock:
                run.latencies.append(time.perf_counter() - began)
                if error:
                    run.errors.append(error)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c * 7919,)) for c in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - started
    return run


@dataclass
class Saturation:
    """Throughput at each concurrency tried, and the best."""

    levels: list[tuple[int, float, float]] = field(default_factory=list)  # (concurrency, req/s, p95 ms)

    @property
    def best(self) -> tuple[int, float]:
        concurrency, rate, _ = max(self.levels, key=lambda level: level[1])
        return concurrency, rate


def saturate(engine: Callable[[Probe], list[str]], probes: Sequence[Probe], seconds: float,
             levels: Sequence[int] = (1, 2, 4, 8, 16, 32)) -> tuple[Saturation, Run]:
    """Raise the concurrency until throughput stops rising (under 5 % more); also returns the one-client run."""
    result = Saturation()
    single: Run | None = None
    best = 0.0
    for concurrency in levels:
        run = closed(engine, probes, concurrency, seconds)
        rate = len(run.latencies) / run.seconds
        result.levels.append((concurrency, rate, run.pct(95)))
        if concurrency == 1:
            single = run
        if rate < best * 1.05:
            break
        best = max(best, rate)
    return result, single


# ------------------------------------------------------------------------------------ API process


def start_api(port: int, workers: int, db_pool: int | None) -> subprocess.Popen:
    """uvicorn api.app:app as `make run` starts it (plus --workers when asked), on the bench settings."""
    import httpx

    log_path = ROOT / ".local" / "log" / "bench-search-api.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    env = dict(os.environ)
    if db_pool:
        env["COLETA_DB_POOL_SIZE"] = str(db_pool)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(log_path, "ab"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the API exited; see {log_path}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"the API did not answer on port {port}; see {log_path}")


def stop_api(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def login(base_url: str) -> str:
    import httpx

    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": BENCH_EMAIL, "password": BENCH_PASSWORD},
                          timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


# ------------------------------------------------------------------------------------ measure


def request_cache(bench: Bench, enabled: bool) -> None:
    """Turn the shard request cache of the bench indices on or off (and empty it)."""
    from indexing.client import get_client

    client = get_client()
    client.indices.put_settings(index=f"{bench.prefix}*", body={"index": {"requests.cache.enable": enabled}})
    client.indices.clear_cache(index=f"{bench.prefix}*", params={"request": "true"})


def measure(bench: Bench, args: argparse.Namespace) -> list[str]:
    """Steady-rate latencies, saturation and recall of both engines; returns the report lines."""
    meta = read_meta()
    expected_chunks = -(-bench.patients // args.chunk_size)
    if int(meta.get("chunks_done", 0)) < expected_chunks or "baseline" not in meta or "indexed_visits" not in meta:
        raise SystemExit(f"{bench.database} is not fully loaded: run `load` first")
    kinds = [k for k in KINDS if not args.kinds or k in args.kinds]
    engines_wanted = args.engines or ["api", "postgres"]
    count = int(args.rate * args.seconds)
    started = time.monotonic()
    sets = query_sets(bench, count + args.warmup)
    say(f"query sets built in {time.monotonic() - started:.0f} s")

    report = header(bench, args)
    gc_before = _gc_stats()
    process = None
    if not args.request_cache:
        request_cache(bench, False)
    engines: list[Any] = []
    try:
        if "api" in engines_wanted:
            base_url = args.api_url or f"http://127.0.0.1:{args.port}"
            if not args.api_url:
                say(f"starting the API on {base_url} ({args.api_workers} worker process(es))")
                process = start_api(args.port, args.api_workers, args.api_db_pool)
            engines.append(ApiEngine(base_url, login(base_url)))
        if "postgres" in engines_wanted:
            engines.append(PostgresEngine(bench.psycopg_url))

        steady_runs: dict[tuple[str, str], Run] = {}
        saturation: dict[tuple[str, str], tuple[Saturation, Run]] = {}
        for kind in kinds:
            measured, warm = sets[kind][:count], sets[kind][count:]
            for engine in engines:
                if warm:
                    closed(engine, warm, 2, min(5.0, args.seconds))
                say(f"{kind} / {engine.name}: {count} requests at {args.rate:g}/s")
                threads = args.pg_pool if engine.name == "postgres" else 64
                run = steady(engine, measured, args.rate, args.seconds, threads, args.seconds + args.give_up)
                steady_runs[kind, engine.name] = run
                say(f"  p50 {run.pct(50):.1f} ms, p95 {run.pct(95):.1f} ms, p99 {run.pct(99):.1f} ms, "
                    f"errors {len(run.errors)}, unserved {run.unserved}"
                    + (f" (first error: {run.errors[0]})" if run.errors else ""))
        if not args.no_saturation:
            for kind in kinds:
                for engine in engines:
                    say(f"saturation {kind} / {engine.name}")
                    saturation[kind, engine.name] = saturate(engine, sets[kind], args.saturation_seconds)
                    say(f"  {saturation[kind, engine.name][0].levels}")
        report += table(kinds, [e.name for e in engines], steady_runs, saturation)
        report += verdict(kinds, steady_runs, saturation)
        if "postgres" in engines_wanted and "name_typo" in kinds and not args.no_sweep:
            say("pg_trgm threshold sweep")
            single_api = saturation.get(("name_typo", "api"), (None, None))[1]
            report += threshold_sweep(bench, sets["name_typo"][:100], (0.3, 0.4, 0.5, 0.55, 0.6, 0.7),
                                      single_api.pct(95) if single_api else None)
    finally:
        for engine in engines:
            if isinstance(engine, PostgresEngine):
                engine.close()
        if process is not None:
            stop_api(process)
        if not args.request_cache:
            request_cache(bench, True)
    gc_after = _gc_stats()
    report += ["", "Data:"] + sizes(bench)
    report.append(
        "  OpenSearch GC during the measurement: "
        + ", ".join(f"{name} {gc_after[name][0] - gc_before[name][0]} collections / {(gc_after[name][1] - gc_before[name][1]) / 1000:.1f} s"
                    for name in gc_after)
    )
    return report


def _gc_stats() -> dict[str, tuple[int, int]]:
    """Collections and milliseconds per garbage collector of the OpenSearch node (cumulative)."""
    from indexing.client import get_client

    stats: dict[str, tuple[int, int]] = {}
    for node in get_client().nodes.stats(metric="jvm")["nodes"].values():
        for name, collector in node["jvm"]["gc"]["collectors"].items():
            count, millis = stats.get(name, (0, 0))
            stats[name] = (count + collector["collection_count"], millis + collector["collection_time_in_millis"])
    return stats


def threshold_sweep(bench: Bench, probes: Sequence[Probe], thresholds: Sequence[float],
                    api_p95: float | None) -> list[str]:
    """The baseline's name query at several pg_trgm thresholds, one client: how the threshold was chosen
    (and, given the API's one-client p95 of the same kind, how many times slower each setting is)."""
    import psycopg

    from bench import search_scale_baseline as baseline

    lines = ["", f"PostgreSQL name_typo by pg_trgm.similarity_threshold (one client, {len(probes)} queries):"]
    with psycopg.connect(bench.psycopg_url, autocommit=True) as connection:
        baseline.configure(connection)
        for threshold in thresholds:
            connection.execute(f"SET pg_trgm.similarity_threshold = {threshold}")
            run = Run()
            for probe in probes:
                began = time.perf_counter()
                ids = baseline.search_name(connection, probe.q)[0]
                run.latencies.append(time.perf_counter() - began)
                run.ranks.append(ids.index(probe.target) + 1 if probe.target in ids else None)
            chosen = " (used)" if threshold == baseline.NAME_SIMILARITY else ""
            versus = f", {run.pct(95) / api_p95:4.1f}× the API's one-client p95" if api_p95 else ""
            lines.append(
                f"  {threshold:.2f}: p50 {run.pct(50):6.1f} ms, p95 {run.pct(95):6.1f} ms, "
                f"recall@1 {run.recall(1):.3f}, recall@5 {run.recall(5):.3f}{versus}{chosen}"
            )
    return lines


def header(bench: Bench, args: argparse.Namespace) -> list[str]:
    load_average = os.getloadavg()
    return [
        f"bench.search_scale — {datetime.now().isoformat(timespec='seconds')}",
        f"registry: {bench.patients:,} patients, {bench.visits:,} visits (seed {bench.seed}); "
        f"database {bench.database}, index prefix {bench.prefix}",
        f"machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"load average before {load_average[0]:.2f} / {load_average[1]:.2f} / {load_average[2]:.2f}",
        f"API: uvicorn api.app:app, {args.api_workers} process(es) ({'as `make run`' if args.api_workers == 1 else 'not as `make run`'}), "
        f"database pool {args.api_db_pool or 'default'}; "
        f"open loop {args.rate:g} req/s for {args.seconds:g} s per kind and engine; shard request cache "
        f"{'on' if args.request_cache else 'off'}; PostgreSQL pool {args.pg_pool}",
        f"PostgreSQL baseline: pg_trgm similarity_threshold {_baseline().NAME_SIMILARITY}, "
        f"word_similarity_threshold {_baseline().WORD_SIMILARITY}; answered in-process (no HTTP, no auth)",
        "",
    ]


def _baseline():
    from bench import search_scale_baseline

    return search_scale_baseline


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    if value == float("inf"):
        return "unserved"
    return f"{value:.{digits}f}"


def table(kinds: Sequence[str], engines: Sequence[str], steady_runs: dict, saturation: dict) -> list[str]:
    """kind, engine, p50, p95, p99, max, errors, recall@1, recall@5, one-client p95, saturation."""
    lines = [
        f"{'kind':17} {'engine':9} {'n':>4} {'err':>4} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} "
        f"{'recall@1':>8} {'recall@5':>8} {'1-client p95':>12} {'saturation':>17}",
        f"{'':17} {'':9} {'':>4} {'':>4} {'ms':>8} {'ms':>8} {'ms':>8} {'ms':>8} {'':>8} {'':>8} {'ms':>12} {'req/s (clients)':>17}",
    ]
    for kind in kinds:
        for engine in engines:
            run = steady_runs.get((kind, engine))
            if run is None:
                continue
            sat, single = saturation.get((kind, engine), (None, None))
            sat_text = f"{sat.best[1]:.1f} ({sat.best[0]})" if sat else "—"
            served = [x for x in run.latencies if x != float("inf")]
            lines.append(
                f"{kind:17} {engine:9} {len(run.latencies):4d} {len(run.errors) + run.unserved:4d} {_fmt(run.pct(50)):>8} "
                f"{_fmt(run.pct(95)):>8} {_fmt(run.pct(99)):>8} {_fmt(max(served) * 1000 if served else None):>8} "
                f"{_fmt(run.recall(1), 3):>8} {_fmt(run.recall(5), 3):>8} "
                f"{_fmt(single.pct(95) if single else None):>12} {sat_text:>17}"
            )
    return lines


def verdict(kinds: Sequence[str], steady_runs: dict, saturation: dict) -> list[str]:
    """Issue 5's targets, met or not, from the API's steady-rate figures."""
    lines = ["", "Targets (API, steady 20 req/s):"]
    for kind in kinds:
        run = steady_runs.get((kind, "api"))
        if run is None:
            continue
        p95_target, p99_target = TARGETS[kind]
        checks = []
        if p95_target is not None:
            checks.append(f"p95 {run.pct(95):.1f} ≤ {p95_target} {'ok' if run.pct(95) <= p95_target else 'MISSED'}")
        if p99_target is not None:
            checks.append(f"p99 {run.pct(99):.1f} ≤ {p99_target} {'ok' if run.pct(99) <= p99_target else 'MISSED'}")
        if run.errors:
            checks.append(f"{len(run.errors)} errors")
        lines.append(f"  {kind:17} " + "; ".join(checks))
    api, pg = steady_runs.get(("name_typo", "api")), steady_runs.get(("name_typo", "postgres"))
    if api and pg:
        ratio = pg.pct(95) / api.pct(95)
        lines.append(
            f"  name_typo vs PostgreSQL: p95 {ratio:.1f}× faster at 20 req/s ({'ok' if ratio >= 10 else 'MISSED'} ≥ 10×); "
            f"recall@5 {_fmt(api.recall(5), 3)} vs {_fmt(pg.recall(5), 3)}, recall@1 {_fmt(api.recall(1), 3)} vs "
            f"{_fmt(pg.recall(1), 3)} ({'better' if (api.recall(5), api.recall(1)) > (pg.recall(5), pg.recall(1)) else 'NOT better'})"
        )
        single_api = saturation.get(("name_typo", "api"), (None, None))[1]
        single_pg = saturation.get(("name_typo", "postgres"), (None, None))[1]
        if single_api and single_pg:
            lines.append(
                f"  name_typo one client at a time (no queueing): p95 {single_api.pct(95):.1f} ms vs {single_pg.pct(95):.1f} ms, "
                f"{single_pg.pct(95) / single_api.pct(95):.1f}× faster"
            )
    return lines


# ------------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("load", "measure", "all", "drop"))
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=3_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database", help="default coleta_bench_<patients>")
    parser.add_argument("--prefix", help="index prefix, default bench-<patients>-")
    parser.add_argument("--chunk-size", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second of the open loop")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each open-loop run")
    parser.add_argument("--warmup", type=int, default=40, help="extra queries per kind, sent before measuring")
    parser.add_argument("--give-up", type=float, default=30.0,
                        help="seconds after the open loop's end when still-queued requests count as unserved")
    parser.add_argument("--saturation-seconds", type=float, default=6.0, help="length of each closed-loop level")
    parser.add_argument("--no-saturation", action="store_true")
    parser.add_argument("--no-sweep", action="store_true", help="skip the pg_trgm threshold sweep")
    parser.add_argument("--kinds", nargs="*", choices=KINDS)
    parser.add_argument("--engines", nargs="*", choices=("api", "postgres"))
    parser.add_argument("--api-url", help="measure a running API instead of starting one")
    parser.add_argument("--api-workers", type=int, default=1, help="uvicorn processes (make run: 1)")
    parser.add_argument("--api-db-pool", type=int, help="COLETA_DB_POOL_SIZE of the API (default: the project's)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--pg-pool", type=int, default=16, help="PostgreSQL connections of the baseline")
    parser.add_argument("--request-cache", action="store_true", help="leave the shard request cache on")
    parser.add_argument("--save", action="store_true", help="also write the report to bench/results/")
    args = parser.parse_args()

    bench = Bench(
        args.patients, args.visits, args.seed,
        args.database or f"coleta_bench_{args.patients}", args.prefix or f"bench-{args.patients}-",
    )
    configure(bench)
    if args.command == "drop":
        drop(bench)
        return 0
    report: list[str] = []
    if args.command in ("load", "all"):
        report += load(bench, args.chunk_size)
        for line in report:
            say(line)
    if args.command in ("measure", "all"):
        migrate()
        recorded = json.loads(read_meta().get("load_report") or "[]")
        report = measure(bench, args) + ["", "Load (as recorded by `load`):"] + [f"  {line}" for line in recorded]
    else:
        report += ["", "Data:"] + sizes(bench)
    text = "\n".join(report)
    print(text, flush=True)
    if args.save:
        results = ROOT / "bench" / "results"
        results.mkdir(exist_ok=True)
        path = results / f"search_scale-{date.today().isoformat()}.txt"
        suffix = 2
        while path.exists():
            path = results / f"search_scale-{date.today().isoformat()}-{suffix}.txt"
            suffix += 1
        path.write_text(text + "\n", encoding="utf-8")
        say(f"report written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
