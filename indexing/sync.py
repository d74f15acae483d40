"""The outbox drain: PostgreSQL changes become index writes, in order and without loss.

One batch = one transaction: lock due outbox rows (SKIP LOCKED, so drainers run
side by side), coalesce per entity, load the current rows, write documents with
external versions to the live alias (and to the rebuild alias while a rebuild
runs), delete the rows that were applied and back off the ones that failed. If
the process dies mid-batch the transaction rolls back and the rows stay due; the
re-run is harmless because every write is version-guarded.

Backoff protects OpenSearch from documents it keeps refusing, not from its own
outages: rows that failed because OpenSearch was down or overloaded are retried as
soon as it answers again (a batch written cleanly, or a ping when nothing else is
due), so the index catches up within a drain or two of the recovery instead of
each row waiting out a backoff grown during the outage (up to 5 minutes).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError
from sqlalchemy import Row
from sqlalchemy.orm import Session

from indexing import names, writer
from indexing.client import get_client
from indexing.registry import ENTITIES
from indexing.settings import get_settings
from storage import outbox
from storage.db import unit_of_work

log = logging.getLogger(__name__)


@dataclass
class DrainResult:
    """What one or more batches did."""

    claimed: int = 0
    applied_entities: int = 0
    failed_entities: int = 0
    # Entities that failed because of OpenSearch (down, overloaded), not because of their document.
    transient_failures: int = 0
    # Rows made due again because OpenSearch answered after failing them.
    released: int = 0
    # The last batch claimed as many rows as it could take: more may be due.
    full: bool = False

    def add(self, other: "DrainResult") -> None:
        """Accumulate another batch's counts."""
        self.claimed += other.claimed
        self.applied_entities += other.applied_entities
        self.failed_entities += other.failed_entities
        self.transient_failures += other.transient_failures
        self.released += other.released
        self.full = other.full


def write_targets(client: OpenSearch, index: str) -> list[str]:
    """Return the aliases a change must reach: the live one, plus the rebuild one while it exists."""
    targets = [names.alias(index)]
    rebuild = names.rebuild_alias(index)
    if client.indices.exists_alias(name=rebuild):
        targets.append(rebuild)
    return targets


def mapped_fields(client: OpenSearch, target: str) -> frozenset[str] | None:
    """Return the top-level fields every index behind `target` maps (None when unknown: send all)."""
    try:
        response = client.indices.get_mapping(index=target)
    except NotFoundError:
        return None
    found = [frozenset(body.get("mappings", {}).get("properties", {})) for body in response.values()]
    return frozenset.intersection(*found) if found else None


def drain_batch(
    session: Session, client: OpenSearch, limit: int, refresh_below: int = 0, bulk_limit: int | None = None
) -> DrainResult:
    """Apply up to `limit` due outbox rows inside the caller's transaction (idempotent).

    People's changes come first: only when none is due does the batch take a bulk writer's rows
    (an import's), oldest first. So an edit made during an import waits for the batch being
    written, never for the backlog; `bulk_limit` keeps that batch short. A batch of fewer than
    `refresh_below` rows (a person's few writes, the tail of a backlog) is made searchable at once:
    the bulk requests refresh the shards they touched, instead of leaving the change to the index's
    refresh interval (up to a second later); a full batch keeps the interval (a refresh per batch
    would slow imports).
    """
    entries = outbox.claim_due(session, limit, bulk=False)
    if not entries:
        limit = bulk_limit or limit
        entries = outbox.claim_due(session, limit, bulk=True)
    result = DrainResult(claimed=len(entries), full=len(entries) == limit)
    if not entries:
        return result
    refresh = len(entries) < refresh_below

    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for entry in entries:
        grouped[(entry.entity_type, entry.entity_id)].append(entry)

    by_type: dict[str, dict[str, list[Row]]] = defaultdict(dict)
    for (entity_type, entity_id), group in grouped.items():
        by_type[entity_type][entity_id] = group

    for entity_type, groups in by_type.items():
        entity = ENTITIES.get(entity_type)
        if entity is None:
            log.error("outbox row of unknown entity type", extra={"entity_type": entity_type})
            _fail(session, groups, "unknown entity type", result)
            continue
        try:
            outcome = _write_type(session, client, entity, groups, refresh)
        except Exception as error:  # OpenSearch down or rejecting: every row of this type waits
            log.warning("bulk write failed; backing off", extra={"entity_type": entity_type, "error": type(error).__name__})
            _fail(session, groups, f"{type(error).__name__}: {error}"[:500], result, transient=_is_outage(error))
            continue
        applied = [e.id for entity_id, group in groups.items() if outcome.ok(entity_id) for e in group]
        outbox.remove(session, applied)
        result.applied_entities += sum(1 for entity_id in groups if outcome.ok(entity_id))
        failed = {entity_id: group for entity_id, group in groups.items() if not outcome.ok(entity_id)}
        for entity_id, group in failed.items():
            _fail(session, {entity_id: group}, outcome.failed[entity_id], result,
                  transient=entity_id in outcome.transient)
    return result


