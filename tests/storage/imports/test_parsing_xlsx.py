"""The streaming OOXML reader gives what openpyxl gives, on its fast path and its general path alike."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from storage.errors import Invalid
from storage.imports.parsing.xlsx import FormulaCell, XlsxSheetReader, XlsxWorkbook

WIDTH = 8


def workbook_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "agendamentos"
    sheet.append(["Texto", "Número", "Data", "Lógico", "Fórmula", "Rico", "Vazio", "Espaços"])
    sheet.append(["José & Cia <ltda>", 42, datetime(2025, 6, 18, 6, 40), True, "=1+1", None, None, "  borda  "])
    sheet.append(["linha\nquebrada", 3.5, datetime(1990, 12, 19), False, None, None, "", "x"])
    sheet.append([None] * WIDTH)
    sheet.append(["52998224725", 52998224725, None, None, None, None, None, "última"])
    sheet["F2"] = CellRichText([TextBlock(InlineFont(b=True), "negrito"), " e normal"])
    sheet.cell(row=7, column=2, value="depois de uma lacuna")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def openpyxl_rows(data: bytes) -> list[tuple]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.active
    sheet.reset_dimensions()
    rows = [tuple(row) for row in sheet.iter_rows(min_row=1, max_col=WIDTH, values_only=True)]
    return [row + (None,) * (WIDTH - len(row)) for row in rows]


def our_rows(data: bytes, general: bool) -> list[tuple]:
    book = XlsxWorkbook(data)
    ((name, part),) = book.sheets
    reader = XlsxSheetReader(book, part)
    reader.force_general = general
    assert name == "agendamentos"
    # Rows without cells are not yielded at all; openpyxl shows them as blank rows.
    rows = dict(reader.rows(WIDTH))
    return [rows.get(number, (None,) * WIDTH) for number in range(1, max(rows) + 1)]


@pytest.mark.parametrize("general", [False, True], ids=["fast path", "general path"])
def test_values_match_openpyxl(general):
    data = workbook_bytes()
    ours = our_rows(data, general)
    theirs = openpyxl_rows(data)

    # openpyxl's data_only view shows an uncached formula as None; we say what it was.
    assert ours[1][4] == FormulaCell("=1+1")
    as_openpyxl = [tuple(None if isinstance(v, FormulaCell) else v for v in row) for row in ours]
    assert as_openpyxl == theirs
    assert ours[1][5] == "negrito e normal"
    assert ours[5] == (None,) * WIDTH  # the gap between row 5 and row 7


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def excel_style_workbook(sheet_data: str) -> bytes:
    """A workbook as Excel writes it: shared strings (with rich text and phonetic runs), styles with a date format."""
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="agendamentos" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId3" Type="{RELS}/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/sharedStrings.xml": (
            f'<sst xmlns="{MAIN}"><si><t>Nome do Paciente</t></si><si><t xml:space="preserve">linha\r\nquebrada </t></si>'
            '<si><r><t>Jo</t></r><r><rPr><b/></rPr><t>sé</t></r><rPh sb="0" eb="2"><t>ジョセ</t></rPh></si>'
            "<si><t>A &amp; B</t></si></sst>"
        ),
        "xl/styles.xml": (
            f'<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/>'
            '</numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
        ),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}"><sheetData>{sheet_data}</sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


EXCEL_SHEET = (
    '<row r="1" spans="1:5"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
    '<c r="D1" t="s"><v>3</v></c></row>'
    '<row r="2"><c r="A2" s="1"><v>45826.277777777781</v></c><c r="B2" s="2"><v>33226</v></c><c r="C2"><v>7</v></c>'
    '<c r="D2" t="b"><v>1</v></c><c r="E2" t="e"><v>#N/A</v></c></row>'
    "<row r=\"3\"><c r='A3' t='s'><v>3</v></c><c r=\"B3\" t=\"str\"><f>A3&amp;\"!\"</f><v>A &amp; B!</v></c>"
    '<c r="C3"><f>SUM(C2)</f></c></row>'
)


@pytest.mark.parametrize("general", [False, True], ids=["fast path", "general path"])
def test_shared_strings_styles_and_excel_shapes_match_openpyxl(general):
    data = excel_style_workbook(EXCEL_SHEET)
    ours = our_rows(data, general)
    theirs = openpyxl_rows(data)

    assert ours[0][:4] == ("Nome do Paciente", "linha\nquebrada ", "José", "A & B")
    assert ours[1][:5] == (datetime(2025, 6, 18, 6, 40), datetime(1990, 12, 19), 7, True, "#N/A")
    assert ours[2][:3] == ("A & B", "A & B!", FormulaCell("=SUM(C2)"))
    assert [tuple(None if isinstance(v, FormulaCell) else v for v in row) for row in ours] == theirs


def test_validate_reads_the_whole_sheet_and_refuses_a_truncated_one():
    data = workbook_bytes()
    book = XlsxWorkbook(data)
    reader = XlsxSheetReader(book, book.sheets[0][1])
    assert reader.validate() == 6  # rows with content (an estimate: </row> tags)

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[:-200]
            target.writestr(info.filename, content)
    broken = XlsxWorkbook(out.getvalue())
    with pytest.raises(Invalid) as caught:
        XlsxSheetReader(broken, broken.sheets[0][1]).validate()
    assert caught.value.code == "corrupt_file"


def test_entity_declarations_are_refused():
    data = workbook_bytes()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<worksheet", bomb + b"<worksheet", 1)
            target.writestr(info.filename, content)
    book = XlsxWorkbook(out.getvalue())

    with pytest.raises(Invalid) as caught:
        XlsxSheetReader(book, book.sheets[0][1]).validate()
    assert caught.value.code == "corrupt_file"


def test_a_bad_shared_string_index_reads_as_an_error_value_not_a_crash():
    data = excel_style_workbook('<row r="1"><c r="A1" t="s"><v>99</v></c><c r="B1" t="s"><v>x</v></c></row>')

    assert our_rows(data, general=False)[0][:2] == ("#REF!", "x")
