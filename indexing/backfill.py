"""The rebuild's backfill: PostgreSQL rows → documents → OpenSearch, key-ordered chunks side by side.

The key column is cut into chunks of `backfill_chunk_size` keys in one index-only scan
(`storage.keyset.boundaries`); `backfill_workers` threads then each read a chunk by key range,
build its documents and send them as one bulk request, so PostgreSQL reads, the Python
builders and OpenSearch's indexing overlap instead of taking turns. Chunks are explicit
ranges (lo, hi]: a row inserted during the backfill never pushes an older row out of its
chunk (it reaches the new index through the drain anyway). At most twice as many chunks
as workers are in flight, which bounds memory whatever the table's size.

Every chunk times its three phases (read, build, write); `Phases` sums them so a run can
say where its time went.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from opensearchpy import OpenSearch

from indexing import writer
from indexing.registry import IndexedEntity
from indexing.settings import get_settings
from storage import keyset
from storage.db import unit_of_work


class BackfillError(RuntimeError):
    """Some documents of a chunk were refused; the backfill stopped."""


@dataclass
class Phases:
    """Documents written and the seconds each phase took, summed over the chunks (and so over the workers)."""

    documents: int = 0
    read: float = 0.0
    build: float = 0.0
    write: float = 0.0
    wall: float = 0.0
    workers: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, documents: int, read: float, build: float, write: float) -> None:
        """Account one chunk (thread-safe)."""
        with self._lock:
            self.documents += documents
            self.read += read
            self.build += build
            self.write += write

    def rate(self, seconds: float) -> float:
        """Documents per second of one phase (its summed seconds), or of the whole run (`wall`)."""
        return self.documents / seconds if seconds > 0 else 0.0

    def summary(self) -> str:
        """One line: docs/s per phase (a phase's own seconds, summed over workers) and end to end."""
        return (
            f"read {self.rate(self.read):,.0f} docs/s, build {self.rate(self.build):,.0f} docs/s, "
            f"write {self.rate(self.write):,.0f} docs/s; end to end {self.rate(self.wall):,.0f} docs/s "
            f"({self.documents:,} documents in {self.wall:.1f} s, {self.workers} workers)"
        )


def backfill(
    client: OpenSearch,
    entity: IndexedEntity,
    target: str,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
) -> Phases:
    """Write the current document of every row of `entity` into the concrete index `target` (version guarded)."""
    settings = get_settings()
    chunk_size = chunk_size or settings.backfill_chunk_size
    workers = max(1, workers or settings.backfill_workers)
    started = time.monotonic()
    with unit_of_work() as session:
        expected = entity.count(session)
        bounds = keyset.boundaries(session, entity.key, chunk_size)
    ranges = list(zip([None, *bounds], [*bounds, None], strict=True))
    phases = Phases(workers=workers)

    def one(after: str | None, upto: str | None) -> int:
        t0 = time.perf_counter()
        with unit_of_work() as session:
            ids = keyset.between(session, entity.key, after, upto)
            rows = entity.load(session, ids) if ids else []
        t1 = time.perf_counter()
        body, order = writer.encode(writer.IndexOp(target, row.id, row.row_version, entity.build(row)) for row in rows)
        t2 = time.perf_counter()
        # Straight to the concrete index: the rebuild alias is the drain's door, not ours. A busy node may
        # take longer than a search's timeout over a big bulk request; a timed-out one is sent again.
        outcome = (
            writer.send(client, body, order, require_alias=False, timeout=max(60.0, settings.opensearch_timeout))
            if order else writer.WriteResult()
        )
        t3 = time.perf_counter()
        if outcome.failed:
            raise BackfillError(f"{len(outcome.failed)} documentos falharam no preenchimento do novo índice.")
        phases.add(len(rows), t1 - t0, t2 - t1, t3 - t2)
        return len(ids)

    done = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="backfill") as pool:
        in_flight: set[Future[int]] = set()
        pending = iter(ranges)
        try:
            while True:
                while len(in_flight) < 2 * workers and (chunk := next(pending, None)) is not None:
                    in_flight.add(pool.submit(one, *chunk))
                if not in_flight:
                    break
                finished, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    done += future.result()
                if progress:
                    progress(done, max(expected, done))
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise
    phases.wall = time.monotonic() - started
    return phases
