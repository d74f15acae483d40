"""Index lifecycle: idempotent setup, zero-downtime rebuild, alias swap in one call.

Each index lives behind an alias. A rebuild creates a new concrete index from the
newest mapping, marks it with the rebuild alias (so the drain writes every change
to it as well), backfills it from PostgreSQL in key order with the same builder
and version guard, checks the counts and swaps the alias in one `update_aliases`
call. Searches go on against the old index until the swap; no write is lost
because anything the backfill read too early reaches the new index via the drain.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

import mappings
from indexing import backfill, names
from indexing.client import get_client
from indexing.registry import by_index
from storage.db import unit_of_work

log = logging.getLogger(__name__)

INDICES = ("patients", "visits")

# While the backfill runs nobody searches the new index: no refresh (segments are built once, not
# every second), no replica to copy to, and a translog synced every few seconds instead of on every
# bulk request. `_settings_after_backfill` puts the mapping's own values back before the swap.
BACKFILL_SETTINGS = {
    "refresh_interval": "-1",
    "number_of_replicas": 0,
    "translog.durability": "async",
    "translog.flush_threshold_size": "1gb",
}
# The backfill leaves a few dozen segments (one per indexing-buffer flush); a search pays per segment
# (a fuzzy name builds its automaton against each one's terms), so the new index is merged down before
# it goes live: at a million patients 21 segments -> 1 took a typo'd name from ~25 to ~17 ms in
# OpenSearch, for ~50 s of rebuild. Segments stay under Lucene's 5 GB merge ceiling, so later updates
# and deletes keep being merged away as usual.
MERGED_SEGMENT_BYTES = 5 * 1024**3
# Only the patients' searches pay per segment like that. Visits are filtered by day, car and status and
# aggregated for the dashboard: at 3M visits the dashboard answered 3 segments as fast as 1 (p95 36 and
# 43 ms at 20 req/s), and merging the backfill's ~30 segments down to 3 rewrote only the small ones
# (12 s) where going on to 1 took 27 s more.
MERGED_SEGMENTS = {"patients": 1, "visits": 3}
# A force merge answers when it is done: minutes for a big index on a busy node.
FORCE_MERGE_TIMEOUT = 3600


class RebuildError(RuntimeError):
    """The rebuild stopped before the swap (another one running, failed writes, counts that differ); the live
    index was left untouched. `code` is stable, the message pt-BR."""

    def __init__(self, message: str, code: str = "rebuild_failed") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class RebuildReport:
    """What a rebuild did."""

    index: str
    old_indices: list[str]
    new_index: str
    documents: int
    seconds: float
    phases: backfill.Phases | None = None


def live_indices(client: OpenSearch, index: str) -> list[str]:
    """Return the concrete indices behind the live alias (normally one)."""
    try:
        return sorted(client.indices.get_alias(name=names.alias(index)).keys())
    except NotFoundError:
        return []


def create_concrete(client: OpenSearch, index: str) -> str:
    """Create a new concrete index from the newest mapping and return its name."""
    version = mappings.latest_version(index)
    name = names.concrete(index, version)
    client.indices.create(index=name, body=mappings.load(index, version))
    return name


def live_mapping_version(client: OpenSearch, index: str) -> int | None:
    """The mapping version of the live concrete index (from its name), or None without one."""
    current = live_indices(client, index)
    if not current:
        return None
    match = re.search(r"-v(\d+)-\d+$", current[-1])
    return int(match.group(1)) if match else None


def outdated(client: OpenSearch | None = None) -> list[str]:
    """The indices whose live mapping is older than the newest mapping file (a rebuild upgrades them)."""
    client = client or get_client()
    return [
        index for index in INDICES
        if (version := live_mapping_version(client, index)) is not None and version < mappings.latest_version(index)
    ]


def setup(client: OpenSearch | None = None) -> dict[str, str]:
    """Make sure every index exists behind its alias (idempotent); return alias -> concrete index."""
    client = client or get_client()
    result = {}
    for index in INDICES:
        current = live_indices(client, index)
        if current:
            result[names.alias(index)] = current[-1]
            continue
        name = create_concrete(client, index)
        client.indices.update_aliases(
            body={"actions": [{"add": {"index": name, "alias": names.alias(index), "is_write_index": True}}]}
        )
        result[names.alias(index)] = name
    return result


def rebuild(
    index: str = "patients",
    client: OpenSearch | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_old: bool = False,
    count_retries: int = 30,
    abandoned_after_seconds: float = 3600,
    on_phase: Callable[[str, str], None] | None = None,
) -> RebuildReport:
    """Rebuild an index from PostgreSQL with no downtime and no lost write; swap the alias in one call.

    `progress(done, total)` follows the backfill; `on_phase(phase, new_index)` is told `backfilling` once
    the new index exists and `swapping` when the backfill is done (counts compared, then the swap).
    """
    client = client or get_client()
    started = time.monotonic()
    setup(client)
    entity_type, entity = by_index(index)
    rebuild_alias = names.rebuild_alias(index)
    if client.indices.exists_alias(name=rebuild_alias):
        _drop_abandoned_rebuild(client, rebuild_alias, abandoned_after_seconds)

    old = live_indices(client, index)
    new = create_concrete(client, index)
    # From here on the drain writes every change to the new index too.
    client.indices.update_aliases(body={"actions": [{"add": {"index": new, "alias": rebuild_alias}}]})
    try:
        if on_phase:
            on_phase("backfilling", new)
        client.indices.put_settings(index=new, body={"index": BACKFILL_SETTINGS})
        phases = backfill.backfill(client, entity, new, progress)
        if on_phase:
            on_phase("swapping", new)
        force_merge(client, new, MERGED_SEGMENTS[index])
        # Back to the mapping's own settings (and a durable translog) before the counts are compared.
        client.indices.put_settings(index=new, body={"index": _settings_after_backfill(index)})
        client.indices.flush(index=new)
        _wait_for_matching_counts(client, entity, new, count_retries)
    except backfill.BackfillError as error:
        client.indices.delete(index=new, ignore_unavailable=True)
        raise RebuildError(str(error), "backfill_failed") from error
    except BaseException:
        client.indices.delete(index=new, ignore_unavailable=True)
        raise

    actions = [{"remove": {"index": name, "alias": names.alias(index)}} for name in old]
    actions.append({"add": {"index": new, "alias": names.alias(index), "is_write_index": True}})
    actions.append({"remove": {"index": new, "alias": rebuild_alias}})
    client.indices.update_aliases(body={"actions": actions})
    if not keep_old:
        for name in old:
            client.indices.delete(index=name, ignore_unavailable=True)
    log.info("index rebuilt", extra={"index": index, "documents": phases.documents, "new_index": new,
                                     "phases": phases.summary()})
    return RebuildReport(index, old, new, phases.documents, time.monotonic() - started, phases)


def force_merge(client: OpenSearch, name: str, fewest: int = 1) -> int:
    """Merge a freshly filled index down to `fewest` segments, or as few as stay under 5 GB each; return that number."""
    client.indices.refresh(index=name)
    size = client.indices.stats(index=name, metric="store")["indices"][name]["primaries"]["store"]["size_in_bytes"]
    segments = max(fewest, math.ceil(size / MERGED_SEGMENT_BYTES))
    client.indices.forcemerge(index=name, params={"max_num_segments": segments, "request_timeout": FORCE_MERGE_TIMEOUT})
    return segments


def _settings_after_backfill(index: str) -> dict:
    """The mapping file's refresh interval and replicas, and the default translog, for the swapped-in index."""
    settings = mappings.load(index, mappings.latest_version(index)).get("settings", {})
    return {
        "refresh_interval": settings.get("refresh_interval", "1s"),
        "number_of_replicas": settings.get("number_of_replicas", 1),
        "translog.durability": "request",
        "translog.flush_threshold_size": None,
    }


