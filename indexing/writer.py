"""The index writer: version-guarded writes through OpenSearch's _bulk API; replays and reordering are harmless.

Every index and delete carries the row's version with `version_type=external`, so
OpenSearch keeps whichever write is newest. A version conflict therefore means a
newer document is already there (success), and a 404 on delete means it is gone
(success).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from opensearchpy import OpenSearch


@dataclass(frozen=True)
class IndexOp:
    """Put this document (version guarded) into `target`."""

    target: str
    doc_id: str
    version: int
    document: dict[str, Any]


@dataclass(frozen=True)
class DeleteOp:
    """Remove a document (version guarded) from `target`."""

    target: str
    doc_id: str
    version: int


@dataclass
class WriteResult:
    """Which document ids were applied everywhere and which failed somewhere (with why).

    `transient` holds the failed ids whose failure was OpenSearch's (429 or 5xx: overloaded, shards
    not yet started after a restart) rather than the document's (e.g. a mapping rejecting it).
    """

    failed: dict[str, str] = field(default_factory=dict)
    transient: set[str] = field(default_factory=set)

    def ok(self, doc_id: str) -> bool:
        """True when no operation on this id failed."""
        return doc_id not in self.failed


def write(
    client: OpenSearch, ops: Iterable[IndexOp | DeleteOp], refresh: bool = False, require_alias: bool = True
) -> WriteResult:
    """Send the operations in one bulk request; report per-id failures (idempotent)."""
    body, order = encode(ops)
    if not order:
        return WriteResult()
    return send(client, body, order, refresh=refresh, require_alias=require_alias)


def encode(ops: Iterable[IndexOp | DeleteOp]) -> tuple[bytes, list[str]]:
    """The bulk request body of these operations and their document ids in order (for `send`)."""
    # orjson writes the UTF-8 bytes several times faster than json; dates and datetimes come out
    # as ISO 8601, anything else it does not know as str().
    lines: list[bytes] = []
    order: list[str] = []
    for op in ops:
        meta = {"_index": op.target, "_id": op.doc_id, "version": op.version, "version_type": "external"}
        if isinstance(op, IndexOp):
            lines.append(orjson.dumps({"index": meta}))
            lines.append(orjson.dumps(op.document, default=str))
        else:
            lines.append(orjson.dumps({"delete": meta}))
        order.append(op.doc_id)
    return b"\n".join(lines) + b"\n", order


def send(
    client: OpenSearch, body: bytes, order: list[str], refresh: bool = False, require_alias: bool = True,
    timeout: float | None = None,
) -> WriteResult:
    """Send one encoded bulk body (`encode`); report per-id failures. `timeout` overrides the client's (seconds)."""
    result = WriteResult()
    # The drain writes through aliases: a missing alias must fail, never auto-create an index.
    params = {
        "refresh": str(refresh).lower(),
        "require_alias": str(require_alias).lower(),
        # Only what the outcome needs: a full answer repeats index, id, version, shards and seq_no
        # per item (about 1 MB for a 4,000-op batch) for OpenSearch to write and us to parse.
        "filter_path": "errors,items.*.status,items.*.error",
    }
    if timeout is not None:
        params["request_timeout"] = timeout
    response = client.bulk(body=body, params=params)
    if not response.get("errors"):
        return result
    permanent: set[str] = set()
    for doc_id, item in zip(order, response["items"]):
        (action, outcome), = item.items()
        if _succeeded(action, outcome):
            continue
        error = outcome.get("error") or {"type": f"status_{outcome.get('status')}"}
        result.failed[doc_id] = f"{error.get('type')}: {error.get('reason', '')}"[:500]
        status = outcome.get("status", 500)
        if status == 429 or status >= 500:
            result.transient.add(doc_id)
        else:
            permanent.add(doc_id)
    result.transient -= permanent  # one refusal of the document itself outweighs OpenSearch's hiccups
    return result


def _succeeded(action: str, outcome: dict[str, Any]) -> bool:
    status = outcome.get("status", 500)
    if status < 300:
        return True
    if status == 409:  # a newer (or the same) version is already indexed
        return True
    # A delete of a missing document is done; a missing index or alias (an "error") is not.
    return action == "delete" and status == 404 and "error" not in outcome
