"""Search relevance on a generated registry: recall@1, recall@5 and MRR per kind of query.

    make relevance                                        # 20,000 patients, seed 7, 40 judged queries per kind
    .venv/bin/python -m bench.relevance --size 20000 --seed 7 --count 760

Runs on the real services, apart from everything else: a throwaway database (cloned
from the `coleta_test` template) and a dedicated index prefix. The registry of
`bench.relevance_data` is created through `storage.patients.service` (the real
validation and normalisation), indexed by the outbox drain (the real document
builder and bulk writer), and each judged query goes through
`indexing.queries.patients.search`, the function behind `GET /api/v1/patients`. The
database and the indices are dropped at the end, also on failure.

Targets (issue 15): every kind, and so the whole set, recall@5 ≥ 0.98 and recall@1 ≥ 0.90.
`tests/indexing/test_relevance.py` asserts them on a smaller registry.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.relevance_data import KINDS, Judgement, make_judgements, make_registry  # noqa: E402

DEPTH = 5
# Every kind must reach both (so the whole set does too).
TARGET_RECALL_AT_1 = 0.90
TARGET_RECALL_AT_5 = 0.98
CHUNK = 500


@dataclass
class KindFigures:
    """Ranks of the target (1-based, None beyond DEPTH) for the queries of one kind."""

    ranks: list[int | None] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.ranks)

    def recall_at(self, k: int) -> float:
        """Share of queries whose target is in the first `k` results."""
        return sum(1 for r in self.ranks if r is not None and r <= k) / self.count if self.ranks else 0.0

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank (0 beyond DEPTH)."""
        return sum(1 / r for r in self.ranks if r is not None) / self.count if self.ranks else 0.0


@dataclass
class Report:
    """Figures per kind and overall, and the queries that missed the first place."""

    kinds: dict[str, KindFigures]
    misses: list[tuple[Judgement, int | None, list[str]]]
    seconds: float

    @property
    def overall(self) -> KindFigures:
        return KindFigures([r for figures in self.kinds.values() for r in figures.ranks])

    def failures(self) -> list[str]:
        """The targets not met, in words (empty when all are met)."""
        problems = []
        for kind, figures in [*self.kinds.items(), ("overall", self.overall)]:
            if figures.recall_at(1) < TARGET_RECALL_AT_1:
                problems.append(f"{kind}: recall@1 {figures.recall_at(1):.3f} < {TARGET_RECALL_AT_1}")
            if figures.recall_at(5) < TARGET_RECALL_AT_5:
                problems.append(f"{kind}: recall@5 {figures.recall_at(5):.3f} < {TARGET_RECALL_AT_5}")
        return problems


def load_registry(registry: Sequence[dict]) -> list[str]:
    """Create the patients through the storage service, committed in chunks; return their ids in order."""
    from storage.db import unit_of_work
    from storage.patients import service as patient_service

    ids: list[str] = []
    for start in range(0, len(registry), CHUNK):
        with unit_of_work() as session:
            ids += [patient_service.create(session, data).id for data in registry[start:start + CHUNK]]
    return ids


def index_registry() -> None:
    """Apply the outbox (the real builder and version-guarded writes) and make everything searchable."""
    from indexing import names, sync
    from indexing.client import get_client

    while sync.drain(max_batches=100).claimed:
        pass
    get_client().indices.refresh(index=names.alias("patients"))


def evaluate(ids: Sequence[str], judgements: Sequence[Judgement]) -> Report:
    """Run every judged query through the search function; rank of its target among the first DEPTH."""
    from indexing.client import get_client
    from indexing.queries.patients import PatientQuery, search

    client = get_client()
    kinds = {kind: KindFigures() for kind in KINDS if any(j.kind == kind for j in judgements)}
    misses = []
    started = time.monotonic()
    for judgement in judgements:
        hits = search(client, PatientQuery(q=judgement.query, page_size=DEPTH))
        found = [item["id"] for item in hits.items]
        target = ids[judgement.target_index]
        rank = found.index(target) + 1 if target in found else None
        kinds[judgement.kind].ranks.append(rank)
        if rank != 1:
            misses.append((judgement, rank, [item["name"] for item in hits.items]))
    return Report(kinds, misses, time.monotonic() - started)


