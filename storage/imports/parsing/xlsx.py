"""A streaming reader of OOXML worksheets (.xlsx, and `.xls` files that are really OOXML).

openpyxl builds a Python object per cell and needs a second reader to see the text of
formulas saved without a value; on a 100k-row export that is over a minute. This
reader decompresses the sheet part in chunks, cuts it into `<row>` fragments and reads
the cells of each fragment with one regular expression (the shape every known writer
uses: DasaExp's inline strings, Excel's shared strings and numbers). A row holding
anything else (formulas, rich text, CDATA, comments, odd quoting, namespace prefixes)
is read by a general, slower path with the same results. Every byte of the part also
goes through expat without handlers, so a malformed or truncated sheet is refused as
corrupt instead of being read halfway. Values come out as openpyxl would give them in
read-only mode (strings, ints, floats, bools, datetimes for date-styled numbers), and a
formula without a cached value as `FormulaCell`.

Nothing here holds more than the `Limits` allow: the shared strings sit in one UTF-8
buffer (a few bytes of overhead per string, not a Python object each) and are bounded
in count, size and length; rows are bounded in bytes, cells and number, the sheet in
cells; small parts (workbook, relationships, styles) are streamed through expat with
their size and nesting bounded. No part may declare a DTD (entity expansion is the
classic XML bomb): expat is set to refuse one, as defusedxml does.
"""

from __future__ import annotations

import codecs
import html
import io
import os
import posixpath
import re
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import IO, Any, Union
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from storage.errors import Invalid
from storage.imports.parsing.limits import DEFAULT_LIMITS, Limits, megabytes, number, too_complex

# Uploaded bytes, a path to them, or an open binary file.
Source = Union[bytes, bytearray, str, os.PathLike, IO[bytes]]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_WORKSHEET_REL = "/worksheet"
_OFFICE_DOCUMENT_REL = "/officeDocument"
_CHUNK = 1 << 20

# The common cell shapes, on decoded text: `<c r="B2" [s=".." t=".."]>` then an inline
# string, a value, nothing, or a self-closing tag. Groups: column letters, the other
# attributes (a trailing "/" when self-closing), the text of the inline string or value.
# Anything else inside a cell (a formula, rich text, CDATA, a comment) fails the whole
# match, so the row's count of matches falls short of its count of `<c` and the row
# goes the general way; so do cells without `r`, single-quoted and bare `<c>`.
_FAST_CELL = re.compile(
    r'<c r="([A-Z]{1,3})\d+"([^>]*)>(?:(?<=/>)|(?:<is><t[^>]*>|<v>)?([^<]*)(?:</t></is>|</v>|</is>)?</c>)'
)
_AFTER_ROW = (b" ", b">", b"/", b"\t", b"\n", b"\r")
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ROW_NUMBER = re.compile(rb"\br\s*=\s*[\"'](\d+)[\"']")
_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d*)$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_SST_START = re.compile(r"<([\w.-]+:)?sst\b([^>]*?)(/?)>")
_UNIQUE_COUNT = re.compile(r"\buniqueCount\s*=\s*[\"'](\d{1,18})[\"']")


@dataclass(frozen=True)
class FormulaCell:
    """A formula cell saved without a cached value: formulas are never evaluated here."""

    formula: str


def corrupt() -> Invalid:
    """The error for a file that cannot be read to the end."""
    return Invalid("corrupt_file", "O arquivo está corrompido ou incompleto e não pôde ser lido.")


def out_of_memory(limits: Limits = DEFAULT_LIMITS) -> Invalid:
    """The error for a file whose reading needed more memory than the parser may use."""
    return too_complex(
        "memory",
        f"A leitura do arquivo precisou de mais memória que o limite de {megabytes(limits.max_parse_memory_bytes)} "
        "(estrutura XML aninhada ou repetitiva demais).",
        limits.max_parse_memory_bytes,
    )


def unreadable(exc: BaseException, limits: Limits = DEFAULT_LIMITS) -> Invalid:
    """The error for a failure while reading a part: out of memory is `file_too_complex`, the rest `corrupt_file`."""
    if isinstance(exc, MemoryError):
        return out_of_memory(limits)
    if isinstance(exc, expat.ExpatError) and exc.code == expat.errors.codes[expat.errors.XML_ERROR_NO_MEMORY]:
        return out_of_memory(limits)
    return corrupt()


