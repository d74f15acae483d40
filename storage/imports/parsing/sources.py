"""Open uploaded spreadsheets safely and stream their rows.

The file type is told by content, never by extension: OOXML workbooks (`.xlsx`, or
`.xls` files that are really OOXML) start with a zip signature; anything else that
reads as text is CSV. Zip archives are vetted from their declared sizes before
anything reads them (Python's zipfile never inflates a deflated member past its
declared size, so the declared sizes bound the work; other compression methods are
refused). Rows are streamed: worksheets by the OOXML reader of `parsing_xlsx`, CSV
through an incremental text decoder, line by line with each line bounded. Nothing is
skipped on the quiet: blank rows cost little, and a data row after a million blank
ones is read like any other.

A source is the uploaded bytes or a path to them (the worker spools an upload to a
temporary file, never to memory); `sniff` also takes an open seekable binary file.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Protocol

from storage.errors import Invalid
from storage.imports.parsing.limits import DEFAULT_LIMITS, Limits, megabytes, number, too_complex
from storage.imports.parsing.xlsx import FormulaCell, Source, XlsxSheetReader, XlsxWorkbook, corrupt

__all__ = [
    "DEFAULT_LIMITS", "FormulaCell", "Limits", "Source", "Table", "check_head", "check_zip", "detect_encoding",
    "expanded_size", "is_blank", "open_tables", "sniff",
]

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An Office file encrypted with a password is an OLE container holding this stream.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_BINARY_MAGICS = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "imagem PNG"),
    (b"\xff\xd8\xff", "imagem JPEG"),
    (b"GIF8", "imagem GIF"),
    (b"\x1f\x8b", "arquivo gzip"),
    (b"Rar!", "arquivo RAR"),
    (b"7z\xbc\xaf", "arquivo 7-Zip"),
    (b"{\\rtf", "documento RTF"),
)
# The workbook part's content type: .xlsx, .xltx, .xlsm and .xltm all declare one.
_WORKBOOK_CONTENT_TYPE = re.compile(rb"(?:spreadsheetml|ms-excel)\.(?:sheet|template)(?:\.macroEnabled)?\.main\+xml")
# What Excel writes; other methods (bzip2, lzma) inflate without zipfile's bound on each read.
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CSV_DELIMITERS = (";", ",", "\t")
_BLANK_CSV_BYTES = b" \t\r\n;,\"\x00"
_SCAN_CHUNK = 1 << 20
HEAD_BYTES = 8192


class Table(Protocol):
    """One sheet (or one CSV reading) whose rows can be streamed any number of times."""

    sheet_name: str | None
    encoding: str | None
    delimiter: str | None

    def records(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (1-based row number, cells) in file order; rows with nothing in them may be left out."""
        ...

    def validate(self, header_row: int, width: int) -> int:
        """Check the whole table is readable and within the limits (raise Invalid otherwise); return its data
        rows, maybe estimated."""
        ...


def is_blank(cells: Iterable[object]) -> bool:
    """Tell whether every cell of a row is empty or whitespace."""
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv"


