"""Open uploaded spreadsheet bytes safely and stream their rows.

The file type is told by content, never by extension: OOXML workbooks (`.xlsx`, or
`.xls` files that are really OOXML) start with a zip signature; anything else that
reads as text is CSV. Zip archives are vetted from their declared sizes before
anything reads them (Python's zipfile never inflates a member past its declared
size, so the declared sizes bound the work). Rows are streamed: worksheets by the
OOXML reader of `parsing_xlsx`, CSV through an incremental text decoder, and every
stream stops after a long run of blank rows so a sheet padded to a million rows
stays cheap.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from storage.errors import Invalid
from storage.imports.parsing_xlsx import FormulaCell, XlsxSheetReader, XlsxWorkbook, corrupt

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
_CSV_DELIMITERS = (";", ",", "\t")
_BLANK_CSV_BYTES = b" \t\r\n;,\"\x00"
_SCAN_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Bounds that keep a hostile or runaway file from taking the worker down."""

    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 100.0
    # Well-compressed small members are normal (sharedStrings, styles); only big ones are suspicious.
    ratio_check_min_bytes: int = 20 * 1024 * 1024
    max_zip_entries: int = 2000
    max_blank_run: int = 1000
    header_scan_rows: int = 20
    max_columns: int = 256


DEFAULT_LIMITS = Limits()


