"""Hostile files (the builders of bench/hostile_files.py, smaller where the bound allows): each ends in a
stable code naming the bound it passed, before any row is applied, or imports with nothing lost."""

from __future__ import annotations

import io
import zipfile

import pytest

from bench import hostile_files as hostile
from bench.dasaexp_export import HEADERS
from storage.errors import Invalid
from storage.imports.parsing import batching
from storage.imports.parsing.dasaexp import parse
from storage.imports.parsing.sources import Limits
from tests.storage.imports.helpers import row, run, xlsx


def build(builder, *args, **kwargs) -> bytes:
    buffer = io.BytesIO()
    builder(buffer, *args, **kwargs)
    return buffer.getvalue()


def refused(data: bytes, filename: str = "agenda.xlsx", limits: Limits | None = None) -> Invalid:
    with pytest.raises(Invalid) as caught:
        parse(data, filename, **({"limits": limits} if limits else {}))
    return caught.value


def test_a_shared_string_table_past_its_count_is_refused_early():
    error = refused(build(hostile.shared_strings_bomb, count=2_000), limits=Limits(max_shared_strings=1_000))

    assert (error.code, error.details) == ("file_too_complex", {"limit": "shared_strings", "max": 1_000})
    assert error.message == (
        "A planilha tem mais de 1.000 textos distintos (limite da importação). Divida a planilha em arquivos menores."
    )