@contextmanager
def _binary(source: Source | IO[bytes]) -> Iterator[IO[bytes]]:
    """The source as a binary file read from its start (a file passed in is rewound, not closed)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            yield file
    else:
        source.seek(0)
        yield source


def check_head(head: bytes) -> None:
    """Refuse, from its first bytes alone, a file that is surely no spreadsheet (PDF, image, archive):
    Invalid `unsupported_file_type`."""
    for magic, kind in _BINARY_MAGICS:
        if head.startswith(magic):
            raise Invalid(
                "unsupported_file_type", f"O arquivo é um(a) {kind}, não uma planilha. Envie .xlsx ou .csv."
            )


def sniff(source: Source | IO[bytes], limits: Limits = DEFAULT_LIMITS) -> tuple[str, str | None]:
    """Tell the file type by content: (content type, CSV encoding or None); raise Invalid for unusable files.

    Cheap enough for an upload request, and reads in chunks: an OOXML zip is vetted
    from its central directory and content types only; a text file is checked for
    binary bytes. Codes: `empty_file`, `unsupported_file_type`, `encrypted_file`,
    `corrupt_file`, `file_too_complex`.
    """
    with _binary(source) as stream:
        head = stream.read(HEAD_BYTES)
        if not head:
            raise Invalid("empty_file", "O arquivo está vazio.")
        if head.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
            check_zip(stream, limits)
            return XLSX_CONTENT_TYPE, None
        if head.startswith(OLE_MAGIC):
            if _contains(stream, _ENCRYPTED_PACKAGE):
                raise Invalid(
                    "encrypted_file",
                    "A planilha está protegida por senha. Remova a senha no Excel e envie o arquivo novamente.",
                )
            raise Invalid(
                "unsupported_file_type",
                "Planilha no formato antigo do Excel (.xls 97-2003) não é suportada. "
                "Abra no Excel e salve como .xlsx, ou exporte como .csv.",
            )
        check_head(head)
        if _only_blank_csv(stream):
            # Only spaces, line breaks and delimiters: an empty sheet saved as CSV.
            raise Invalid("empty_file", "O arquivo está vazio.")
        encoding = detect_encoding(stream)
        if encoding != "utf-16" and _looks_binary(head):
            raise Invalid(
                "unsupported_file_type", "Tipo de arquivo não reconhecido. Envie a planilha em .xlsx ou .csv."
            )
        return CSV_CONTENT_TYPE, encoding


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    stream.seek(0)
    while chunk := stream.read(_SCAN_CHUNK):
        yield chunk


def _contains(stream: IO[bytes], needle: bytes) -> bool:
    tail = b""
    for chunk in _chunks(stream):
        if needle in tail + chunk[: len(needle)] or needle in chunk:
            return True
        tail = chunk[-len(needle) :]
    return False


def _only_blank_csv(stream: IO[bytes]) -> bool:
    first = True
    for chunk in _chunks(stream):
        if first:
            chunk, first = chunk.removeprefix(codecs.BOM_UTF8), False
        if chunk.translate(None, _BLANK_CSV_BYTES):
            return False
    return True


def open_tables(source: Source, limits: Limits = DEFAULT_LIMITS) -> list[Table]:
    """Tell the file type by content and return its candidate tables; raise Invalid for unusable files."""
    content_type, encoding = sniff(source, limits)
    if content_type == XLSX_CONTENT_TYPE:
        return _xlsx_tables(source, limits)
    assert encoding is not None
    opener = _opener(source)
    return [CsvTable(opener, encoding, delimiter, limits) for delimiter in _CSV_DELIMITERS]


def _opener(source: Source) -> Callable[[], IO[bytes]]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return lambda: io.BytesIO(source)
    if isinstance(source, (str, os.PathLike)):
        return lambda: open(source, "rb")
    raise TypeError("a table is read from bytes or from a path")


def expanded_size(source: Source) -> int:
    """How many bytes parsing the source reads: a workbook's declared uncompressed size, else its size."""
    with _binary(source) as stream:
        try:
            with zipfile.ZipFile(stream) as archive:
                return sum(entry.file_size for entry in archive.infolist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            return stream.seek(0, io.SEEK_END)


def check_zip(file: IO[bytes] | bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Vet a zip before opening it as a workbook: readable, not encrypted, not a bomb, really a workbook."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(file) if isinstance(file, (bytes, bytearray)) else file)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise corrupt() from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise too_complex(
                "zip_entries",
                f"O arquivo compactado tem mais de {number(limits.max_zip_entries)} partes (limite da importação).",
                limits.max_zip_entries,
            )
        if any(entry.flag_bits & 0x1 for entry in entries):
            raise Invalid("encrypted_file", "O arquivo está protegido por senha e não pode ser lido.")
        if any(entry.compress_type not in _ZIP_METHODS for entry in entries):
            raise too_complex(
                "compression_method",
                "O arquivo usa um método de compressão que o Excel não usa e que a importação não aceita.",
            )
        if sum(entry.file_size for entry in entries) > limits.max_uncompressed_bytes:
            raise too_complex(
                "uncompressed_bytes",
                f"O conteúdo descompactado do arquivo passa de {megabytes(limits.max_uncompressed_bytes)} "
                "(limite da importação).",
                limits.max_uncompressed_bytes,
            )
        for entry in entries:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if entry.file_size >= limits.ratio_check_min_bytes and ratio > limits.max_compression_ratio:
                raise too_complex(
                    "compression_ratio",
                    f"Uma parte do arquivo se expande mais de {limits.max_compression_ratio:.0f} vezes ao ser "
                    "descompactada (típico de um arquivo malicioso).",
                    limits.max_compression_ratio,
                )
        try:
            content_types = _read_capped(archive, "[Content_Types].xml", 1 << 20)
        except KeyError:
            content_types = b""
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise corrupt() from exc
        if not _WORKBOOK_CONTENT_TYPE.search(content_types):
            raise Invalid(
                "unsupported_file_type",
                "O arquivo compactado não é uma planilha do Excel. Envie .xlsx ou .csv.",
            )


def _read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    with archive.open(name) as member:
        return member.read(cap)


def detect_encoding(source: IO[bytes] | bytes) -> str:
    """Pick the text encoding of a CSV: a BOM wins, then strict UTF-8, else Windows-1252 (Excel in Brazil)."""
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    stream.seek(0)
    head = stream.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # Validate chunk by chunk so a big file is never decoded into one huge string.
        for chunk in _chunks(stream):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _looks_binary(data: bytes) -> bool:
    head = data[:HEAD_BYTES]
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\n\r\f\v")
    return controls > len(head) // 100


def _xlsx_tables(source: Source, limits: Limits) -> list[Table]:
    book = XlsxWorkbook(source, limits)
    return [XlsxSheet(name, XlsxSheetReader(book, part)) for name, part in book.sheets]


class XlsxSheet:
    """One worksheet of an OOXML workbook (cached formula results; uncached formulas as FormulaCell)."""

    encoding = None
    delimiter = None

    def __init__(self, sheet_name: str, reader: XlsxSheetReader) -> None:
        self.sheet_name = sheet_name
        self.reader = reader

    def records(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (row number, cell values) for the rows that have cells."""
        yield from self.reader.rows(max_col)

    def validate(self, header_row: int, width: int) -> int:
        """Check the whole sheet is readable and within the limits; return an estimate of its data rows."""
        return max(self.reader.validate() - header_row, 0)


class CsvTable:
    """A CSV file read with one candidate delimiter, decoded incrementally, each line bounded."""

    sheet_name = None

    def __init__(self, opener: Callable[[], IO[bytes]], encoding: str, delimiter: str, limits: Limits) -> None:
        self._open = opener
        self.encoding = encoding
        self.delimiter = delimiter
        self._limits = limits

    def validate(self, header_row: int, width: int) -> int:
        """Read the whole CSV (cheap: the csv module is C) and return its exact count of data rows."""
        return sum(1 for number_, cells in self.records(width) if number_ > header_row and not is_blank(cells))

    def records(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (record number, cells); the record number is the row Excel would show."""
        limits = self._limits
        total = 0
        with self._open() as raw:
            # errors="replace": the few bytes cp1252 leaves undefined must not sink the whole file.
            stream = io.TextIOWrapper(raw, encoding=self.encoding, errors="replace", newline="")
            try:
                reader = csv.reader(_bounded_lines(stream, limits), delimiter=self.delimiter)
                for number_, row in enumerate(reader, start=1):
                    if number_ > limits.max_rows:
                        raise too_complex(
                            "rows", f"O arquivo passa de {number(limits.max_rows)} linhas (o limite do Excel).",
                            limits.max_rows,
                        )
                    if len(row) > limits.max_cells_per_row:
                        raise too_complex(
                            "cells_per_row",
                            f"A linha {number_} do arquivo tem mais de {number(limits.max_cells_per_row)} colunas "
                            "(o limite do Excel).",
                            limits.max_cells_per_row,
                        )
                    if any(row):  # blank lines (only delimiters) cost next to nothing: not counted
                        total += len(row)
                    if total > limits.max_cells:
                        raise too_complex(
                            "cells",
                            f"O arquivo tem mais de {number(limits.max_cells)} células (limite da importação).",
                            limits.max_cells,
                        )
                    yield number_, tuple(row[:max_col])
            except csv.Error as exc:  # e.g. a field over csv's size limit, a NUL byte
                raise corrupt() from exc
            finally:
                stream.detach()


def _bounded_lines(stream: io.TextIOBase, limits: Limits) -> Iterator[str]:
    """The lines of a text stream, refusing one longer than the row limit before it is held whole."""
    limit = limits.max_row_bytes
    count = 0
    while line := stream.readline(limit):
        count += 1
        if len(line) >= limit and line[-1] not in "\r\n":
            raise too_complex(
                "row_bytes",
                f"A linha {count} do arquivo passa de {number(limit)} caracteres (limite por linha).",
                limit,
            )
        yield line