def _row_too_big(row: int | None, limits: Limits) -> Invalid:
    which = f"A linha {row}" if row else "Uma linha"
    return too_complex(
        "row_bytes", f"{which} da planilha passa de {megabytes(limits.max_row_bytes)} (limite por linha).",
        limits.max_row_bytes,
    )


class SharedStrings:
    """The shared string table, compact: one UTF-8 buffer and each string's end offset (8 bytes a string)."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, index: int) -> str:
        start = self._ends[index - 1] if index > 0 else 0
        return self._data[start : self._ends[index]].decode()

    def append(self, text: str, limits: Limits) -> None:
        """Add a string, refusing a table past the limits (count, total size, one cell's length)."""
        if len(text) > limits.max_cell_chars:
            raise too_complex(
                "cell_chars",
                f"Uma célula da planilha passa de {number(limits.max_cell_chars)} caracteres (o limite do Excel).",
                limits.max_cell_chars,
            )
        if len(self._ends) >= limits.max_shared_strings:
            raise _too_many_strings(limits)
        self._data += text.encode()
        if len(self._data) > limits.max_shared_strings_bytes:
            raise too_complex(
                "shared_strings_bytes",
                f"Os textos da planilha passam de {megabytes(limits.max_shared_strings_bytes)} "
                "(limite da importação).",
                limits.max_shared_strings_bytes,
            )
        self._ends.append(len(self._data))


def _too_many_strings(limits: Limits) -> Invalid:
    return too_complex(
        "shared_strings",
        f"A planilha tem mais de {number(limits.max_shared_strings)} textos distintos (limite da importação).",
        limits.max_shared_strings,
    )


class _Strings:
    """Regular expressions of the shared string table, for a namespace prefix ('' or 'x:')."""

    def __init__(self, prefix: str) -> None:
        p = re.escape(prefix)
        self.item = re.compile(rf"<{p}si\b[^>]*?(?:/>|>(.*?)</{p}si>)", re.S)
        self.simple = re.compile(rf"<{p}t(?:\s[^>]*)?>([^<]*)</{p}t>")
        self.text = re.compile(rf"<{p}t\b[^>]*?(?:/>|>(.*?)</{p}t>)", re.S)
        self.phonetic = re.compile(rf"<{p}rPh\b.*?</{p}rPh>", re.S)

    def text_of(self, body: str | None) -> str:
        """The text of one `<si>`: its `<t>`, or its rich-text runs joined (phonetic runs left out)."""
        if not body:
            return ""
        simple = self.simple.fullmatch(body)
        if simple is not None:
            return _text(simple.group(1)) or ""
        body = self.phonetic.sub("", body)
        return "".join(_text(part) or "" for part in self.text.findall(body))


class _General:
    """Regular expressions of the general path, for a namespace prefix ('' or 'x:')."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        p = re.escape(prefix)
        self.cell = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)", re.S)
        self.formula = re.compile(rf"<{p}f\b([^>]*?)(?:/>|>(.*?)</{p}f>)", re.S)
        self.value = re.compile(rf"<{p}v\b[^>]*?(?:/>|>(.*?)</{p}v>)", re.S)
        self.inline = re.compile(rf"<{p}is\b[^>]*?(?:/>|>(.*?)</{p}is>)", re.S)
        self.text = re.compile(rf"<{p}t\b[^>]*?(?:/>|>(.*?)</{p}t>)", re.S)
        self.phonetic = re.compile(rf"<{p}rPh\b.*?</{p}rPh>", re.S)


def _text(raw: str | None) -> str | None:
    """XML character data as text: CDATA kept, entities decoded, line ends normalised."""
    if raw is None:
        return None
    if "<![CDATA[" in raw:
        pieces = _CDATA.split(raw)
        raw = "".join(html.unescape(p) if i % 2 == 0 else p for i, p in enumerate(pieces))
    elif "&" in raw:
        raw = html.unescape(raw)
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return raw


def _number(text: str) -> int | float:
    if "." in text or "E" in text or "e" in text:
        return float(text)
    return int(text)


_COLUMNS: dict[str, int] = {}


def column_index(letters: str) -> int:
    """0-based column index of column letters ('A' -> 0, 'AD' -> 29)."""
    index = _COLUMNS.get(letters)
    if index is None:
        index = 0
        for char in letters.upper():
            index = index * 26 + (ord(char) - 64)
        index -= 1
        _COLUMNS[letters] = index
    return index


class XlsxWorkbook:
    """An OOXML workbook: its worksheets in order, shared strings and date styles."""

    def __init__(self, source: Source, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        file = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
        try:
            self._archive = zipfile.ZipFile(file)
            workbook_part = self._office_document()
            wanted = (f"{{{MAIN_NS}}}sheet", f"{{{MAIN_NS}}}workbookPr")
            elements = self._elements(workbook_part, lambda parent, tag: tag in wanted)
            rels = self._relationships(workbook_part)
        except Invalid:
            raise
        except (KeyError, expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError,
                MemoryError) as exc:
            raise unreadable(exc, limits) from exc
        properties = next((attrs for tag, attrs in elements if tag == wanted[1]), {})
        date1904 = properties.get("date1904", "").lower() in ("1", "true")
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self._workbook_part = workbook_part
        self._rels = rels
        self.sheets: list[tuple[str, str]] = []
        for tag, attrs in elements:
            target = rels.get(attrs.get(f"{{{_REL_NS}}}id") or "") if tag == wanted[0] else None
            if target and target[0].endswith(_WORKSHEET_REL):
                self.sheets.append((attrs.get("name") or "", target[1]))

    def open_part(self, name: str):
        """Open a zip member for streaming."""
        return self._archive.open(name)

    def _office_document(self) -> str:
        try:
            rels = self._elements("_rels/.rels", lambda parent, tag: tag == f"{{{_PKG_REL_NS}}}Relationship")
        except KeyError:
            return "xl/workbook.xml"
        for _, rel in rels:
            if (rel.get("Type") or "").endswith(_OFFICE_DOCUMENT_REL):
                return (rel.get("Target") or "").lstrip("/")
        return "xl/workbook.xml"

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        try:
            rels = self._elements(
                posixpath.join(folder, "_rels", f"{name}.rels"),
                lambda parent, tag: tag == f"{{{_PKG_REL_NS}}}Relationship",
            )
        except KeyError:
            return {}
        result = {}
        for _, rel in rels:
            target = rel.get("Target") or ""
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            result[rel.get("Id") or ""] = (rel.get("Type") or "", path)
        return result

    def _elements(self, name: str, wanted: Callable[[str, str], bool]) -> list[tuple[str, dict[str, str]]]:
        """Stream a small part through expat (no DTD, size and nesting bounded): the elements `wanted(parent, tag)`
        picks, as (`{namespace}tag`, attributes), in document order. Raises KeyError for a missing part."""
        limits = self.limits
        found: list[tuple[str, dict[str, str]]] = []
        stack = [""]
        parser = _parser(namespaces=True)

        def start(tag: str, attrs: dict[str, str]) -> None:
            if len(stack) > limits.max_xml_depth:
                raise _too_deep(limits)
            tag = _clark(tag)
            if wanted(stack[-1], tag):
                found.append((tag, {_clark(key): value for key, value in attrs.items()}))
            stack.append(tag)

        parser.StartElementHandler = start
        parser.EndElementHandler = lambda tag: stack.pop()
        size = 0
        with self._archive.open(name) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                if size > limits.max_part_bytes:
                    raise too_complex(
                        "part_bytes",
                        f"Uma parte do arquivo ({posixpath.basename(name)}) passa de "
                        f"{megabytes(limits.max_part_bytes)} (limite da importação).",
                        limits.max_part_bytes,
                    )
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
        return found

    def _part_of_type(self, suffix: str) -> str | None:
        for rel_type, path in self._rels.values():
            if rel_type.endswith(suffix):
                return path
        return None

    @cached_property
    def shared_strings(self) -> SharedStrings:
        """The shared string table (rich text flattened, phonetic runs left out), bounded by the limits."""
        part = self._part_of_type("/sharedStrings")
        if part is None:
            return SharedStrings()
        try:
            return self._read_shared_strings(part)
        except Invalid:
            raise
        except (KeyError, expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
                UnicodeDecodeError, MemoryError) as exc:
            raise unreadable(exc, self.limits) from exc

    def load_shared_strings(self) -> None:
        """Read the shared string table now if the workbook has one, so its bounds are checked up front."""
        part = self._part_of_type("/sharedStrings")
        if part is not None and part in self._archive.NameToInfo:
            self.shared_strings  # noqa: B018

    def _read_shared_strings(self, part: str) -> SharedStrings:
        # The shape every writer uses (`<si><t>…</t></si>`, rich-text runs) read with regular expressions
        # on decoded text, while expat validates the same bytes: C speed, no element objects.
        limits = self.limits
        strings = SharedStrings()
        validator = _parser()
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        pending = ""
        pattern: _Strings | None = None
        with self._archive.open(part) as member:
            while True:
                chunk = member.read(_CHUNK)
                try:
                    validator.Parse(chunk, not chunk)
                except (expat.ExpatError, MemoryError):
                    validator = None  # what expat held goes now: see _fragments
                    raise
                pending += decoder.decode(chunk, final=not chunk)
                if pattern is None:
                    start = _SST_START.search(pending)
                    if start is None:
                        if not chunk:
                            return strings
                        pending = pending[-512:]  # keep a tail: the tag may straddle chunks
                        continue
                    declared = _UNIQUE_COUNT.search(start.group(2))
                    if declared is not None and int(declared.group(1)) > limits.max_shared_strings:
                        raise _too_many_strings(limits)
                    pattern = _Strings(start.group(1) or "")
                    pending = "" if start.group(3) else pending[start.end() :]
                done = 0
                for item in pattern.item.finditer(pending):
                    strings.append(pattern.text_of(item.group(1)), limits)
                    done = item.end()
                pending = pending[done:]
                if len(pending) > limits.max_row_bytes:
                    # One string this long is past the cell limit anyway.
                    raise too_complex(
                        "cell_chars",
                        f"Uma célula da planilha passa de {number(limits.max_cell_chars)} caracteres "
                        "(o limite do Excel).",
                        limits.max_cell_chars,
                    )
                if not chunk:
                    return strings

    @cached_property
    def date_styles(self) -> frozenset[int]:
        """Indexes of the cell styles whose number format is a date or time."""
        part = self._part_of_type("/styles")
        if part is None:
            return frozenset()
        num_fmt, xf, cell_xfs = f"{{{MAIN_NS}}}numFmt", f"{{{MAIN_NS}}}xf", f"{{{MAIN_NS}}}cellXfs"
        try:
            elements = self._elements(
                part, lambda parent, tag: tag == num_fmt or (tag == xf and parent == cell_xfs)
            )
        except Invalid:
            raise
        except (KeyError, expat.ExpatError, zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
                MemoryError) as exc:
            raise unreadable(exc, self.limits) from exc
        formats = dict(BUILTIN_FORMATS)
        for tag, attrs in elements:
            if tag == num_fmt:
                try:
                    formats[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode") or ""
                except ValueError:
                    continue
        result = set()
        for index, attrs in enumerate(attrs for tag, attrs in elements if tag == xf):
            try:
                code = formats.get(int(attrs.get("numFmtId", "0")), "")
            except ValueError:
                continue
            if code and is_date_format(code):
                result.add(index)
        return frozenset(result)


def _clark(name: str) -> str:
    """expat's `namespace}local` as ElementTree's `{namespace}local`."""
    return "{" + name if "}" in name else name


class XlsxSheetReader:
    """One worksheet, streamed row by row; every row is checked against the workbook's limits."""

    def __init__(self, book: XlsxWorkbook, part: str) -> None:
        self._book = book
        self._part = part
        self._validated = False  # a full pass checked the XML: later passes skip expat
        self._estimate = 0
        self.force_general = False  # tests read through the general path only

    def rows(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (1-based row number, cells padded to max_col) for each row that has cells, in file order.

        Rows the sheet leaves out, and empty `<row/>` elements, are skipped without a
        yield, however many: a data row a million rows down is read like any other.
        """
        try:
            yield from self._rows(max_col)
        except Invalid:
            raise
        except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, IndexError,
                KeyError, OverflowError, UnicodeDecodeError, MemoryError) as exc:
            raise unreadable(exc, self._book.limits) from exc

    def validate(self) -> int:
        """Read the whole sheet part through expat and check every row against the limits (no cell is built);
        return the count of rows with cells (an estimate of the data rows).

        Raises Invalid `corrupt_file` for a malformed sheet, `file_too_complex` past a
        limit (the shared strings are loaded, and so bounded, here too). After this,
        streaming the rows cannot fail on the file's account: values that do not fit
        their type are read as text.
        """
        if self._validated:
            return self._estimate
        try:
            self._book.load_shared_strings()  # now, so a bound is hit before any row is applied
            estimate = sum(1 for _ in self._checked_rows())
        except Invalid:
            raise
        except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
                MemoryError) as exc:
            raise unreadable(exc, self._book.limits) from exc
        self._validated = True
        self._estimate = estimate
        return estimate

    def _fragments(self) -> Iterator[tuple[str, bytes]]:
        """Yield (namespace prefix, row fragment as bytes, starting after `<row`) for each row of sheetData."""
        validator = None if self._validated else _parser()
        limit = self._book.limits.max_row_bytes + _CHUNK
        pending = b""
        prefix: str | None = None
        row_start = end_tag = b""
        done = skip_first = False
        with self._book.open_part(self._part) as member:
            while True:
                chunk = member.read(_CHUNK)
                if validator is not None:
                    try:
                        validator.Parse(chunk, not chunk)
                    except (expat.ExpatError, MemoryError):
                        # A part nesting millions of elements makes expat hold them all; free that now, so
                        # what handles the failure (at the parsing child's memory limit) has room to report it.
                        validator = None
                        raise
                if done:
                    if not chunk:
                        break
                    continue  # past </sheetData>: only the validator still reads
                pending += chunk
                if prefix is None:
                    match = re.search(rb"<([\w.-]+:)?sheetData\b[^>]*?(/?)>", pending)
                    if match is None:
                        if not chunk:
                            return
                        pending = pending[-256:]  # keep a tail: the tag may straddle chunks
                        continue
                    prefix = (match.group(1) or b"").decode()
                    row_start = b"<" + prefix.encode() + b"row"
                    end_tag = b"</" + prefix.encode() + b"sheetData>"
                    if match.group(2):  # <sheetData/>: no rows
                        done = True
                        pending = b""
                        continue
                    pending = pending[match.end():]
                    skip_first = True
                end = pending.find(end_tag)
                if end >= 0:
                    pending, done = pending[:end], True
                pieces = pending.split(row_start)
                if skip_first and (len(pieces) > 1 or done or not chunk):
                    pieces[0] = b""  # whatever sits between <sheetData> and the first <row>
                    skip_first = False
                # The last piece may be an unfinished row: keep it for the next chunk.
                pending = b"" if done or not chunk else pieces.pop()
                if len(pending) > limit:
                    # The unfinished row starts with its own attributes: name it by its number if it has one.
                    head = pending[: pending.find(b">")] if pending[:1] in _AFTER_ROW else b""
                    number_ = _ROW_NUMBER.search(head)
                    raise _row_too_big(int(number_.group(1)) if number_ else None, self._book.limits)
                for piece in pieces:
                    if piece:
                        yield prefix, piece
                if not chunk:
                    break
        self._validated = validator is not None or self._validated

    def _checked_rows(self) -> Iterator[tuple[str, int, bytes]]:
        """Yield (namespace prefix, row number, the row's content after its start tag) for each row with cells,
        raising `file_too_complex` at the first row past a limit: its size, its number, its cells, the sheet's cells."""
        limits = self._book.limits
        previous = total_cells = 0
        cell_tags: dict[str, re.Pattern[bytes]] = {}
        for prefix, fragment in self._fragments():
            head_end = fragment.find(b">")
            if head_end < 0 or fragment[:1] not in _AFTER_ROW:
                continue  # `<rowXyz`, not a row
            head = fragment[:head_end]
            match = _ROW_NUMBER.search(head)
            number_ = int(match.group(1)) if match else previous + 1
            if number_ > limits.max_rows:
                raise too_complex(
                    "rows", f"A planilha passa de {number(limits.max_rows)} linhas (o limite do Excel).",
                    limits.max_rows,
                )
            if len(fragment) > limits.max_row_bytes:
                raise _row_too_big(number_, limits)
            previous = max(previous, number_)
            if head.endswith(b"/"):
                continue  # <row r=".."/>: an empty row
            cell_tag = cell_tags.get(prefix)
            if cell_tag is None:
                cell_tag = cell_tags[prefix] = re.compile(rb"<" + re.escape(prefix.encode()) + rb"c[\s/>]")
            cells = len(cell_tag.findall(fragment))
            if cells > limits.max_cells_per_row:
                raise too_complex(
                    "cells_per_row",
                    f"A linha {number_} da planilha tem mais de {number(limits.max_cells_per_row)} células "
                    "(o limite do Excel).",
                    limits.max_cells_per_row,
                )
            total_cells += cells
            if total_cells > limits.max_cells:
                raise too_complex(
                    "cells", f"A planilha tem mais de {number(limits.max_cells)} células (limite da importação).",
                    limits.max_cells,
                )
            yield prefix, number_, fragment[head_end + 1 :]

    def _rows(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        kinds: dict[str, tuple[str, int]] = {}
        general: _General | None = None
        for prefix, number_, raw in self._checked_rows():
            body = raw.decode()
            cells = [None] * max_col
            # CR line ends must become LF as an XML parser would: the general path does that.
            if not prefix and not self.force_general and b"\r" not in raw:
                found = _FAST_CELL.findall(body)
                if len(found) == raw.count(b"<c"):
                    self._fill_fast(found, cells, kinds, max_col)
                    yield number_, tuple(cells)
                    continue
            if general is None or general.prefix != prefix:
                general = _General(prefix)
            self._fill_general(general, body, cells, max_col)
            yield number_, tuple(cells)

    def _fill_fast(self, found: list[tuple[str, str, str]], cells: list, kinds: dict, max_col: int) -> None:
        columns = _COLUMNS
        for letters, attrs, text in found:
            try:
                index = columns[letters]
            except KeyError:
                index = column_index(letters)
            if index >= max_col:
                continue
            if attrs == ' t="inlineStr"':
                # `<c t="inlineStr"></c>` (openpyxl's empty string) reads as empty, as openpyxl reads it.
                cells[index] = (html.unescape(text) if "&" in text else text) or None
                continue
            kind = kinds.get(attrs)
            if kind is None:
                kind = kinds[attrs] = _kind(attrs)
            if kind is _INLINE:
                cells[index] = html.unescape(text) if "&" in text else text
            elif text and not attrs.endswith("/"):
                cells[index] = self._value(kind[0], kind[1], html.unescape(text) if "&" in text else text)

    def _fill_general(self, general: _General, body: str, cells: list, max_col: int) -> None:
        body = _COMMENT.sub("", body)
        column = -1
        for attrs_text, inner in general.cell.findall(body):
            attrs = {name.split(":")[-1]: a if a else b for name, a, b in _ATTR.findall(attrs_text)}
            ref = _CELL_REF.match(attrs.get("r", ""))
            column = column_index(ref.group(1)) if ref else column + 1
            if column >= max_col:
                continue
            cell_type = attrs.get("t", "n")
            style = int(attrs.get("s") or 0)
            formula = general.formula.search(inner) if inner else None
            value_match = general.value.search(inner) if inner else None
            value = _text(value_match.group(1)) if value_match else None
            if cell_type == "inlineStr":
                inline = general.inline.search(inner or "")
                if inline is not None:
                    text = general.phonetic.sub("", inline.group(1) or "")
                    cells[column] = "".join(_text(t) or "" for t in general.text.findall(text))
                    continue
            if value:
                cells[column] = self._value(cell_type, style, value)
            elif formula is not None:
                formula_attrs = {n.split(":")[-1]: a if a else b for n, a, b in _ATTR.findall(formula.group(1))}
                if formula_attrs.get("t") == "dataTable":
                    cells[column] = FormulaCell("=TABLE()")
                else:
                    cells[column] = FormulaCell("=" + (_text(formula.group(2)) or ""))

    def _value(self, cell_type: str, style: int, text: str) -> Any:
        """A cell's value by type. Never raises: a value that does not fit its type comes back as its
        text, so a sheet that passed validation cannot fail halfway through an import."""
        try:
            if cell_type == "n":
                number = _number(text)
                if style and style in self._book.date_styles:
                    try:
                        return from_excel(number, self._book.epoch)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
                return number
            if cell_type == "s":
                strings = self._book.shared_strings
                index = int(text)
                return strings[index] if 0 <= index < len(strings) else "#REF!"
            if cell_type == "b":
                return bool(int(text))
            if cell_type == "d":
                return from_ISO8601(text)
        except (ValueError, TypeError, OverflowError):
            return text
        return text  # "str" (a formula's text result), "e" (#N/A…), anything else as text


_INLINE = ("inlineStr", 0)


def _kind(attrs: str) -> tuple[str, int]:
    """Cell type and style index from a cell's attributes other than r (the same tuple for every inline string)."""
    found = {name: a if a else b for name, a, b in _ATTR.findall(attrs)}
    kind = (found.get("t", "n"), int(found.get("s") or 0))
    return _INLINE if kind[0] == "inlineStr" and not attrs.endswith("/") else kind


def _too_deep(limits: Limits) -> Invalid:
    return too_complex(
        "xml_depth", f"O arquivo tem elementos XML aninhados em mais de {limits.max_xml_depth} níveis.",
        limits.max_xml_depth,
    )


def _parser(namespaces: bool = False):
    """An expat parser that refuses any DTD (no entity can be declared, so none can expand); no other
    handler is set, so a validating pass runs at C speed."""
    parser = expat.ParserCreate(namespace_separator="}") if namespaces else expat.ParserCreate()

    def refuse(*_args) -> None:
        raise corrupt()

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    return parser