def test_a_declared_unique_count_past_the_limit_is_refused_before_reading_the_strings():
    buffer = io.BytesIO()
    hostile.write_workbook(buffer, [b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'], [b"<si><t>x</t></si>"])
    declared = rewrite(buffer.getvalue(), "xl/sharedStrings.xml", lambda xml: xml.replace(
        b"<sst ", b'<sst uniqueCount="7500000" '))

    assert refused(declared).details == {"limit": "shared_strings", "max": 2_000_000}


def test_shared_strings_past_their_total_size_are_refused():
    error = refused(build(hostile.shared_strings_bomb, count=2_000), limits=Limits(max_shared_strings_bytes=10_000))

    assert (error.code, error.details["limit"]) == ("file_too_complex", "shared_strings_bytes")


def test_one_shared_string_past_the_excel_cell_limit_is_refused():
    error = refused(build(hostile.huge_shared_string, size=2 * hostile.MB))

    assert (error.code, error.details) == ("file_too_complex", {"limit": "cell_chars", "max": 32_767})
    assert "32.767 caracteres (o limite do Excel)" in error.message


def test_a_huge_inline_cell_is_refused_by_the_row_size():
    error = refused(build(hostile.huge_inline_cell, size=3 * hostile.MB))

    assert (error.code, error.details) == ("file_too_complex", {"limit": "row_bytes", "max": 1024 * 1024})
    assert error.message.startswith("A linha 2 da planilha passa de 1 MB (limite por linha).")


def test_a_row_wider_than_excel_allows_is_refused():
    error = refused(build(hostile.wide_row, cells=16_385))

    assert (error.code, error.details) == ("file_too_complex", {"limit": "cells_per_row", "max": 16_384})
    assert error.message.startswith("A linha 3 da planilha tem mais de 16.384 células (o limite do Excel).")


def test_a_sheet_past_its_total_cells_is_refused():
    data = build(hostile.million_empty_rows, empty=10)

    error = refused(data, limits=Limits(max_cells=40))

    assert (error.code, error.details) == ("file_too_complex", {"limit": "cells", "max": 40})


def test_a_row_past_excel_s_last_row_is_refused():
    data = build(hostile.million_empty_rows, empty=1_048_574)  # the late visit lands on row 1,048,577

    assert refused(data).details == {"limit": "rows", "max": 1_048_576}


def test_the_header_past_column_256_is_too_wide_not_missing():
    error = refused(build(hostile.wide_header, offset=300))

    assert error.code == "header_too_wide"
    assert error.message.startswith(
        "O cabeçalho passa do limite de 256 colunas: as colunas Nome da Marca, Código da Unidade,"
    )
    assert error.details["max_columns"] == 256
    assert error.details["columns_beyond"][:2] == ["Nome da Marca", "Código da Unidade"]


def test_a_header_that_fits_in_256_columns_still_imports_with_junk_far_to_its_right():
    header = list(HEADERS) + [""] * 300 + ["nota solta"]
    data = build(hostile.write_workbook, [hostile.inline_row(1, header), *list(hostile.header_and_rows(1))[1:]])

    parsed = parse(data, "agenda.xlsx")

    assert (parsed.header.width, [row.kind for row in parsed.rows()]) == (30, ["visit"])


def test_entity_declarations_are_refused_in_every_part():
    assert refused(build(hostile.billion_laughs)).code == "corrupt_file"
    workbook = build(hostile.million_empty_rows, empty=1)
    for part in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "_rels/.rels", "xl/worksheets/sheet1.xml"):
        bomb = rewrite(workbook, part, lambda xml: b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml.split(b"?>", 1)[-1])
        assert refused(bomb).code == "corrupt_file", part


def test_xml_nested_deeper_than_the_limit_in_a_small_part_is_refused():
    workbook = build(hostile.million_empty_rows, empty=1)
    nest = b"<a>" * 200 + b"</a>" * 200
    deep = rewrite(workbook, "xl/workbook.xml", lambda xml: xml.replace(b"<sheets>", nest + b"<sheets>"))

    assert refused(deep).details == {"limit": "xml_depth", "max": 100}


def test_a_bzip2_member_is_refused_before_it_is_inflated():
    assert refused(build(hostile.bzip2_members)).details == {"limit": "compression_method"}


def test_a_flat_zip_bomb_is_refused_from_its_declared_size():
    assert refused(build(hostile.flat_zip_bomb, size=256 * hostile.MB)).details == {
        "limit": "uncompressed_bytes", "max": 200 * 1024 * 1024
    }


def test_a_nested_zip_inside_the_workbook_is_never_opened():
    data = build(hostile.nested_zip_bomb, levels=2, width=4)

    assert [row.kind for row in parse(data, "agenda.xlsx").rows()] == ["visit", "visit"]


def test_a_csv_line_past_the_row_size_is_refused_before_it_is_held():
    error = refused(build(hostile.csv_long_line, size=2 * hostile.MB), "agenda.csv")

    assert (error.code, error.details) == ("file_too_complex", {"limit": "row_bytes", "max": 1024 * 1024})
    assert error.message.startswith("A linha 2 do arquivo passa de 1.048.576 caracteres (limite por linha).")


def test_a_csv_past_excel_s_rows_is_refused():
    assert refused(build(hostile.csv_too_many_rows, rows=1_048_576), "agenda.csv").details == {
        "limit": "rows", "max": 1_048_576
    }


def test_a_csv_row_wider_than_excel_allows_is_refused():
    data = (";".join(HEADERS) + "\r\n" + ";" * 16_384 + "x\r\n").encode()

    assert refused(data, "agenda.csv").details == {"limit": "cells_per_row", "max": 16_384}


def test_batches_are_cut_by_text_size_too():
    visits = [row({"Id do agendamento": f"id-{hour}", "Data/Hora Início Agendamento": f"18/06/2025 {hour:02}:00:00",
                   "Data/Hora Fim Agendamento": f"18/06/2025 {hour:02}:40:00"}) for hour in range(6, 12)]
    rows = list(parse(xlsx(*visits), "agenda.xlsx").rows())
    one_row = sum(map(len, rows[0].raw.values()))

    sizes = [len(batch) for batch in batching.batches(rows, "dasaexp", 0, 500, max_chars=2 * one_row)]

    assert sizes == [2, 2, 2]


# ---------------------------------------------------------------- through the import service


@pytest.mark.usefixtures("clean")
def test_a_visit_after_a_million_empty_rows_is_imported():
    report = run(build(hostile.million_empty_rows), "vazias.xlsx")

    assert report["issues"] == []
    assert (report["status"], report["total_rows"], report["processed_rows"], report["imported"]) == (
        "succeeded", 2, 2, 2
    )


@pytest.mark.usefixtures("clean")
def test_deeply_nested_xml_fails_as_too_complex_in_the_parsing_child_not_the_worker():
    # 6 million open elements: expat would hold gigabytes; the child's address-space limit stops it.
    report = run(build(hostile.deep_xml), "aninhado.xlsx")

    assert (report["status"], report["failure"]["code"], report["processed_rows"]) == (
        "failed", "file_too_complex", 0
    )
    assert report["failure"]["message"].startswith(
        "A leitura do arquivo precisou de mais memória que o limite de 384 MB"
    )


@pytest.mark.usefixtures("clean")
def test_a_shared_strings_bomb_fails_with_nothing_applied():
    report = run(build(hostile.shared_strings_bomb, count=2_000_001), "bomba.xlsx")

    assert (report["status"], report["failure"]["code"], report["processed_rows"], report["imported"]) == (
        "failed", "file_too_complex", 0, 0
    )
    assert report["failure"]["message"] == (
        "A planilha tem mais de 2.000.000 textos distintos (limite da importação). "
        "Divida a planilha em arquivos menores."
    )


def rewrite(data: bytes, member: str, change) -> bytes:
    """Copy a zip, passing one member's bytes through `change`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == member else content)
    return out.getvalue()
