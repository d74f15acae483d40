"""Cut a parsed file into the batches the applier commits, with each row's source appointment key.

Pure (no database). Runs in the applying process for small files and in a parsing
child process for big ones (see `parsing.process`), with the same results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from storage.imports.parsing.dasaexp import KIND_VISIT, LAYOUT_SIMPLIFIED, ParsedRow, patient_key, split_visit_key

Batch = list[tuple[ParsedRow, "str | None"]]


class SourceKeys:
    """Source appointment keys of a file's visit rows, given in file order."""

    def __init__(self, layout: str) -> None:
        self.layout = layout
        self._occurrences: dict[bytes, int] = {}

    def key(self, row: ParsedRow) -> str | None:
        """The row's source appointment id; call for every row in file order (checkpointed ones too).

        DasaExp rows carry `Id do agendamento`. The simplified layout (and a DasaExp row
        without an id) gets a key from car, start, patient and how many rows of the same
        stop came before it, so the same file always gives the same keys.
        """
        if row.kind != KIND_VISIT:
            return None
        if row.source_id and self.layout != LAYOUT_SIMPLIFIED:
            return row.source_id
        basis = "\x1f".join(map(str, (row.car_key, row.start.isoformat() if row.start else "", *patient_key(row))))
        digest = hashlib.blake2b(basis.encode(), digest_size=16).digest()
        occurrence = self._occurrences.get(digest, 0)
        self._occurrences[digest] = occurrence + 1
        prefix = "simplified" if self.layout == LAYOUT_SIMPLIFIED else "sem-id"
        keyed = f"{basis}\x1f{occurrence}".encode()
        return f"{prefix}:{hashlib.sha1(keyed).hexdigest()}"


# Text a batch may carry (its rows' cells): rows near the row limit must not make a batch of hundreds of MB.
MAX_BATCH_CHARS = 8 * 1024 * 1024


def batches(
    rows: Iterable[ParsedRow], layout: str, after: int, size: int, max_chars: int = MAX_BATCH_CHARS
) -> Iterator[Batch]:
    """Cut the rows after the checkpoint row into batches of about `size` rows or `max_chars` of cell text,
    whichever comes first (adjacent rows of one stop stay together).

    Every row gets its source key in file order, the checkpointed ones too, so a
    resumed run computes the same keys as a clean one.
    """
    keys = SourceKeys(layout)
    batch: Batch = []
    chars = 0
    for row in rows:
        source_id = keys.key(row)
        if row.row_number <= after:
            continue
        full = len(batch) >= size or chars >= max_chars
        room = len(batch) < 4 * size and chars < 4 * max_chars
        if batch and full and not (room and _same_stop(batch[-1][0], row)):
            yield batch
            batch, chars = [], 0
        if row.kind == KIND_VISIT:
            chars += sum(map(len, row.raw.values()))
            batch.append((row, source_id))
        else:
            batch.append((_stub(row), source_id))
    if batch:
        yield batch


def _stub(row: ParsedRow) -> ParsedRow:
    """What the applier needs of a row it does not apply (skipped, duplicate, error): half the bytes to pickle."""
    return ParsedRow(
        row.row_number, row.kind, skip_reason=row.skip_reason, duplicate_of=row.duplicate_of, issues=row.issues,
        source_id=row.source_id,
    )


def _same_stop(previous: ParsedRow, row: ParsedRow) -> bool:
    return previous.kind == row.kind == KIND_VISIT and split_visit_key(previous) == split_visit_key(row)