def format_report(report: Report, registry: Sequence[dict] | None = None, show_misses: int = 0) -> str:
    """The figures as a table (and the first misses with what came instead)."""
    lines = [f"{'kind':30} {'n':>4} {'recall@1':>9} {'recall@5':>9} {'MRR':>6}"]
    rows = [*report.kinds.items(), ("overall", report.overall)]
    for kind, figures in rows:
        lines.append(
            f"{kind:30} {figures.count:4d} {figures.recall_at(1):9.3f} {figures.recall_at(5):9.3f} {figures.mrr:6.3f}"
        )
    count = report.overall.count
    lines.append(f"{count} queries in {report.seconds:.1f} s ({report.seconds / max(count, 1) * 1000:.1f} ms each)")
    for judgement, rank, found in report.misses[:show_misses]:
        target = registry[judgement.target_index]["name"] if registry else judgement.target_index
        lines.append(f"  miss {judgement.kind}: {judgement.query!r} -> {target!r} at {rank}; got {found[:3]}")
    return "\n".join(lines)


@contextmanager
def throwaway_services(template: str = "coleta_test") -> Iterator[None]:
    """Point storage and indexing at a new database and index prefix; drop both afterwards."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from indexing import lifecycle
    from indexing.client import get_client, reset_client
    from indexing.settings import get_settings as get_index_settings
    from storage.db import drop_database, reset_caches
    from storage.settings import get_settings as get_storage_settings

    run = uuid.uuid4().hex[:8]
    base_url = make_url(get_storage_settings().database_url)
    database = f"coleta_relevance_{run}"
    server = create_engine(base_url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    saved = {key: os.environ.get(key) for key in ("COLETA_DATABASE_URL", "COLETA_INDEX_PREFIX")}

    def configure() -> None:
        get_storage_settings.cache_clear()
        get_index_settings.cache_clear()
        reset_caches()
        reset_client()

    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))
    os.environ["COLETA_DATABASE_URL"] = base_url.set(database=database).render_as_string(hide_password=False)
    os.environ["COLETA_INDEX_PREFIX"] = f"relevance-{run}-"
    configure()
    try:
        config = Config(str(ROOT / "alembic.ini"))
        config.attributes["configure_logger"] = False
        command.upgrade(config, "heads")
        lifecycle.setup(get_client())
        yield
    finally:
        get_client().indices.delete(index=f"relevance-{run}-*", params={"expand_wildcards": "all"})
        reset_caches()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        configure()
        with server.connect() as connection:
            drop_database(connection, database)
        server.dispose()


def main() -> int:
    """Load, index, evaluate, print; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=20_000, help="patients in the registry")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--count", type=int, default=40 * len(KINDS), help="judged queries, spread evenly over the kinds")
    parser.add_argument("--misses", type=int, default=0, help="print this many queries that missed first place")
    args = parser.parse_args()

    started = time.monotonic()
    registry = make_registry(args.size, args.seed)
    judgements = make_judgements(registry, args.count, args.seed)
    print(f"registry of {args.size} patients and {len(judgements)} judged queries (seed {args.seed}) "
          f"in {time.monotonic() - started:.1f} s", flush=True)
    with throwaway_services():
        started = time.monotonic()
        ids = load_registry(registry)
        print(f"created through the patient service in {time.monotonic() - started:.1f} s", flush=True)
        started = time.monotonic()
        index_registry()
        print(f"indexed by the outbox drain in {time.monotonic() - started:.1f} s", flush=True)
        report = evaluate(ids, judgements)
    print(format_report(report, registry, args.misses))
    problems = report.failures()
    if problems:
        print("targets missed: " + "; ".join(problems))
        return 1
    print(f"targets met: every kind recall@5 ≥ {TARGET_RECALL_AT_5} and recall@1 ≥ {TARGET_RECALL_AT_1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
