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
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel, from_ISO8601

from storage.errors import Invalid

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_WORKSHEET_REL = "/worksheet"
_OFFICE_DOCUMENT_REL = "/officeDocument"
_CHUNK = 1 << 20
_MAX_PART_BYTES = 32 << 20  # workbook, rels, styles: small parts read whole

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


@dataclass(frozen=True)
class FormulaCell:
    """A formula cell saved without a cached value: formulas are never evaluated here."""

    formula: str


def corrupt() -> Invalid:
    """The error for a file that cannot be read to the end."""
    return Invalid("corrupt_file", "O arquivo está corrompido ou incompleto e não pôde ser lido.")


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

    def __init__(self, data: bytes, max_blank_run: int) -> None:
        try:
            self._archive = zipfile.ZipFile(io.BytesIO(data))
            workbook_part = self._office_document()
            workbook = self._xml(workbook_part)
            rels = self._relationships(workbook_part)
        except Invalid:
            raise
        except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, zlib.error, OSError, ValueError) as exc:
            raise corrupt() from exc
        self.max_blank_run = max_blank_run
        properties = workbook.find(f"{{{MAIN_NS}}}workbookPr")
        date1904 = properties is not None and properties.get("date1904", "").lower() in ("1", "true")
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self._workbook_part = workbook_part
        self._rels = rels
        self.sheets: list[tuple[str, str]] = []
        for sheet in workbook.iter(f"{{{MAIN_NS}}}sheet"):
            target = rels.get(sheet.get(f"{{{_REL_NS}}}id") or "")
            if target and target[0].endswith(_WORKSHEET_REL):
                self.sheets.append((sheet.get("name") or "", target[1]))

    def open_part(self, name: str):
        """Open a zip member for streaming."""
        return self._archive.open(name)

    def _office_document(self) -> str:
        try:
            rels = self._xml("_rels/.rels")
        except KeyError:
            return "xl/workbook.xml"
        for rel in rels.iter(f"{{{_PKG_REL_NS}}}Relationship"):
            if (rel.get("Type") or "").endswith(_OFFICE_DOCUMENT_REL):
                return (rel.get("Target") or "").lstrip("/")
        return "xl/workbook.xml"

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        folder, name = posixpath.split(part)
        try:
            rels = self._xml(posixpath.join(folder, "_rels", f"{name}.rels"))
        except KeyError:
            return {}
        result = {}
        for rel in rels.iter(f"{{{_PKG_REL_NS}}}Relationship"):
            target = rel.get("Target") or ""
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            result[rel.get("Id") or ""] = (rel.get("Type") or "", path)
        return result

    def _xml(self, name: str) -> ElementTree.Element:
        with self._archive.open(name) as member:
            content = member.read(_MAX_PART_BYTES + 1)
        if len(content) > _MAX_PART_BYTES:
            raise corrupt()
        return _safe_fromstring(content)

    def _part_of_type(self, suffix: str) -> str | None:
        for rel_type, path in self._rels.values():
            if rel_type.endswith(suffix):
                return path
        return None

    @cached_property
    def shared_strings(self) -> list[str]:
        """The shared string table (rich text flattened, phonetic runs left out)."""
        part = self._part_of_type("/sharedStrings")
        if part is None:
            return []
        strings: list[str] = []
        si, t, rph = f"{{{MAIN_NS}}}si", f"{{{MAIN_NS}}}t", f"{{{MAIN_NS}}}rPh"
        try:
            with self._archive.open(part) as member:
                for _, element in ElementTree.iterparse(member, events=("end",)):
                    if element.tag == si:
                        for phonetic in element.findall(rph):
                            element.remove(phonetic)
                        strings.append("".join(node.text or "" for node in element.iter(t)))
                        element.clear()
        except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, zlib.error, OSError) as exc:
            raise corrupt() from exc
        return strings

    @cached_property
    def date_styles(self) -> frozenset[int]:
        """Indexes of the cell styles whose number format is a date or time."""
        part = self._part_of_type("/styles")
        if part is None:
            return frozenset()
        try:
            styles = self._xml(part)
        except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, zlib.error, OSError) as exc:
            raise corrupt() from exc
        formats = dict(BUILTIN_FORMATS)
        for fmt in styles.iter(f"{{{MAIN_NS}}}numFmt"):
            try:
                formats[int(fmt.get("numFmtId", ""))] = fmt.get("formatCode") or ""
            except ValueError:
                continue
        result = set()
        xfs = styles.find(f"{{{MAIN_NS}}}cellXfs")
        for index, xf in enumerate(xfs if xfs is not None else ()):
            try:
                code = formats.get(int(xf.get("numFmtId", "0")), "")
            except ValueError:
                continue
            if code and is_date_format(code):
                result.add(index)
        return frozenset(result)