def _drop_abandoned_rebuild(client: OpenSearch, rebuild_alias: str, abandoned_after_seconds: float) -> None:
    """A rebuild whose process died (SIGKILL) leaves its index behind; drop it once it is clearly stale."""
    pending = list(client.indices.get_alias(name=rebuild_alias))
    settings = client.indices.get_settings(index=",".join(pending), name="index.creation_date")
    now_ms = time.time() * 1000
    ages = [(now_ms - int(s["settings"]["index"]["creation_date"])) / 1000 for s in settings.values()]
    if min(ages) < abandoned_after_seconds:
        raise RebuildError("Já existe uma reconstrução em andamento para este índice.", "rebuild_in_progress")
    log.warning("dropping an abandoned rebuild", extra={"indices": pending})
    for name in pending:
        client.indices.delete(index=name, ignore_unavailable=True)


def _wait_for_matching_counts(client: OpenSearch, entity, new: str, retries: int) -> None:
    """Counts can differ for a moment while the drain catches up with concurrent writes."""
    for _ in range(retries):
        client.indices.refresh(index=new)
        with unit_of_work() as session:
            expected = entity.count(session)
        indexed = client.count(index=new)["count"]
        if indexed == expected:
            return
        time.sleep(1)
    raise RebuildError(
        f"O novo índice tem {indexed} documentos, o PostgreSQL tem {expected}; a troca foi cancelada.",
        "count_mismatch",
    )


def drop_leftover(index: str, name: str, client: OpenSearch | None = None) -> bool:
    """After a rebuild's process died: whether its new index `name` went live (the swap happened); if not,
    delete it (its rebuild alias goes with it), so the next rebuild need not wait for it to look abandoned."""
    client = client or get_client()
    if name in live_indices(client, index):
        return True
    client.indices.delete(index=name, ignore_unavailable=True)
    return False


def document_counts(index: str = "patients", client: OpenSearch | None = None) -> tuple[int, int | None]:
    """Return (rows in PostgreSQL, documents behind the live alias; None if the index is missing)."""
    client = client or get_client()
    _, entity = by_index(index)
    with unit_of_work() as session:
        rows = entity.count(session)
    try:
        indexed = client.count(index=names.alias(index))["count"]
    except NotFoundError:
        indexed = None
    return rows, indexed
