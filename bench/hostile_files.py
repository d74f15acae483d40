"""Hostile files through the real import path: outcome and peak memory of the worker and of the parse child.

    .venv/bin/python -m bench.hostile_files                 # the whole set
    .venv/bin/python -m bench.hostile_files deep_xml wide_row

Each file of the set (generated once into .cache/bench/hostile, never to git) is
stored like an upload (`register_upload`, a chunk at a time) and applied by a real
Celery worker (solo pool, a fresh one per file, so its peak RSS is this file's) on
the bench's own database, index prefix and queues. It prints per file the size, the
outcome (status and failure code, or the rows imported), the time, and the peak RSS
(VmHWM) of the worker and of its parse child. The figures are printed, never asserted;
the builders are shared with tests/storage/imports/test_hostile_files.py, which asserts
the outcomes on smaller copies.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import string
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from bench.dasaexp_export import _CONTENT_TYPES, HEADERS, Generator, _cell, _column_letter

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{MAIN}" xmlns:r="{RELS}">'
    '<sheets><sheet name="agendamentos" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_ROOT_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_WORKBOOK_RELS_NO_STRINGS = _WORKBOOK_RELS.replace(
    f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>', ""
)
_SHEET_START = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'.encode()
MB = 1024 * 1024


# ---------------------------------------------------------------- writing workbooks


def write_workbook(
    target: Path | io.BytesIO,
    sheet_data: Iterable[bytes],
    shared_strings: Iterable[bytes] | None = None,
    before_sheet_data: bytes = b"",
    extra: Callable[[zipfile.ZipFile], None] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> None:
    """An OOXML workbook whose sheet XML (inside <sheetData>) and shared string items are streamed in pieces."""
    strings = shared_strings is not None
    content_types = _CONTENT_TYPES.replace("</Types>", _STRINGS_TYPE + "</Types>") if strings else _CONTENT_TYPES
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS if strings else _WORKBOOK_RELS_NO_STRINGS)
        if shared_strings is not None:
            info = zipfile.ZipInfo("xl/sharedStrings.xml")
            info.compress_type = compression
            with archive.open(info, "w", force_zip64=True) as member:
                member.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}">'.encode())
                for piece in shared_strings:
                    member.write(piece)
                member.write(b"</sst>")
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
        info.compress_type = compression
        with archive.open(info, "w", force_zip64=True) as member:
            member.write(_SHEET_START + before_sheet_data + b"<sheetData>")
            for piece in sheet_data:
                member.write(piece)
            member.write(b"</sheetData></worksheet>")
        if extra is not None:
            extra(archive)


def inline_row(number: int, cells: list[str]) -> bytes:
    """One row of inline strings, as DasaExp writes it."""
    body = "".join(_cell(column, number, text) for column, text in enumerate(cells))
    return f'<row r="{number}">{body}</row>'.encode()


def header_and_rows(count: int, seed: int = 3, first: int = 1) -> Iterator[bytes]:
    """The DasaExp header and `count` realistic rows."""
    yield inline_row(first, list(HEADERS))
    for offset, cells in enumerate(Generator(seed).rows(count), start=first + 1):
        yield inline_row(offset, cells)


def _random_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=length))


# ---------------------------------------------------------------- the hostile set


def shared_strings_bomb(target: Path | io.BytesIO, count: int = 7_500_000) -> None:
    """A small upload whose shared string table holds `count` distinct strings (no uniqueCount to trust)."""
    rng = random.Random(7)
    header = "".join(f'<c r="{_column_letter(i)}1" t="s"><v>{i}</v></c>' for i in range(len(HEADERS)))

    def strings() -> Iterator[bytes]:
        yield "".join(f"<si><t>{escape(text)}</t></si>" for text in HEADERS).encode()
        batch = []
        for _ in range(count):
            batch.append(f"<si><t>{_random_text(rng, 8)}</t></si>")
            if len(batch) == 10_000:
                yield "".join(batch).encode()
                batch.clear()
        yield "".join(batch).encode()

    write_workbook(target, [f'<row r="1">{header}</row>'.encode()], strings())


def million_empty_rows(target: Path | io.BytesIO, empty: int = 1_000_000) -> None:
    """The header, a visit, `empty` empty <row/> elements, then a second visit: both must be imported."""
    rows = list(header_and_rows(2))

    def data() -> Iterator[bytes]:
        yield rows[0] + rows[1]
        for start in range(3, empty + 3, 50_000):
            yield b"".join(b'<row r="%d"/>' % n for n in range(start, min(start + 50_000, empty + 3)))
        yield re.sub(rb'r="([A-Z]*)3"', rb'r="\g<1>%d"' % (empty + 3), rows[2])

    write_workbook(target, data(), before_sheet_data=b'<dimension ref="A1:AD2"/>')


def million_blank_csv_lines(target: Path | io.BytesIO, blank: int = 1_000_000) -> None:
    """A CSV: the header, a visit, `blank` lines of bare delimiters, then a second visit."""
    rows = [";".join(HEADERS)] + [";".join(cells) for cells in Generator(5).rows(2)]
    blank_line = ";" * (len(HEADERS) - 1)
    with _open(target) as out:
        out.write(("\r\n".join(rows[:2]) + "\r\n").encode("cp1252", "replace"))
        for _ in range(0, blank, 10_000):
            out.write(((blank_line + "\r\n") * 10_000).encode())
        out.write((rows[2] + "\r\n").encode("cp1252", "replace"))


def wide_row(target: Path | io.BytesIO, cells: int = 20_000) -> None:
    """The header and a visit, then a row of `cells` cells (past Excel's 16,384 columns)."""
    rows = list(header_and_rows(1))
    wide = "".join(f'<c r="{_column_letter(i)}3"><v>{i}</v></c>' for i in range(cells))
    write_workbook(target, [*rows, f'<row r="3">{wide}</row>'.encode()])


def wide_header(target: Path | io.BytesIO, offset: int = 300) -> None:
    """A header whose columns start at column `offset + 1` (past the 256 read)."""
    header = [""] * offset + list(HEADERS)
    row = [""] * offset + next(iter(Generator(3).rows(1)))
    write_workbook(target, [inline_row(1, header), inline_row(2, row)])


def huge_inline_cell(target: Path | io.BytesIO, size: int = 50 * MB) -> None:
    """A visit whose notes cell holds `size` characters of random text (incompressible: no ratio check helps)."""
    rng = random.Random(11)
    rows = list(header_and_rows(1))
    cells = next(iter(Generator(3).rows(1)))
    notes = HEADERS.index("Observação")
    before = inline_row(2, cells[:notes]).removesuffix(b"</row>")
    ref = f"{_column_letter(notes)}2"

    def data() -> Iterator[bytes]:
        yield rows[0] + before + f'<c r="{ref}" t="inlineStr"><is><t>'.encode()
        for _ in range(size // MB):
            yield _random_text(rng, MB).encode()
        yield b"</t></is></c></row>"

    write_workbook(target, data())


def huge_shared_string(target: Path | io.BytesIO, size: int = 40 * MB) -> None:
    """One shared string of `size` characters (Excel stops a cell at 32,767)."""
    rng = random.Random(13)
    header = "".join(f'<c r="{_column_letter(i)}1" t="s"><v>{i}</v></c>' for i in range(len(HEADERS)))

    def strings() -> Iterator[bytes]:
        yield "".join(f"<si><t>{escape(text)}</t></si>" for text in HEADERS).encode() + b"<si><t>"
        for _ in range(size // MB):
            yield _random_text(rng, MB).encode()
        yield b"</t></si>"

    write_workbook(target, [f'<row r="1">{header}</row><row r="2"><c r="A2" t="s"><v>30</v></c></row>'.encode()],
                   strings())


def deep_xml(target: Path | io.BytesIO, depth: int = 6_000_000) -> None:
    """A sheet that opens `depth` nested elements and never closes them (18 MB: under the size from which
    the compression ratio is checked). An XML parser holds every open element until it fails at the end."""
    write_workbook(target, header_and_rows(1), before_sheet_data=b"<sheetPr>" + b"<a>" * depth)


def nested_zip_bomb(target: Path | io.BytesIO, levels: int = 3, width: int = 16) -> None:
    """A workbook carrying a 42.zip-style member: zips of `width` zips, `levels` deep, over 1 MB of zeros
    (4 GB once all unpacked at the defaults). Nothing may ever open it."""
    leaf = io.BytesIO()
    with zipfile.ZipFile(leaf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", bytes(MB))
    current = leaf.getvalue()
    for level in range(levels):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for index in range(width):
                archive.writestr(f"l{level}-{index}.zip", current)
        current = out.getvalue()
    nested = current

    def extra(archive: zipfile.ZipFile) -> None:
        archive.writestr("xl/embeddings/bomb.zip", nested, compress_type=zipfile.ZIP_STORED)

    write_workbook(target, header_and_rows(2), extra=extra)


def flat_zip_bomb(target: Path | io.BytesIO, size: int = 1024 * MB) -> None:
    """A sheet member of `size` bytes of blanks after the rows: about 1 MB compressed."""
    def data() -> Iterator[bytes]:
        yield b"".join(header_and_rows(2))
        block = b" " * (16 * MB)
        for _ in range(size // len(block)):
            yield block

    write_workbook(target, data())


def billion_laughs(target: Path | io.BytesIO) -> None:
    """Shared strings declaring nested entities (a billion 'lol's if expanded)."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    header = "".join(f'<c r="{_column_letter(i)}1" t="s"><v>0</v></c>' for i in range(3))
    content_types = _CONTENT_TYPES.replace("</Types>", _STRINGS_TYPE + "</Types>")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr(
            "xl/sharedStrings.xml",
            f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>',
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{header}</row></sheetData></worksheet>',
        )


def csv_long_line(target: Path | io.BytesIO, size: int = 100 * MB) -> None:
    """A CSV whose second line is `size` characters without a line break."""
    with _open(target) as out:
        out.write((";".join(HEADERS) + "\r\n").encode("cp1252", "replace"))
        chunk = b"x" * MB
        for _ in range(size // MB):
            out.write(chunk)
        out.write(b"\r\n")


def csv_too_many_rows(target: Path | io.BytesIO, rows: int = 1_100_000) -> None:
    """A CSV of `rows` short data lines (past Excel's 1,048,576)."""
    with _open(target) as out:
        out.write((";".join(HEADERS) + "\r\n").encode("cp1252", "replace"))
        for start in range(0, rows, 100_000):
            out.write(b"".join(b"x%d;\r\n" % n for n in range(start, min(start + 100_000, rows))))


def bzip2_members(target: Path | io.BytesIO) -> None:
    """A workbook whose sheet is bzip2-compressed (a method zipfile inflates without a bound per read)."""
    write_workbook(target, header_and_rows(2), compression=zipfile.ZIP_BZIP2)


def _open(target: Path | io.BytesIO):
    return open(target, "wb") if isinstance(target, Path) else _Unclosed(target)


class _Unclosed:
    def __init__(self, buffer: io.BytesIO) -> None:
        self.buffer = buffer

    def __enter__(self) -> io.BytesIO:
        return self.buffer

    def __exit__(self, *exc_info) -> None:
        pass


@dataclass(frozen=True)
class Hostile:
    """A file of the set, the name it is uploaded as, and the outcome expected."""

    build: Callable[[Path], None]
    filename: str
    expected: str  # "succeeded: N rows read", "failed: code" or "refused at upload: code"
    max_upload: int = 64 * MB


HOSTILE_SET: dict[str, Hostile] = {
    "shared_strings_bomb": Hostile(shared_strings_bomb, "bomba.xlsx", "failed: file_too_complex"),
    "million_empty_rows": Hostile(million_empty_rows, "vazias.xlsx", "succeeded: 2 rows read"),
    "million_blank_csv_lines": Hostile(million_blank_csv_lines, "vazias.csv", "succeeded: 2 rows read"),
    "wide_row": Hostile(wide_row, "larga.xlsx", "failed: file_too_complex"),
    "wide_header": Hostile(wide_header, "cabecalho.xlsx", "failed: header_too_wide"),
    "huge_inline_cell": Hostile(huge_inline_cell, "celula.xlsx", "failed: file_too_complex"),
    "huge_shared_string": Hostile(huge_shared_string, "texto.xlsx", "failed: file_too_complex"),
    "deep_xml": Hostile(deep_xml, "aninhado.xlsx", "failed: file_too_complex"),
    "nested_zip_bomb": Hostile(nested_zip_bomb, "42.xlsx", "succeeded: 2 rows read"),
    "flat_zip_bomb": Hostile(flat_zip_bomb, "zip.xlsx", "refused at upload: file_too_complex"),
    "billion_laughs": Hostile(billion_laughs, "risos.xlsx", "failed: corrupt_file"),
    "csv_100mb_line": Hostile(csv_long_line, "linha.csv", "failed: file_too_complex", 128 * MB),
    "csv_too_many_rows": Hostile(csv_too_many_rows, "linhas.csv", "failed: file_too_complex"),
    "bzip2_members": Hostile(bzip2_members, "bzip2.xlsx", "refused at upload: file_too_complex"),
}


def outcome(report: dict) -> str:
    """An import's outcome in the form of `Hostile.expected` (data rows read: a visit already imported by an
    earlier file of the set counts as read, not as imported again)."""
    if report["status"] == "succeeded":
        return f"succeeded: {report['processed_rows']} rows read"
    return f"{report['status']}: {(report['failure'] or {}).get('code')}"


# ---------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    """Generate the set (once), import each file through a real worker, print outcome and peak RSS."""
    parser = argparse.ArgumentParser(description="Arquivos hostis pelo caminho real do worker")
    parser.add_argument("names", nargs="*", choices=[[], *HOSTILE_SET], default=[])
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    names = args.names or list(HOSTILE_SET)

    # Imported late: bench.import_bench points this process at a throwaway database when imported.
    from bench.import_bench import ROOT, create_database, drop_database, peak_rss_mb, start_worker
    from storage.db import unit_of_work
    from storage.imports import service as import_service
    from workers.app import DEFAULT_QUEUE
    from workers.enqueue import enqueue_import

    cache = ROOT / ".cache" / "bench" / "hostile"
    cache.mkdir(parents=True, exist_ok=True)
    log_dir = ROOT / ".local" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    create_database()
    print(f"{'arquivo':<24} {'tamanho':>9}  {'resultado':<48} {'tempo':>7} {'worker':>8} {'leitura':>8}")
    try:
        for name in names:
            hostile = HOSTILE_SET[name]
            path = cache / f"{name}{Path(hostile.filename).suffix}"
            if not path.exists():
                hostile.build(path)
            worker = start_worker(DEFAULT_QUEUE, f"hostile-{name}", log_dir / "bench-hostile.log")
            try:
                started = time.monotonic()
                try:
                    with unit_of_work() as session, open(path, "rb") as file:
                        import_id = import_service.register_upload(
                            session, hostile.filename, file, max_bytes=hostile.max_upload
                        ).id
                except Exception as error:  # refused at upload, as the API would (4xx)
                    got = f"refused at upload: {getattr(error, 'code', type(error).__name__)}"
                    mark = "ok" if got == hostile.expected else f"ESPERADO {hostile.expected}"
                    print(f"{name:<24} {path.stat().st_size / MB:>7.1f}MB  {got + '  ' + mark:<48}", flush=True)
                    print(f"{'':<36}{getattr(error, 'message', error)}")
                    continue
                enqueue_import(import_id)
                child_peak, report = 0.0, None
                while time.monotonic() - started < args.timeout:
                    child_peak = max(child_peak, _children_peak(worker.pid))
                    with unit_of_work() as session:
                        report = import_service.report(session, import_id, issue_limit=0)
                    if report["status"] in ("succeeded", "failed"):
                        break
                    time.sleep(0.02)
                seconds = time.monotonic() - started
                worker_peak = peak_rss_mb(worker.pid)
            finally:
                worker.terminate()
                worker.wait(timeout=30)
            got = outcome(report) if report else "timeout"
            mark = "ok" if got == hostile.expected else f"ESPERADO {hostile.expected}"
            print(
                f"{name:<24} {path.stat().st_size / MB:>7.1f}MB  {got + '  ' + mark:<48} {seconds:>6.1f}s "
                f"{worker_peak:>6.0f}MB {child_peak:>6.0f}MB",
                flush=True,
            )
            if report and report["failure"]:
                print(f"{'':<36}{report['failure']['message']}")
    finally:
        drop_database()
    return 0


def _children_peak(pid: int) -> float:
    """The largest peak RSS (VmHWM, MB) among a process's live children."""
    from bench.import_bench import peak_rss_mb

    peak = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) != pid:
                    continue
            peak = max(peak, peak_rss_mb(int(entry.name)))
        except (OSError, ValueError, IndexError):
            continue
    return peak


if __name__ == "__main__":
    sys.exit(main())
