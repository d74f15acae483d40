"""The outbox drain: PostgreSQL changes become index writes, in order and without loss.

One batch = one transaction: lock due outbox rows (SKIP LOCKED, so drainers run
side by side), coalesce per entity, load the current rows, write documents with
external versions to the live alias (and to the rebuild alias while a rebuild
runs), delete the rows that were applied and back off the ones that failed. If
the process dies mid-batch the transaction rolls back and the rows stay due; the
re-run is harmless because every write is version-guarded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError
from sqlalchemy import Row
from sqlalchemy.orm import Session

from indexing import bulk, names
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

    def add(self, other: "DrainResult") -> None:
        """Accumulate another batch's counts."""
        self.claimed += other.claimed
        self.applied_entities += other.applied_entities
        self.failed_entities += other.failed_entities


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


def drain_batch(session: Session, client: OpenSearch, limit: int) -> DrainResult:
    """Apply up to `limit` due outbox rows inside the caller's transaction (idempotent)."""
    entries = outbox.claim_due(session, limit)
    result = DrainResult(claimed=len(entries))
    if not entries:
        return result

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
            outcome = _write_type(session, client, entity, groups)
        except Exception as error:  # OpenSearch down or rejecting: every row of this type waits
            log.warning("bulk write failed; backing off", extra={"entity_type": entity_type, "error": type(error).__name__})
            _fail(session, groups, f"{type(error).__name__}: {error}"[:500], result)
            continue
        applied = [e.id for entity_id, group in groups.items() if outcome.ok(entity_id) for e in group]
        outbox.remove(session, applied)
        result.applied_entities += sum(1 for entity_id in groups if outcome.ok(entity_id))
        failed = {entity_id: group for entity_id, group in groups.items() if not outcome.ok(entity_id)}
        for entity_id, group in failed.items():
            _fail(session, {entity_id: group}, outcome.failed[entity_id], result)
    return result


def _write_type(session: Session, client: OpenSearch, entity, groups: dict[str, list[Row]]) -> bulk.BulkResult:
    """Build the current documents (or tombstones) of these entities and write them everywhere."""
    targets = write_targets(client, entity.index)
    # A live index made from an older (strict) mapping rejects fields a newer builder adds; until
    # `reindex` swaps the alias to the newest mapping it gets the fields it knows, the rebuild the rest.
    fields = {target: mapped_fields(client, target) for target in targets}
    rows = {row.id: row for row in entity.load(session, list(groups))}
    ops: list[bulk.IndexOp | bulk.DeleteOp] = []
    for entity_id, group in groups.items():
        row = rows.get(entity_id)
        document = entity.build(row) if row is not None else None
        for target in targets:
            if row is not None:
                known = fields[target]
                full = known is None or known.issuperset(document)
                body = document if full else {k: v for k, v in document.items() if k in known}
                ops.append(bulk.IndexOp(target, entity_id, row.row_version, body))
            else:
                version = max((e.deleted_version or 0) for e in group) or 1
                ops.append(bulk.DeleteOp(target, entity_id, version))
    return bulk.write(client, ops)


def _fail(session: Session, groups: dict[str, list[Row]], error: str, result: DrainResult) -> None:
    for group in groups.values():
        attempts = max(e.attempts for e in group) + 1
        outbox.back_off(session, [e.id for e in group], error, attempts)
        result.failed_entities += 1


def drain(max_batches: int = 20, batch_size: int | None = None) -> DrainResult:
    """Drain due outbox rows batch by batch, each in its own transaction, until none are left."""
    size = batch_size or get_settings().drain_batch_size
    client = get_client()
    total = DrainResult()
    for _ in range(max_batches):
        with unit_of_work() as session:
            result = drain_batch(session, client, size)
        total.add(result)
        if result.claimed < size:
            break
    return total