def _is_outage(error: Exception) -> bool:
    """True for failures of OpenSearch itself: unreachable, timed out, overloaded (429) or a 5xx."""
    if isinstance(error, OpenSearchConnectionError):
        return True
    status = getattr(error, "status_code", None) if isinstance(error, TransportError) else None
    return isinstance(status, int) and (status == 429 or status >= 500)


def _write_type(
    session: Session, client: OpenSearch, entity, groups: dict[str, list[Row]], refresh: bool = False
) -> writer.WriteResult:
    """Build the current documents (or tombstones) of these entities and write them everywhere."""
    targets = write_targets(client, entity.index)
    # A live index made from an older (strict) mapping rejects fields a newer builder adds; until
    # `reindex` swaps the alias to the newest mapping it gets the fields it knows, the rebuild the rest.
    fields = {target: mapped_fields(client, target) for target in targets}
    rows = {row.id: row for row in entity.load(session, list(groups))}
    ops: list[writer.IndexOp | writer.DeleteOp] = []
    for entity_id, group in groups.items():
        row = rows.get(entity_id)
        document = entity.build(row) if row is not None else None
        for target in targets:
            if row is not None:
                known = fields[target]
                full = known is None or known.issuperset(document)
                body = document if full else {k: v for k, v in document.items() if k in known}
                ops.append(writer.IndexOp(target, entity_id, row.row_version, body))
            else:
                version = max((e.deleted_version or 0) for e in group) or 1
                ops.append(writer.DeleteOp(target, entity_id, version))
    return writer.write(client, ops, refresh=refresh)


def _fail(
    session: Session, groups: dict[str, list[Row]], error: str, result: DrainResult, transient: bool = False
) -> None:
    for group in groups.values():
        attempts = max(e.attempts for e in group) + 1
        outbox.back_off(session, [e.id for e in group], error, attempts, transient=transient)
        result.failed_entities += 1
        result.transient_failures += transient


def release_after_outage(client: OpenSearch, answered: bool = False) -> int:
    """Make rows an OpenSearch failure backed off due now if OpenSearch answers; return how many.

    `answered` says a batch was just written cleanly; otherwise OpenSearch is pinged, and only
    when such rows exist (one indexed query: nothing to do costs almost nothing).
    """
    with unit_of_work() as session:
        if not outbox.has_transient(session):
            return 0
        if not answered and not _answers(client):
            return 0
        released = outbox.release_transient(session)
    if released:
        log.info("OpenSearch answers again; retrying rows backed off by its failure", extra={"rows": released})
    return released


def _answers(client: OpenSearch) -> bool:
    try:
        return bool(client.ping(request_timeout=2))
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def drain(max_batches: int = 20, batch_size: int | None = None, client: OpenSearch | None = None) -> DrainResult:
    """Drain due outbox rows batch by batch, each in its own transaction, until none are left."""
    settings = get_settings()
    size = batch_size or settings.drain_batch_size
    bulk_size = batch_size or settings.drain_bulk_batch_size
    client = client or get_client()
    total = DrainResult()
    released = False
    for _ in range(max_batches):
        # Every batch looks for people's changes first (see drain_batch). Order never matters for
        # correctness: every write is version guarded.
        with unit_of_work() as session:
            result = drain_batch(session, client, size, settings.drain_refresh_below, bulk_size)
        total.add(result)
        if not result.full:
            # Nothing more is due. Once per drain (a row failing again must not spin the loop), retry
            # now what OpenSearch's own failure backed off, if it answers: this batch wrote documents
            # without an OpenSearch failure, or a ping says so.
            if released or result.transient_failures:
                break
            released = True
            total.released = release_after_outage(client, answered=result.applied_entities > 0)
            if not total.released:
                break
    return total