class Table(Protocol):
    """One sheet (or one CSV reading) whose rows can be streamed any number of times."""

    sheet_name: str | None
    encoding: str | None
    delimiter: str | None

    def records(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (1-based row number, cells) from row 1, stopping after a long blank run."""
        ...

    def validate(self, header_row: int, width: int) -> int:
        """Check the whole table is readable (raise Invalid otherwise); return its data rows, maybe estimated."""
        ...


def is_blank(cells: Iterable[object]) -> bool:
    """Tell whether every cell of a row is empty or whitespace."""
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv"


def sniff(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[str, str | None]:
    """Tell the file type by content: (content type, CSV encoding or None); raise Invalid for unusable files.

    Cheap enough for an upload request: an OOXML zip is vetted from its central
    directory and content types only; a text file is checked for binary bytes.
    Codes: `empty_file`, `unsupported_file_type`, `encrypted_file`, `corrupt_file`,
    `file_too_complex`.
    """
    if not data:
        raise Invalid("empty_file", "O arquivo está vazio.")
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        check_zip(data, limits)
        return XLSX_CONTENT_TYPE, None
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise Invalid(
                "encrypted_file",
                "A planilha está protegida por senha. Remova a senha no Excel e envie o arquivo novamente.",
            )
        raise Invalid(
            "unsupported_file_type",
            "Planilha no formato antigo do Excel (.xls 97-2003) não é suportada. "
            "Abra no Excel e salve como .xlsx, ou exporte como .csv.",
        )
    for magic, kind in _BINARY_MAGICS:
        if data.startswith(magic):
            raise Invalid(
                "unsupported_file_type", f"O arquivo é um(a) {kind}, não uma planilha. Envie .xlsx ou .csv."
            )
    if not data.removeprefix(codecs.BOM_UTF8).translate(None, _BLANK_CSV_BYTES):
        # Only spaces, line breaks and delimiters: an empty sheet saved as CSV.
        raise Invalid("empty_file", "O arquivo está vazio.")
    encoding = detect_encoding(data)
    if encoding != "utf-16" and _looks_binary(data):
        raise Invalid("unsupported_file_type", "Tipo de arquivo não reconhecido. Envie a planilha em .xlsx ou .csv.")
    return CSV_CONTENT_TYPE, encoding


def open_tables(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[Table]:
    """Tell the file type by content and return its candidate tables; raise Invalid for unusable files."""
    content_type, encoding = sniff(data, limits)
    if content_type == XLSX_CONTENT_TYPE:
        return _xlsx_tables(data, limits)
    assert encoding is not None
    return [CsvTable(data, encoding, delimiter, limits) for delimiter in _CSV_DELIMITERS]


def check_zip(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Vet a zip before opening it as a workbook: readable, not encrypted, not a bomb, really a workbook."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _corrupt() from exc
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise _too_complex()
        if any(entry.flag_bits & 0x1 for entry in entries):
            raise Invalid("encrypted_file", "O arquivo está protegido por senha e não pode ser lido.")
        if sum(entry.file_size for entry in entries) > limits.max_uncompressed_bytes:
            raise _too_complex()
        for entry in entries:
            ratio = entry.file_size / max(entry.compress_size, 1)
            if entry.file_size >= limits.ratio_check_min_bytes and ratio > limits.max_compression_ratio:
                raise _too_complex()
        try:
            content_types = _read_capped(archive, "[Content_Types].xml", 1 << 20)
        except KeyError:
            content_types = b""
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise _corrupt() from exc
        if not _WORKBOOK_CONTENT_TYPE.search(content_types):
            raise Invalid(
                "unsupported_file_type",
                "O arquivo compactado não é uma planilha do Excel. Envie .xlsx ou .csv.",
            )


def _too_complex() -> Invalid:
    return Invalid(
        "file_too_complex",
        "O arquivo é grande ou complexo demais para ser importado. Divida a planilha em arquivos menores.",
    )


def _read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    with archive.open(name) as member:
        return member.read(cap)


def detect_encoding(data: bytes) -> str:
    """Pick the text encoding of a CSV: a BOM wins, then strict UTF-8, else Windows-1252 (Excel in Brazil)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        # Validate chunk by chunk so a big file is never decoded into one huge string.
        for start in range(0, len(data), _SCAN_CHUNK):
            decoder.decode(data[start : start + _SCAN_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\n\r\f\v")
    return controls > len(head) // 100


def stop_after_blank_run(rows: Iterable[tuple[int, tuple]], limit: int) -> Iterator[tuple[int, tuple]]:
    """Pass rows through, ending the stream after `limit` consecutive blank rows."""
    run = 0
    for number, cells in rows:
        if is_blank(cells):
            run += 1
            if run >= limit:
                return
        else:
            run = 0
        yield number, cells


def _corrupt() -> Invalid:
    return corrupt()


def _xlsx_tables(data: bytes, limits: Limits) -> list[Table]:
    book = XlsxWorkbook(data, limits.max_blank_run)
    return [XlsxSheet(name, XlsxSheetReader(book, part), limits) for name, part in book.sheets]


class XlsxSheet:
    """One worksheet of an OOXML workbook (cached formula results; uncached formulas as FormulaCell)."""

    encoding = None
    delimiter = None

    def __init__(self, sheet_name: str, reader: XlsxSheetReader, limits: Limits) -> None:
        self.sheet_name = sheet_name
        self.reader = reader
        self._limits = limits

    def records(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (row number, cell values), stopping after a long blank run."""
        yield from stop_after_blank_run(self.reader.rows(max_col), self._limits.max_blank_run)

    def validate(self, header_row: int, width: int) -> int:
        """Check the whole sheet is readable; return an estimate of its data rows (no cell is built)."""
        return max(self.reader.validate() - header_row, 0)


class CsvTable:
    """A CSV file read with one candidate delimiter, decoded incrementally."""

    sheet_name = None

    def __init__(self, data: bytes, encoding: str, delimiter: str, limits: Limits) -> None:
        self._data = data
        self.encoding = encoding
        self.delimiter = delimiter
        self._limits = limits

    def validate(self, header_row: int, width: int) -> int:
        """Read the whole CSV (cheap: the csv module is C) and return its exact count of data rows."""
        return sum(1 for number, cells in self.records(width) if number > header_row and not is_blank(cells))

    def records(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (record number, cells); the record number is the row Excel would show."""
        # errors="replace": the few bytes cp1252 leaves undefined must not sink the whole file.
        stream = io.TextIOWrapper(io.BytesIO(self._data), encoding=self.encoding, errors="replace", newline="")
        reader = csv.reader(stream, delimiter=self.delimiter)
        rows = ((number, tuple(row[:max_col])) for number, row in enumerate(reader, start=1))
        try:
            yield from stop_after_blank_run(rows, self._limits.max_blank_run)
        except csv.Error as exc:  # e.g. a field over csv's size limit, a NUL byte
            raise _corrupt() from exc
        finally:
            stream.close()