def _safe_fromstring(content: bytes) -> ElementTree.Element:
    """Parse a small XML part, refusing DTDs (entity expansion is a classic bomb)."""
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise corrupt()
    return ElementTree.fromstring(content)


class XlsxSheetReader:
    """One worksheet, streamed row by row (no blank-run limit: the caller stops reading)."""

    def __init__(self, book: XlsxWorkbook, part: str) -> None:
        self._book = book
        self._part = part
        self._validated = False  # a full pass checked the XML: later passes skip expat
        self._estimate = 0
        self.force_general = False  # tests read through the general path only

    def rows(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        """Yield (1-based row number, cells padded to max_col) from row 1; gaps come back as blank rows."""
        try:
            yield from self._rows(max_col)
        except Invalid:
            raise
        except (ElementTree.ParseError, expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError,
                ValueError, IndexError, KeyError, OverflowError, UnicodeDecodeError) as exc:
            raise corrupt() from exc

    def validate(self) -> int:
        """Read the whole sheet part through expat (C speed, no cell is built) and return an estimate
        of its non-empty rows (closing `</row>` tags); raise Invalid `corrupt_file` if it is malformed.

        After this, streaming the rows cannot fail on the file's account: values that do
        not fit their type are read as text.
        """
        if self._validated:
            return self._estimate
        validator = _validator()
        estimate = 0
        tail = b""
        try:
            with self._book.open_part(self._part) as member:
                while chunk := member.read(_CHUNK):
                    validator.Parse(chunk, False)
                    window = tail + chunk
                    estimate += window.count(b"</row>") + window.count(b":row>") - tail.count(b"</row>") - tail.count(b":row>")
                    tail = chunk[-8:]
            validator.Parse(b"", True)
        except Invalid:
            raise
        except (expat.ExpatError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise corrupt() from exc
        self._validated = True
        self._estimate = estimate
        return estimate

    def _fragments(self) -> Iterator[tuple[str, bytes]]:
        """Yield (namespace prefix, row fragment as bytes, starting after `<row`) for each row of sheetData."""
        validator = None if self._validated else _validator()
        pending = b""
        prefix: str | None = None
        row_start = end_tag = b""
        done = skip_first = False
        with self._book.open_part(self._part) as member:
            while True:
                chunk = member.read(_CHUNK)
                if validator is not None:
                    validator.Parse(chunk, not chunk)
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
                for piece in pieces:
                    if piece:
                        yield prefix, piece
                if not chunk:
                    break
        self._validated = validator is not None or self._validated

    def _rows(self, max_col: int) -> Iterator[tuple[int, tuple]]:
        previous = 0
        blank = (None,) * max_col
        kinds: dict[str, tuple[str, int]] = {}
        general: _General | None = None
        for prefix, fragment in self._fragments():
            head_end = fragment.find(b">")
            if head_end < 0 or fragment[:1] not in _AFTER_ROW:
                continue  # `<rowXyz`, not a row
            head = fragment[:head_end]
            match = _ROW_NUMBER.search(head)
            number = int(match.group(1)) if match else previous + 1
            for gap in range(previous + 1, number):
                yield gap, blank
            previous = max(previous, number)
            if head.endswith(b"/"):
                yield number, blank
                continue
            raw = fragment[head_end + 1 :]
            body = raw.decode()
            cells = [None] * max_col
            # CR line ends must become LF as an XML parser would: the general path does that.
            if not prefix and not self.force_general and b"\r" not in raw:
                found = _FAST_CELL.findall(body)
                if len(found) == raw.count(b"<c"):
                    self._fill_fast(found, cells, kinds, max_col)
                    yield number, tuple(cells)
                    continue
            if general is None or general.prefix != prefix:
                general = _General(prefix)
            self._fill_general(general, body, cells, max_col)
            yield number, tuple(cells)

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
                cells[index] = html.unescape(text) if "&" in text else text
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


def _validator():
    """An expat parser with no handlers (C speed) that refuses entity declarations."""
    parser = expat.ParserCreate()

    def refuse(*_args) -> None:
        raise corrupt()

    parser.EntityDeclHandler = refuse
    return parser
