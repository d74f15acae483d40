"""Candidate pairs from blocking keys, set-based: sort the keys, pair the records within each run.

Cost is the sort (n log n) plus the pairs produced; a key shared by more than
`max_block` records (a junk phone typed for everyone, a placeholder birth date) is
skipped and counted instead of producing a quadratic number of useless pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_BLOCK = 200


@dataclass(frozen=True)
class Blocked:
    """Unique candidate pairs (a < b, indices of records) and how many oversized blocks were skipped."""

    a: np.ndarray
    b: np.ndarray
    skipped_blocks: int
    skipped_records: int


def pairs_from_keys(owners: np.ndarray, keys: np.ndarray, max_block: int = MAX_BLOCK) -> Blocked:
    """Every pair of distinct records sharing a key (deduplicated), from parallel arrays of owners and keys."""
    order = np.lexsort((owners, keys))
    keys, owners = keys[order], owners[order]
    if len(keys) == 0:
        empty = np.empty(0, dtype=np.int64)
        return Blocked(empty, empty, 0, 0)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    chunks: list[np.ndarray] = []
    for size in np.unique(sizes):
        if size < 2 or size > max_block:
            continue
        group_starts = starts[sizes == size]
        members = owners[group_starts[:, None] + np.arange(size)[None, :]]
        i, j = np.triu_indices(size, k=1)
        first, second = members[:, i].ravel(), members[:, j].ravel()
        low, high = np.minimum(first, second).astype(np.int64), np.maximum(first, second).astype(np.int64)
        keep = low != high
        chunks.append((low[keep] << 32) | high[keep])
    big = sizes > max_block
    if not chunks:
        empty = np.empty(0, dtype=np.int64)
        return Blocked(empty, empty, int(big.sum()), int(sizes[big].sum()))
    packed = np.unique(np.concatenate(chunks))
    return Blocked(packed >> 32, packed & 0xFFFFFFFF, int(big.sum()), int(sizes[big].sum()))
