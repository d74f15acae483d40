"""How much one uploaded file may make the parser hold or do, and the error for a file past a bound.

Every bound is checked while the file is vetted and validated, before the first row
is applied, so a hostile or runaway file fails early with `file_too_complex`, a pt-BR
message naming the bound (never the file's data) and `details.limit`.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.errors import Invalid

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile or runaway file from taking the worker down."""

    # The zip container, checked from its central directory before anything is inflated.
    max_uncompressed_bytes: int = 200 * MIB  # all members together
    max_compression_ratio: float = 100.0
    # Well-compressed small members are normal (sharedStrings, styles); only big ones are suspicious.
    ratio_check_min_bytes: int = 20 * MIB
    max_zip_entries: int = 2000
    # Workbook, relationships, styles: small parts, read whole.
    max_part_bytes: int = 16 * MIB
    max_xml_depth: int = 100
    # The sheet (or CSV).
    header_scan_rows: int = 20
    max_columns: int = 256  # columns a header may span (rows are read that wide)
    max_rows: int = 1_048_576  # Excel's own limit
    max_cells_per_row: int = 16_384  # Excel's own limit
    max_cells: int = 10_000_000
    max_row_bytes: int = 1 * MIB  # one row of sheet XML, one CSV line
    max_cell_chars: int = 32_767  # Excel's own limit for one cell's text
    max_shared_strings: int = 2_000_000
    max_shared_strings_bytes: int = 64 * MIB
    # A backstop for what the bounds above cannot see (deeply nested XML): the parsing
    # child's address space. Past it the child fails with `file_too_complex`, not the worker.
    max_parse_memory_bytes: int = 384 * MIB


DEFAULT_LIMITS = Limits()


def number(value: int) -> str:
    """An integer the pt-BR way (1.048.576)."""
    return f"{value:,}".replace(",", ".")


def megabytes(value: int) -> str:
    """A byte count in whole MB, for messages."""
    return f"{value / MIB:.0f} MB"


def too_complex(limit: str, message: str, maximum: int | float | None = None) -> Invalid:
    """The `file_too_complex` error for one bound: a pt-BR message naming it, `details.limit` its name."""
    details: dict[str, object] = {"limit": limit}
    if maximum is not None:
        details["max"] = maximum
    return Invalid("file_too_complex", f"{message} Divida a planilha em arquivos menores.", **details)
