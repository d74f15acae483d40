"""The pure DasaExp parser: the three sample files, each known quirk, and hostile inputs."""

from __future__ import annotations

import codecs
import csv
import io
import random
import re
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from storage.errors import Invalid
from storage.imports.parsing.dasaexp import (
    ParsedRow,
    RowIssue,
    parse,
    patient_key,
    split_visit_key,
)
from storage.imports.parsing.sources import Limits, detect_encoding
from storage.imports.parsing.values import Address, Phone, Physician, parse_documents

from tests.samples import CSV_SAMPLE, DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE

VALID_CPF = "52998224725"

DASAEXP_ROW = {
    "Nome da Marca": "Sérgio Franco Medicina Diagnóstica",
    "Código da Unidade": "248",
    "Nome da Unidade": "Barra - Aventura Center",
    "Status Agendamento": "Agendado",
    "Id do agendamento": "c7ac40bc-e67f-4b04-8554-adbc4801b608",
    "Id da agenda": "480301001",
    "Código da Sala": "379",
    "Nome da Sala": "AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84",
    "Data/Hora Início Agendamento": "18/06/2025 06:40:00",
    "Data/Hora Fim Agendamento": "18/06/2025 07:20:00",
    "Nome do Paciente": "JOSÉ DA SILVA",
    "Códigos dos Exames": "1009, 1004",
    "Nomes dos Exames": "VITAMINA D, 25 HIDROXI, TRIGLICERIDEOS",
    "Total Exames": "2",
    "Endereço Coleta": "rua visconde de piraja,1017,laranjeiras,rio de janeiro,rj,22342-045",
    "Categoria": "PRINCIPAL",
    "Convênio": "80",
    "Nome do Convênio": "AMIL",
    "Nr. Carteira": "073186173990487",
    "CRM Pedido Médico": "CRM - RJ - 52123456",
    "Canal de Efetivação": "Canal do Consultor",
    "Usuário Marcação": "T88110925096",
    "Data da Efetivação": "04/06/2025 04:40:00",
    "Status Confirmação": "Confirmado",
    "Canal Confirmação": "WHATSS",
    "Data/Hora Confirmação": "WHATSS",
    "Observação": "portaria exige documento ⚠️",
    "Documento(s) do Paciente": f"CPF: {VALID_CPF}, RG: 123456789",
    "Contato(s) do Paciente": "Celular: 21 999999999, Email: jose@exemplo.com.br",
    "Nascimento": "19/12/1990",
}
DASAEXP_HEADERS = list(DASAEXP_ROW)

SIMPLIFIED_ROW = {
    "ID Sala": "001",
    "Nome da Sala": "CARRO 1 - Coleta Domiciliar",
    "Data/Hora Início": "20/01/2025 06:30:00",
    "Data/Hora Fim": "20/01/2025 07:10:00",
    "Nome do Paciente": "Maria das Dores",
    "Códigos dos Exames": "HBA001,URI001",
    "Nomes dos Exames": "Hemoglobina Glicada, Urina Tipo I",
    "Total Exames": "2",
    "Endereço Coleta": "Rua das Flores, 123, Centro, São Paulo, SP",
    "Pedido Médico": "PM201001",
    "Canal Efetivação": "App",
    "Status Confirmação": "Não Confirmado",
    "Canal Confirmação": "",
    "Documento(s) Paciente": "CPF: 123.456.789-09",
    "Contato(s) Paciente": "Celular: 11 98765-4321",
    "Nascimento": "08/01/1996",
}
SIMPLIFIED_HEADERS = list(SIMPLIFIED_ROW)


# ---------------------------------------------------------------- helpers


def dasaexp(changes: dict | None = None) -> dict:
    """A valid DasaExp car row with some cells changed."""
    return {**DASAEXP_ROW, **(changes or {})}


def simplified(changes: dict | None = None) -> dict:
    """A valid simplified-layout car row with some cells changed."""
    return {**SIMPLIFIED_ROW, **(changes or {})}


def grid(headers: list[str], *rows: dict) -> list[list]:
    """Header line plus rows, each in header order."""
    return [list(headers)] + [[row.get(header) for header in headers] for row in rows]


def write_xlsx(tmp_path: Path, lines: list[list], name: str = "agenda.xlsx", title: str = "agendamentos") -> bytes:
    """Write lines to a workbook in tmp_path with openpyxl and return the file's bytes."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for line in lines:
        sheet.append(line)
    path = tmp_path / name
    workbook.save(path)
    return path.read_bytes()


def write_csv(lines: list[list], delimiter: str, encoding: str) -> bytes:
    """Render lines as CSV the way Excel saves them (CRLF line ends)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue().encode(encoding)


def rows_of(data: bytes, filename: str = "agenda.xlsx") -> list[ParsedRow]:
    """Parse a file and list its rows."""
    return list(parse(data, filename).rows())


def only_row(tmp_path: Path, row: dict, headers: list[str] = DASAEXP_HEADERS) -> ParsedRow:
    """Parse a one-row DasaExp (or other) workbook and return its row."""
    (parsed,) = rows_of(write_xlsx(tmp_path, grid(headers, row)))
    return parsed


def codes(row: ParsedRow) -> list[str]:
    """The issue codes of a row, in order."""
    return [issue.code for issue in row.issues]


def rewrite_member(data: bytes, member: str, change) -> bytes:
    """Copy a zip, passing one member's bytes through `change`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == member else content)
    return out.getvalue()


def invalid_code(data: bytes, filename: str = "agenda.xlsx", **kwargs) -> str:
    """Parse a file that must be refused and return the error code."""
    with pytest.raises(Invalid) as caught:
        parse(data, filename, **kwargs)
    return caught.value.code


def group_visits(rows: list[ParsedRow]) -> dict[tuple, list[ParsedRow]]:
    """Group visit rows the way the applier merges split visits."""
    groups: dict[tuple, list[ParsedRow]] = defaultdict(list)
    for row in rows:
        if row.kind == "visit":
            groups[split_visit_key(row)].append(row)
    return groups


# ---------------------------------------------------------------- the sample files


def test_dasaexp_sample_matches_the_domain_table():
    parsed = parse(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)
    rows = list(parsed.rows())

    assert (parsed.layout, parsed.sheet_name, parsed.header.row_number) == (
        "dasaexp",
        "agendamentos - Barra - Aventura",
        1,
    )
    assert parsed.unknown_columns == ()
    # 129 rows = 67 car rows imported + 60 exam-room / roomless rows skipped + 2 car rows without patient.
    assert parsed.total_rows == 129
    assert len(rows) == 129
    assert Counter(row.kind for row in rows) == {"visit": 67, "skipped": 60, "error": 2}

    skipped = [row for row in rows if row.kind == "skipped"]
    assert Counter(row.skip_reason for row in skipped) == {"not_a_car_room": 48, "empty_room": 12}
    assert [row for row in skipped if row.issues] == []
    assert Counter(row.room_name for row in skipped) == {
        "CARDIO_DR PAULO": 13,
        None: 12,  # no room at all
        "LACTOSE 1/2": 12,
        "CURVA GLICEMICA 1": 10,
        "QUANTIFERON": 6,
        "VACINA": 6,
        "USG_DRA HELENA": 1,
    }

    errors = [row for row in rows if row.kind == "error"]
    assert [(row.row_number, codes(row)) for row in errors] == [
        (96, ["missing_patient_name"]),
        (99, ["missing_patient_name"]),
    ]
    visits = [row for row in rows if row.kind == "visit"]
    assert [row.row_number for row in visits if row.issues] == []
    assert len({row.source_id for row in visits}) == 67

    # 67 visit rows = 60 visits + 7 split-visit rows the applier merges into their visit.
    groups = group_visits(rows)
    assert len(groups) == 60
    assert sorted(len(group) for group in groups.values() if len(group) > 1) == [2] * 7
    assert len({patient_key(row) for row in visits}) == 34
    # The two rows of a split visit always agree on the confirmation; count each visit once.
    assert sum(1 for group in groups.values() if group[0].confirmation_status == "confirmed") == 27
    assert all(len({row.confirmation_status for row in group}) == 1 for group in groups.values())

    # Four cars, two of them "CARRO 1" of different bases: never merged by the bare label.
    assert sorted({(row.car_key, row.car_label, row.car_base) for row in visits}) == [
        ("379|AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84", "CARRO 1", "AV CENTER 1"),
        ("380|AD-SF-FQ-AC-AV CENTER 2 CARRO 1 - UND84", "CARRO 1", "AV CENTER 2"),
        ("381|AD-SF-FQ-AC-AV CENTER 2 CARRO 2 - UND84", "CARRO 2", "AV CENTER 2"),
        ("382|AD-SF-FQ-AC-AV CENTER 3 CARRO 1 - UND84", "CARRO 1", "AV CENTER 3"),
    ]


def test_dasaexp_sample_first_row_is_fully_typed():
    row = next(parse(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name).rows())

    assert row == ParsedRow(
        row_number=2,
        kind="visit",
        raw=row.raw,
        source_id="c7ac40bc-e67f-4b04-8554-adbc4801b608",
        agenda_id="480301001",
        status="scheduled",
        brand="Sérgio Franco Medicina Diagnóstica",
        unit_code="248",
        unit_name="Barra - Aventura Center",
        room_code="379",
        room_name="AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84",
        car_label="CARRO 1",
        car_base="AV CENTER 1",
        operational_unit="UND84",
        car_key="379|AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84",
        start=datetime(2025, 6, 18, 6, 40),
        end=datetime(2025, 6, 18, 7, 20),
        patient_name="EDSON MONTEIRO RAMOS",
        birth_date=date(2008, 11, 14),
        cpf_digits=None,
        cpf_valid=False,
        rgs=("594332482", "126271379"),
        phones=(Phone("21946584435", "mobile"),),
        email="edson70@exemplo.com.br",
        exam_codes=("1010",),
        exam_names="HEMOGLOBINA GLICADA",
        total_exams=1,
        address_text="rua visconde de piraja,1017,laranjeiras,rio de janeiro,rj,22342-045,bloco 4 apto 1043",
        address=Address(
            street="rua visconde de piraja",
            number="1017",
            neighborhood="laranjeiras",
            city="rio de janeiro",
            state="RJ",
            zip_code="22342045",
            complement="bloco 4 apto 1043",
        ),
        health_plan_code="305",
        health_plan_name="PORTO SEGURO SAÚDE",
        health_plan_card="39927334737",
        category="PRINCIPAL",
        physician_text="CRM - RJ - 773658",
        physician=Physician("CRM", "RJ", "773658"),
        booking_channel="NAV",
        booked_by=None,
        booked_at=datetime(2025, 6, 4, 4, 40),
        confirmation_status="confirmed",
        confirmation_channel="whatsapp",
        confirmation_time=None,
        notes=None,
    )
    assert len(row.raw) == 30
    assert row.raw["Data/Hora Confirmação"] == "WHATSS"
    assert row.raw["Usuário Marcação"] == ""


def test_dasaexp_sample_split_visit_rows_share_a_key_and_keep_both_source_ids():
    rows = {row.row_number: row for row in parse(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name).rows()}
    first, second = rows[20], rows[21]

    assert split_visit_key(first) == split_visit_key(second) == (
        "382|AD-SF-FQ-AC-AV CENTER 3 CARRO 1 - UND84",
        datetime(2025, 6, 18, 10, 40),
        "guilherme dos soares costa",
        "480301019",
    )
    assert (first.source_id, second.source_id) == (
        "ee89e47f-5973-4dfc-bc2d-e6312731abc8",
        "bd62aeb1-737e-43ca-9c5d-734a56afae64",
    )
    assert (first.health_plan_code, second.health_plan_code) == ("91", "44")
    assert (first.exam_codes, second.exam_codes) == (("1008",), ("1007", "1019", "1001"))
    assert (rows[96].agenda_id, rows[96].patient_name, rows[96].kind) == (None, None, "error")


def test_simplified_sample_matches_the_domain_table():
    parsed = parse(SIMPLIFIED_SAMPLE.read_bytes(), SIMPLIFIED_SAMPLE.name)
    rows = list(parsed.rows())

    assert (parsed.layout, parsed.sheet_name, parsed.total_rows) == ("simplified", "Agendamentos", 36)
    assert Counter(row.kind for row in rows) == {"visit": 36}
    assert [row.row_number for row in rows if row.issues] == []
    assert {row.source_id for row in rows} == {None}
    assert len(group_visits(rows)) == 36
    assert len({patient_key(row) for row in rows}) == 24
    assert sum(1 for row in rows if row.confirmation_status == "confirmed") == 22
    assert sorted({row.car_key for row in rows}) == [
        "001|CARRO 1 - COLETA DOMICILIAR",
        "002|CARRO 2 - COLETA DOMICILIAR",
        "003|CARRO 3 - COLETA DOMICILIAR",
    ]
    first = rows[0]
    assert (first.address, first.exam_codes, first.physician_text, first.physician) == (
        Address("Rua Tuiuti", "2896", "Butantã", "São Paulo", "SP", None, complement="Apto 78"),
        ("HBA001", "URI001", "PCR001"),
        "PM201001",
        None,
    )
    # The patient without a CPF (row 34) is identified by folded name + birth date.
    assert patient_key(rows[32]) == ("name", "larissa das carvalho freitas", date(1961, 8, 20))


def test_quirky_csv_sample_matches_the_domain_table():
    parsed = parse(CSV_SAMPLE.read_bytes(), CSV_SAMPLE.name)
    rows = list(parsed.rows())

    assert (parsed.layout, parsed.sheet_name, parsed.encoding, parsed.delimiter) == (
        "simplified",
        None,
        "cp1252",
        ";",
    )
    # 45 rows = 42 visits + 1 exam room (SALA 5) + 2 error rows. The file has no exact
    # duplicate row: row 33 repeats row 12's patient, slot and exams but in SALA 5.
    assert parsed.total_rows == 45
    assert Counter(row.kind for row in rows) == {"visit": 42, "skipped": 1, "error": 2}
    assert [(row.row_number, row.room_name, row.skip_reason) for row in rows if row.kind == "skipped"] == [
        (33, "SALA 5 - Unidade Paulista", "not_a_car_room")
    ]
    assert [(row.row_number, codes(row)) for row in rows if row.kind == "error"] == [
        (11, ["invalid_date"]),
        (24, ["missing_patient_name"]),
    ]
    visits = [row for row in rows if row.kind == "visit"]
    assert [row.row_number for row in visits if row.issues] == []
    assert len(group_visits(rows)) == 42
    assert len({patient_key(row) for row in visits}) == 23
    assert sum(1 for row in visits if row.confirmation_status == "confirmed") == 21

    by_number = {row.row_number: row for row in rows}
    # `Carro 01 - Coleta Especial` is CARRO 1, but a different agenda from `CARRO 1 - Coleta Domiciliar`.
    assert (by_number[4].car_label, by_number[4].car_base, by_number[4].car_key) == (
        "CARRO 1", "COLETA ESPECIAL", "001|CARRO 01 - COLETA ESPECIAL"
    )
    assert by_number[2].car_base == "COLETA DOMICILIAR"
    assert by_number[2].car_key == "001|CARRO 1 - COLETA DOMICILIAR"
    assert (by_number[3].start, by_number[3].end) == (datetime(2025, 1, 20, 7, 30), datetime(2025, 1, 20, 8, 20))
    assert (by_number[3].cpf, by_number[3].rgs) == ("52985115540", ("189344247",))
    assert by_number[8].cpf == "02577920741"
    assert by_number[18].phones == (Phone("19934031092", "mobile"), Phone("1938461388", "residential"))
    assert by_number[38].address == Address(
        "Rua Vergueiro", "3697", "Itaim Bibi", "São Paulo", "SP", "02680593", complement="Apto 42"
    )
    assert by_number[7].patient_name == "Francisco Melo Cavalcanti"
    assert by_number[7].address.city == "SÃO PAULO"


# ---------------------------------------------------------------- layout and header quirks


def test_title_and_blank_lines_above_the_header_keep_spreadsheet_row_numbers(tmp_path):
    lines = [["Relatório de agendamento - Barra - Aventura"], [], *grid(DASAEXP_HEADERS, dasaexp())]
    parsed = parse(write_xlsx(tmp_path, lines), "agenda.xlsx")

    assert (parsed.header.row_number, parsed.total_rows) == (3, 1)
    assert [(row.row_number, row.kind) for row in parsed.rows()] == [(4, "visit")]


def test_reordered_columns_and_an_unknown_column_kept_in_raw(tmp_path):
    headers = list(reversed(DASAEXP_HEADERS))
    headers.insert(5, "Motorista")
    lines = grid(headers, dasaexp({"Motorista": "Carlos"}))
    parsed = parse(write_xlsx(tmp_path, lines), "agenda.xlsx")
    (row,) = parsed.rows()

    assert parsed.unknown_columns == ("Motorista",)
    assert parsed.columns == tuple(headers)
    assert row.raw["Motorista"] == "Carlos"
    assert list(row.raw) == headers
    assert (row.kind, row.patient_name, row.start, row.cpf) == (
        "visit",
        "JOSÉ DA SILVA",
        datetime(2025, 6, 18, 6, 40),
        VALID_CPF,
    )


def test_headers_match_ignoring_case_accents_and_stray_spaces(tmp_path):
    variants = {
        "Nome da Sala": "  NOME  DA SALA ",
        "Data/Hora Início Agendamento": "data / hora inicio agendamento",
        "Nome do Paciente": "Nome do paciente",
        "Documento(s) do Paciente": "DOCUMENTO(S) DO PACIENTE",
        "Código da Sala": "codigo da sala",
        "Status Confirmação": "STATUS CONFIRMACAO",
    }
    headers = [variants.get(header, header) for header in DASAEXP_HEADERS]
    lines = [headers, [DASAEXP_ROW[header] for header in DASAEXP_HEADERS]]
    parsed = parse(write_xlsx(tmp_path, lines), "agenda.xlsx")
    (row,) = parsed.rows()

    assert parsed.unknown_columns == ()
    assert (row.room_code, row.start, row.patient_name, row.cpf, row.confirmation_status) == (
        "379",
        datetime(2025, 6, 18, 6, 40),
        "JOSÉ DA SILVA",
        VALID_CPF,
        "confirmed",
    )
    assert row.raw["NOME DA SALA"] == "AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84"


def test_simplified_layout_with_optional_health_plan_and_extra_columns(tmp_path):
    headers = ["Convênio", *SIMPLIFIED_HEADERS, "Observação interna"]
    row = only_row(tmp_path, simplified({"Convênio": "Bradesco Saúde", "Observação interna": "x"}), headers)

    assert (row.kind, row.source_id, row.health_plan_code, row.health_plan_name) == (
        "visit",
        None,
        None,
        "Bradesco Saúde",
    )
    assert row.raw["Observação interna"] == "x"


def test_health_plan_code_and_name_in_one_cell(tmp_path):
    headers = ["Convênio", *SIMPLIFIED_HEADERS]
    row = only_row(tmp_path, simplified({"Convênio": "80 - AMIL"}), headers)

    assert (row.health_plan_code, row.health_plan_name) == ("80", "AMIL")


def test_second_sheet_is_used_when_the_first_has_no_header(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Instruções"
    workbook.active.append(["Exportado do DasaExp em 20/06/2025"])
    agenda = workbook.create_sheet("agendamentos")
    for line in grid(DASAEXP_HEADERS, dasaexp()):
        agenda.append(line)
    workbook.save(tmp_path / "two.xlsx")
    parsed = parse((tmp_path / "two.xlsx").read_bytes(), "two.xlsx")

    assert (parsed.sheet_name, parsed.total_rows) == ("agendamentos", 1)


def test_rows_stream_lazily_and_can_be_read_twice(tmp_path):
    parsed = parse(write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp(), dasaexp({"Nome do Paciente": "Ana"}))), "a")

    assert isinstance(parsed.rows(), Iterator)
    assert [row.patient_name for row in parsed.rows()] == ["JOSÉ DA SILVA", "Ana"]
    assert [row.patient_name for row in parsed.rows()] == ["JOSÉ DA SILVA", "Ana"]


# ---------------------------------------------------------------- dates


def test_real_date_cells_and_text_dates_give_the_same_values(tmp_path):
    cells = dasaexp(
        {
            "Data/Hora Início Agendamento": datetime(2025, 6, 18, 6, 40),
            "Data/Hora Fim Agendamento": datetime(2025, 6, 18, 7, 20),
            "Data da Efetivação": datetime(2025, 6, 4, 4, 40),
            "Nascimento": datetime(1990, 12, 19),
        }
    )
    row = only_row(tmp_path, cells)

    assert (row.start, row.end, row.booked_at, row.birth_date) == (
        datetime(2025, 6, 18, 6, 40),
        datetime(2025, 6, 18, 7, 20),
        datetime(2025, 6, 4, 4, 40),
        date(1990, 12, 19),
    )
    assert (row.raw["Data/Hora Início Agendamento"], row.raw["Nascimento"]) == ("18/06/2025 06:40:00", "19/12/1990")
    assert row.issues == ()


@pytest.mark.parametrize(
    "start",
    [
        "18/06/2025 06:40:00",
        "18/06/2025 06:40",
        "2025-06-18T06:40:00",
        "2025-06-18 06:40",
        "2025-06-18T09:40:00Z",  # UTC, converted to São Paulo local time
        "2025-06-18T06:40:00-03:00",
    ],
)
def test_start_date_forms(tmp_path, start):
    row = only_row(tmp_path, dasaexp({"Data/Hora Início Agendamento": start}))

    assert (row.kind, row.start, row.issues) == ("visit", datetime(2025, 6, 18, 6, 40), ())


@pytest.mark.parametrize("birth", ["19/12/1990", "1990-12-19", "19/12/1990 00:00:00"])
def test_birth_date_forms(tmp_path, birth):
    assert only_row(tmp_path, dasaexp({"Nascimento": birth})).birth_date == date(1990, 12, 19)


def test_invalid_birth_date_is_a_warning(tmp_path):
    row = only_row(tmp_path, dasaexp({"Nascimento": "31/02/1990"}))

    assert (row.kind, row.birth_date, codes(row)) == ("visit", None, ["invalid_birth_date"])


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("Data/Hora Início Agendamento", "31/02/2025 25:61", "start"),
        ("Data/Hora Início Agendamento", "amanhã cedo", "start"),
        ("Data/Hora Fim Agendamento", "30/02/2025 07:20:00", "end"),
    ],
)
def test_impossible_date_is_an_error_row(tmp_path, column, value, field):
    row = only_row(tmp_path, dasaexp({column: value}))

    assert row.kind == "error"
    message = f"Data/hora inválida na coluna “{column}”."
    assert row.issues == (RowIssue(2, "error", "invalid_date", message, field),)


def test_missing_start_is_an_error_row(tmp_path):
    row = only_row(tmp_path, dasaexp({"Data/Hora Início Agendamento": None}))

    assert (row.kind, codes(row), row.start) == ("error", ["missing_start"], None)


def test_end_before_start_is_a_warning_and_the_slot_becomes_40_minutes(tmp_path):
    row = only_row(tmp_path, dasaexp({"Data/Hora Fim Agendamento": "18/06/2025 06:00:00"}))

    assert (row.kind, codes(row), row.end) == ("visit", ["end_before_start"], datetime(2025, 6, 18, 7, 20))


def test_missing_end_is_a_warning_and_the_slot_becomes_40_minutes(tmp_path):
    row = only_row(tmp_path, dasaexp({"Data/Hora Fim Agendamento": None}))

    assert (row.kind, codes(row), row.end) == ("visit", ["missing_end"], datetime(2025, 6, 18, 7, 20))


# ---------------------------------------------------------------- documents and contacts


@pytest.mark.parametrize(
    "documents",
    [
        "CPF: 529.982.247-25",
        "CPF: 52998224725",
        "CPF:52998224725",
        "RG: 12.345.678-9 / CPF: 529.982.247-25",
        "RG: 123456789, CPF: 52998224725, RG: 987654321",
    ],
)
def test_punctuated_or_bare_cpf(tmp_path, documents):
    row = only_row(tmp_path, dasaexp({"Documento(s) do Paciente": documents}))

    assert (row.cpf, row.cpf_valid, row.issues) == (VALID_CPF, True, ())
    assert patient_key(row) == ("cpf", VALID_CPF)


def test_several_rgs_and_only_rg(tmp_path):
    row = only_row(tmp_path, dasaexp({"Documento(s) do Paciente": "RG: 80757327, RG: 17.225.841-X"}))

    assert (row.cpf_digits, row.cpf, row.rgs, row.issues) == (None, None, ("80757327", "17225841X"), ())


def test_cpf_that_lost_its_leading_zero_is_restored():
    # Excel turns 02577920741 typed into a number cell into 2577920741.
    assert parse_documents("CPF: 2577920741").cpf_digits == "02577920741"


def test_invalid_cpf_is_a_warning_and_never_an_identity(tmp_path):
    row = only_row(tmp_path, dasaexp({"Documento(s) do Paciente": "CPF: 123.456.789-00"}))

    assert (row.kind, row.cpf_digits, row.cpf_valid, row.cpf) == ("visit", "12345678900", False, None)
    assert row.issues == (
        RowIssue(
            2,
            "warning",
            "invalid_cpf",
            "CPF inválido (dígitos verificadores não conferem); paciente sem CPF.",
            "documents",
        ),
    )
    assert patient_key(row) == ("name", "jose da silva", date(1990, 12, 19))


def test_phones_in_three_formats_with_their_labels(tmp_path):
    contacts = (
        "Celular: 21 999999999, Residencial: (21) 3333-4444; Comercial: 2122223333, "
        "Telefone: 21 98888-7777, Email: Jose@Exemplo.com.br"
    )
    row = only_row(tmp_path, dasaexp({"Contato(s) do Paciente": contacts}))

    assert row.phones == (
        Phone("21999999999", "mobile"),
        Phone("2133334444", "residential"),
        Phone("2122223333", "commercial"),
        Phone("21988887777", "mobile"),
    )
    assert (row.email, row.issues) == ("jose@exemplo.com.br", ())


def test_invalid_phone_and_email_are_warnings_without_the_values(tmp_path):
    row = only_row(tmp_path, dasaexp({"Contato(s) do Paciente": "Celular: 12345, Email: jose-at-exemplo"}))

    assert (row.kind, row.phones, row.email) == ("visit", (), None)
    assert [(issue.code, issue.message) for issue in row.issues] == [
        ("invalid_phone", "1 telefone(s) inválido(s) ignorado(s)."),
        ("invalid_email", "E-mail inválido ignorado."),
    ]


def test_empty_contacts_and_documents(tmp_path):
    row = only_row(tmp_path, dasaexp({"Contato(s) do Paciente": None, "Documento(s) do Paciente": None}))

    assert (row.phones, row.email, row.cpf_digits, row.rgs, row.issues) == ((), None, None, (), ())


# ---------------------------------------------------------------- addresses, exams, physician, statuses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "rua visconde de piraja,1017,laranjeiras,rio de janeiro,rj,22342-045",
            Address("rua visconde de piraja", "1017", "laranjeiras", "rio de janeiro", "RJ", "22342045"),
        ),
        (
            "avenida lucio costa,3558,pechincha,rio de janeiro,rj,22453-667,bloco 2 apto 371",
            Address("avenida lucio costa", "3558", "pechincha", "rio de janeiro", "RJ", "22453667", "bloco 2 apto 371"),
        ),
        (
            "rua dias da rocha,2426,flamengo,rio de janeiro,rj,22389-266,casa 25,proximo ao mercado",
            Address(
                "rua dias da rocha",
                "2426",
                "flamengo",
                "rio de janeiro",
                "RJ",
                "22389266",
                complement="casa 25",
                reference="proximo ao mercado",
            ),
        ),
        (
            "Rua das Flores, 123, Centro, São Paulo, SP",
            Address("Rua das Flores", "123", "Centro", "São Paulo", "SP", None),
        ),
        (
            "Rua Vergueiro, 3697, Apto 42, Itaim Bibi, São Paulo, SP, 02680-593",
            Address("Rua Vergueiro", "3697", "Itaim Bibi", "São Paulo", "SP", "02680593", "Apto 42"),
        ),
    ],
)
def test_address_forms(tmp_path, text, expected):
    row = only_row(tmp_path, dasaexp({"Endereço Coleta": text}))

    assert (row.address_text, row.address, row.issues) == (text, expected, ())


def test_unsplittable_address_is_kept_as_text_with_a_warning(tmp_path):
    row = only_row(tmp_path, dasaexp({"Endereço Coleta": "Rua sem fim 100 casa 2"}))

    assert (row.kind, row.address_text, row.address, codes(row)) == (
        "visit",
        "Rua sem fim 100 casa 2",
        None,
        ["unparsed_address"],
    )


def test_bad_zip_code_is_dropped_with_a_warning(tmp_path):
    row = only_row(tmp_path, dasaexp({"Endereço Coleta": "rua x,1,centro,rio de janeiro,rj,2234"}))

    assert (row.address, codes(row)) == (
        Address("rua x", "1", "centro", "rio de janeiro", "RJ", None),
        ["invalid_zip_code"],
    )


def test_missing_address_on_a_car_row_is_a_warning(tmp_path):
    assert codes(only_row(tmp_path, dasaexp({"Endereço Coleta": None}))) == ["missing_address"]


def test_exam_names_with_commas_are_kept_whole(tmp_path):
    row = only_row(
        tmp_path,
        dasaexp(
            {
                "Códigos dos Exames": "1009, 1013, 1004",
                "Nomes dos Exames": ", TGO, TRIGLICERIDEOS",
                "Total Exames": "3",
            }
        ),
    )

    assert (row.exam_codes, row.exam_names, row.total_exams, row.issues) == (
        ("1009", "1013", "1004"),
        ", TGO, TRIGLICERIDEOS",
        3,
        (),
    )


def test_total_exams_differing_from_the_codes_is_a_warning(tmp_path):
    row = only_row(tmp_path, dasaexp({"Total Exames": "3"}))

    assert (row.kind, row.total_exams, row.exam_codes) == ("visit", 3, ("1009", "1004"))
    assert [(issue.level, issue.code, issue.message) for issue in row.issues] == [
        ("warning", "exam_count_mismatch", "Total de exames (3) difere da quantidade de códigos (2).")
    ]


def test_total_exams_that_is_not_a_number_is_a_warning(tmp_path):
    row = only_row(tmp_path, dasaexp({"Total Exames": "dois"}))

    assert (row.total_exams, codes(row)) == (None, ["invalid_total_exams"])


@pytest.mark.parametrize(
    ("text", "physician_text", "physician"),
    [
        ("CRM - RJ - 52123456", "CRM - RJ - 52123456", Physician("CRM", "RJ", "52123456")),
        ("Não encontrado", None, None),
        ("NAO ENCONTRADO", None, None),
        (None, None, None),
    ],
)
def test_physician(tmp_path, text, physician_text, physician):
    row = only_row(tmp_path, dasaexp({"CRM Pedido Médico": text}))

    assert (row.physician_text, row.physician) == (physician_text, physician)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Confirmado", "confirmed"),
        ("CONFIRMADO", "confirmed"),
        ("Não Confirmado", "pending"),
        ("NAO CONFIRMADO", "pending"),
        ("não confirmado", "pending"),
        (None, "pending"),
    ],
)
def test_confirmation_status_forms(tmp_path, status, expected):
    row = only_row(tmp_path, dasaexp({"Status Confirmação": status}))

    assert (row.confirmation_status, row.issues) == (expected, ())


def test_unknown_confirmation_status_reads_as_pending_with_a_warning(tmp_path):
    row = only_row(tmp_path, dasaexp({"Status Confirmação": "Talvez"}))

    assert (row.confirmation_status, codes(row)) == ("pending", ["unknown_confirmation_status"])


@pytest.mark.parametrize(
    ("channel", "expected"),
    [("WHATSS", "whatsapp"), ("WhatsApp", "whatsapp"), ("SMS", "sms"), ("Telefone", "phone"), ("App", "app"),
     ("Site", "site"), ("Pombo-correio", "other"), (None, None)],
)
def test_confirmation_channel_forms(tmp_path, channel, expected):
    assert only_row(tmp_path, dasaexp({"Canal Confirmação": channel})).confirmation_channel == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("WHATSS", None), (None, None), ("18/06/2025 05:10:00", datetime(2025, 6, 18, 5, 10))],
)
def test_confirmation_time_only_when_it_is_a_date(tmp_path, value, expected):
    row = only_row(tmp_path, dasaexp({"Data/Hora Confirmação": value}))

    assert (row.confirmation_time, row.issues) == (expected, ())


@pytest.mark.parametrize(
    ("status", "expected"),
    [("Agendado", "scheduled"), ("Agendamento de Encaixe", "squeezed_in"), ("AGENDAMENTO DE ENCAIXE", "squeezed_in")],
)
def test_appointment_status(tmp_path, status, expected):
    assert only_row(tmp_path, dasaexp({"Status Agendamento": status})).status == expected


# ---------------------------------------------------------------- row kinds


@pytest.mark.parametrize(
    ("code", "room"),
    [("03", "LACTOSE 1/2"), ("06", "CURVA GLICEMICA 1"), ("21", "VACINA"), ("24", "USG_DRA HELENA"),
     ("5", "SALA 5 - Unidade Paulista"), (None, None)],
)
def test_rooms_that_are_not_cars_are_skipped_without_issues(tmp_path, code, room):
    # Even a broken exam-room row (no patient, bad date) is only skipped: it is not ours.
    row = only_row(
        tmp_path,
        dasaexp({"Código da Sala": code, "Nome da Sala": room, "Nome do Paciente": None, "Nascimento": "31/02/1990"}),
    )

    reason = "not_a_car_room" if room else "empty_room"
    assert (row.kind, row.skip_reason, row.issues, row.car_key) == ("skipped", reason, (), None)


@pytest.mark.parametrize(
    ("room", "label", "base", "unit"),
    [
        ("AD-SF-FQ-AC-AV CENTER 2 CARRO 1 - UND84", "CARRO 1", "AV CENTER 2", "UND84"),
        ("CARRO 2 - Coleta Domiciliar", "CARRO 2", "COLETA DOMICILIAR", None),
        ("Carro 03 - Coleta Especial", "CARRO 3", "COLETA ESPECIAL", None),
        ("CARRO 4", "CARRO 4", None, None),
        ("CARRO 5 - UND12", "CARRO 5", None, "UND12"),
    ],
)
def test_car_rooms_are_home_visits(tmp_path, room, label, base, unit):
    row = only_row(tmp_path, dasaexp({"Nome da Sala": room}))

    assert (row.kind, row.car_label, row.car_base, row.operational_unit) == ("visit", label, base, unit)


def test_cars_with_the_same_label_in_different_bases_are_different_cars(tmp_path):
    first = dasaexp()
    second = dasaexp(
        {
            "Id do agendamento": "other",
            "Código da Sala": "380",
            "Nome da Sala": "AD-SF-FQ-AC-AV CENTER 2 CARRO 1 - UND84",
        }
    )
    rows = rows_of(write_xlsx(tmp_path, grid(DASAEXP_HEADERS, first, second)))

    assert [(row.car_label, row.car_key) for row in rows] == [
        ("CARRO 1", "379|AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84"),
        ("CARRO 1", "380|AD-SF-FQ-AC-AV CENTER 2 CARRO 1 - UND84"),
    ]
    assert split_visit_key(rows[0]) != split_visit_key(rows[1])


def test_car_row_without_patient_name_is_an_error_row(tmp_path):
    row = only_row(tmp_path, dasaexp({"Nome do Paciente": "  ", "Id da agenda": "0"}))

    assert (row.kind, row.agenda_id) == ("error", None)
    assert row.issues == (
        RowIssue(2, "error", "missing_patient_name", "Linha de carro sem nome do paciente.", "patient_name"),
    )


def test_split_visit_key_groups_the_two_rows_of_one_visit(tmp_path):
    first = dasaexp({"Convênio": "44", "Nome do Convênio": "PARTICULAR"})
    second = dasaexp(
        {
            "Id do agendamento": "second-id",
            "Nome do Paciente": "José da Silva",
            "Códigos dos Exames": "1010",
            "Total Exames": "1",
        }
    )
    other = dasaexp({"Id do agendamento": "third-id", "Id da agenda": "480301099"})
    rows = rows_of(write_xlsx(tmp_path, grid(DASAEXP_HEADERS, first, second, other)))

    assert split_visit_key(rows[0]) == split_visit_key(rows[1]) == (
        "379|AD-SF-FQ-AC-AV CENTER 1 CARRO 1 - UND84",
        datetime(2025, 6, 18, 6, 40),
        "jose da silva",
        "480301001",
    )
    assert split_visit_key(rows[2]) != split_visit_key(rows[0])
    assert [row.kind for row in rows] == ["visit", "visit", "visit"]


def test_exact_duplicate_row_is_marked_once(tmp_path):
    other = simplified({"Nome do Paciente": "Ana Lima", "Documento(s) Paciente": ""})
    lines = grid(SIMPLIFIED_HEADERS, simplified(), other, simplified())
    parsed = parse(write_xlsx(tmp_path, lines), "agenda.xlsx")
    rows = list(parsed.rows())

    assert parsed.total_rows == 3
    assert [(row.row_number, row.kind, row.duplicate_of) for row in rows] == [
        (2, "visit", None),
        (3, "visit", None),
        (4, "duplicate", 2),
    ]
    assert rows[2].issues == (
        RowIssue(4, "warning", "duplicate_row", "Linha idêntica à linha 2; importada uma única vez."),
    )
    assert rows[2].patient_name == "Maria das Dores"


def test_header_repeated_mid_file_is_skipped(tmp_path):
    first, second = grid(DASAEXP_HEADERS, dasaexp(), dasaexp({"Id da agenda": "9"}))[1:]
    lines = [DASAEXP_HEADERS, first, DASAEXP_HEADERS, second]
    rows = rows_of(write_xlsx(tmp_path, lines))

    assert [(row.row_number, row.kind, row.skip_reason) for row in rows] == [
        (2, "visit", None),
        (3, "skipped", "repeated_header"),
        (4, "visit", None),
    ]


def test_issue_messages_never_carry_personal_values(tmp_path):
    row = only_row(
        tmp_path,
        dasaexp(
            {
                "Documento(s) do Paciente": "CPF: 111.222.333-44",
                "Contato(s) do Paciente": "Celular: 21 12345, Email: zé@",
                "Nascimento": "99/99/1990",
                "Endereço Coleta": "Rua Secreta 42",
            }
        ),
    )
    messages = " ".join(issue.message for issue in row.issues)

    assert codes(row) == ["invalid_birth_date", "invalid_cpf", "invalid_phone", "invalid_email", "unparsed_address"]
    for value in ("111", "12345", "zé@", "99/99", "Secreta", "JOSÉ", "SILVA"):
        assert value not in messages


# ---------------------------------------------------------------- file formats


def test_utf8_bom_csv_with_commas(tmp_path):
    data = write_csv(grid(SIMPLIFIED_HEADERS, simplified()), ",", "utf-8-sig")
    parsed = parse(data, "agenda.csv")
    (row,) = parsed.rows()

    assert (parsed.encoding, parsed.delimiter, parsed.layout) == ("utf-8-sig", ",", "simplified")
    assert (row.kind, row.patient_name, row.address.city, row.exam_names) == (
        "visit",
        "Maria das Dores",
        "São Paulo",
        "Hemoglobina Glicada, Urina Tipo I",
    )
    assert list(row.raw)[0] == "ID Sala"


def test_windows_1252_csv_with_semicolons_and_a_title_line():
    row = simplified({"Nome do Paciente": "Ângela Conceição"})
    lines = [["Agenda de coleta domiciliar"], *grid(SIMPLIFIED_HEADERS, row)]
    parsed = parse(write_csv(lines, ";", "cp1252"), "agenda.csv")
    (row,) = parsed.rows()

    assert (parsed.encoding, parsed.delimiter, parsed.header.row_number) == ("cp1252", ";", 2)
    assert (row.row_number, row.patient_name, row.confirmation_status, row.address.city) == (
        3,
        "Ângela Conceição",
        "pending",
        "São Paulo",
    )


def test_utf8_csv_without_bom_and_tab_separated_utf16():
    utf8 = parse(write_csv(grid(SIMPLIFIED_HEADERS, simplified()), ";", "utf-8"), "a.csv")
    utf16 = parse(write_csv(grid(SIMPLIFIED_HEADERS, simplified()), "\t", "utf-16"), "a.txt")

    assert (utf8.encoding, utf8.delimiter, next(utf8.rows()).address.city) == ("utf-8", ";", "São Paulo")
    assert (utf16.encoding, utf16.delimiter, next(utf16.rows()).address.city) == ("utf-16", "\t", "São Paulo")


def test_type_is_told_by_content_not_by_extension(tmp_path):
    workbook = write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp()))
    text = write_csv(grid(DASAEXP_HEADERS, dasaexp()), ";", "utf-8")

    as_xls = parse(workbook, "Relatorio de agendamento.xls")
    csv_named_xlsx = parse(text, "agenda.xlsx")

    assert (as_xls.sheet_name, as_xls.total_rows) == ("agendamentos", 1)
    assert (csv_named_xlsx.sheet_name, csv_named_xlsx.delimiter) == (None, ";")
    assert next(as_xls.rows()).patient_name == next(csv_named_xlsx.rows()).patient_name == "JOSÉ DA SILVA"


def test_formula_cells_use_the_cached_value_and_report_uncached_ones(tmp_path):
    lines = grid(
        DASAEXP_HEADERS,
        dasaexp({"Nome do Paciente": '="MARIA "&"SILVA"'}),
        dasaexp({"Id do agendamento": "second", "Nome do Paciente": '=UPPER("ana")'}),
    )
    data = write_xlsx(tmp_path, lines)
    # openpyxl saves formulas without results; give the first one the value Excel would cache.
    data = rewrite_member(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb'<c r="K2"><f>(.*?)</f><v(?:\s*/>|></v>)', rb'<c r="K2" t="str"><f>\1</f><v>MARIA SILVA</v>', xml),
    )
    cached, uncached = rows_of(data)

    assert (cached.kind, cached.patient_name, cached.issues) == ("visit", "MARIA SILVA", ())
    assert (uncached.kind, uncached.patient_name, uncached.raw["Nome do Paciente"]) == ("error", None, '=UPPER("ana")')
    assert [(issue.level, issue.code, issue.message) for issue in uncached.issues] == [
        (
            "warning",
            "formula_without_value",
            "A coluna “Nome do Paciente” tem uma fórmula sem valor calculado; o valor foi ignorado.",
        ),
        ("error", "missing_patient_name", "Linha de carro sem nome do paciente."),
    ]


def test_dimension_that_lies_small_does_not_cut_rows(tmp_path):
    data = write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp(), dasaexp({"Id do agendamento": "b"})))
    data = rewrite_member(
        data, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B1"', xml)
    )

    parsed = parse(data, "agenda.xlsx")

    assert parsed.total_rows == 2
    assert [row.kind for row in parsed.rows()] == ["visit", "visit"]


def test_a_million_empty_rows_after_the_data_stop_quickly(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in grid(DASAEXP_HEADERS, dasaexp(), dasaexp({"Id do agendamento": "b"})):
        sheet.append(line)
    sheet.cell(row=1_000_000, column=1, value="   ")  # the sheet now spans a million rows
    workbook.save(tmp_path / "padded.xlsx")
    started = time.monotonic()

    parsed = parse((tmp_path / "padded.xlsx").read_bytes(), "padded.xlsx")
    rows = list(parsed.rows())

    assert (parsed.total_rows, len(rows)) == (2, 2)
    assert time.monotonic() - started < 10


def late_row_workbook(tmp_path: Path, padding: bytes = b"", dimension: bytes | None = None) -> bytes:
    """The header, a visit on row 2, `padding` rows, and a second visit on row 1,000,003."""
    data = write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp(), dasaexp({"Id do agendamento": "late"})))

    def move(xml: bytes) -> bytes:
        start = xml.index(b'<row r="3"')
        end = xml.index(b"</row>", start) + len(b"</row>")
        late = re.sub(rb'r="([A-Z]*)3"', rb'r="\g<1>1000003"', xml[start:end])
        xml = xml[:start] + padding + late + xml[end:]
        if dimension is not None:
            xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + dimension + b'"', xml)
        return xml

    return rewrite_member(data, "xl/worksheets/sheet1.xml", move)


@pytest.mark.parametrize(
    "padding, dimension",
    [
        (b"", None),  # the rows in between are simply left out
        (b"".join(b'<row r="%d"/>' % number for number in range(3, 1_000_003)), None),  # a million empty <row/>
        (b"", b"A1:AD2"),  # and a <dimension> that says the sheet ends at row 2
    ],
    ids=["gap", "a million empty row elements", "lying dimension"],
)
def test_a_data_row_after_a_million_empty_rows_is_read(tmp_path, padding, dimension):
    data = late_row_workbook(tmp_path, padding, dimension)

    parsed = parse(data, "agenda.xlsx")
    rows = list(parsed.rows())

    assert [(row.row_number, row.kind, row.source_id) for row in rows] == [
        (2, "visit", "c7ac40bc-e67f-4b04-8554-adbc4801b608"), (1_000_003, "visit", "late")
    ]
    assert parsed.total_rows == 2


def test_a_csv_data_row_after_a_million_blank_lines_is_read():
    lines = grid(SIMPLIFIED_HEADERS, simplified()) + [[""] * len(SIMPLIFIED_HEADERS)] * 1_000_000
    lines += grid(SIMPLIFIED_HEADERS, simplified({"Nome do Paciente": "Ana Late"}))[1:]

    rows = rows_of(write_csv(lines, ";", "cp1252"), "agenda.csv")

    assert [(row.row_number, row.patient_name) for row in rows] == [(2, "Maria das Dores"), (1_000_003, "Ana Late")]


def test_header_only_file_has_no_rows(tmp_path):
    parsed = parse(write_xlsx(tmp_path, [DASAEXP_HEADERS]), "agenda.xlsx")

    assert (parsed.total_rows, list(parsed.rows())) == (0, [])


# ---------------------------------------------------------------- refused files


def test_no_recognisable_header(tmp_path):
    data = write_xlsx(tmp_path, [["Paciente", "Horário", "Endereço"], ["Ana", "07:00", "Rua A, 1"]])

    with pytest.raises(Invalid) as caught:
        parse(data, "agenda.xlsx")

    assert caught.value.code == "no_header"
    assert caught.value.message == (
        "Cabeçalho não encontrado nas primeiras 20 linhas: faltam as colunas "
        "Nome da Sala, Data/Hora Início Agendamento, Nome do Paciente."
    )
    assert caught.value.details == {
        "missing_columns": ["Nome da Sala", "Data/Hora Início Agendamento", "Nome do Paciente"]
    }


def test_header_below_the_scanned_rows_is_not_found(tmp_path):
    lines = [[f"linha {number}"] for number in range(1, 21)] + grid(DASAEXP_HEADERS, dasaexp())

    assert invalid_code(write_xlsx(tmp_path, lines)) == "no_header"


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n  \r\n"])
def test_empty_file(data):
    assert invalid_code(data, "agenda.csv") == "empty_file"


def test_empty_workbook_and_blank_csv(tmp_path):
    assert invalid_code(write_xlsx(tmp_path, [])) == "empty_file"
    assert invalid_code(b";;;\r\n;;\r\n", "agenda.csv") == "empty_file"


def test_random_bytes_are_refused():
    data = random.Random(7).randbytes(64 * 1024)

    assert invalid_code(data, "agenda.xlsx") == "unsupported_file_type"


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"],
)
def test_pdf_and_png_are_refused(data):
    assert invalid_code(data, "agenda.xlsx") == "unsupported_file_type"


def test_legacy_binary_xls_is_refused():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 1024

    with pytest.raises(Invalid) as caught:
        parse(ole, "agenda.xls")

    assert caught.value.code == "unsupported_file_type"
    assert "salve como .xlsx" in caught.value.message


def test_password_protected_workbook_is_reported_as_encrypted():
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 504
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 50
        + "EncryptedPackage".encode("utf-16-le")
        + b"\x00" * 1024
    )

    with pytest.raises(Invalid) as caught:
        parse(ole, "agenda.xlsx")

    assert caught.value.code == "encrypted_file"
    assert "senha" in caught.value.message


def test_truncated_zip_is_corrupt(tmp_path):
    data = write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp()))

    assert invalid_code(data[: len(data) // 2]) == "corrupt_file"


def test_zip_with_a_broken_workbook_is_corrupt(tmp_path):
    data = write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp()))

    assert invalid_code(rewrite_member(data, "xl/workbook.xml", lambda _: b"<workbook oops")) == "corrupt_file"
    half_sheet = rewrite_member(data, "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])
    assert invalid_code(half_sheet) == "corrupt_file"


def test_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr("word/document.xml", "<document/>")

    assert invalid_code(out.getvalue(), "agenda.xlsx") == "unsupported_file_type"


def test_zip_bomb_is_refused_before_opening():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = bytes(1 << 20)
            for _ in range(300):  # 300 MB of zeros, about 300 KB compressed
                member.write(zeros)

    assert len(out.getvalue()) < 1_000_000
    assert invalid_code(out.getvalue()) == "file_too_complex"


def test_zip_limits_are_configurable(tmp_path):
    data = write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp()))

    assert invalid_code(data, limits=Limits(max_uncompressed_bytes=1000)) == "file_too_complex"
    assert invalid_code(data, limits=Limits(ratio_check_min_bytes=100, max_compression_ratio=1.5)) == "file_too_complex"
    assert parse(data, "agenda.xlsx", limits=Limits(max_uncompressed_bytes=1_000_000)).total_rows == 1


def test_zip_encrypted_member_is_reported_as_encrypted(tmp_path):
    data = bytearray(write_xlsx(tmp_path, grid(DASAEXP_HEADERS, dasaexp())))
    # Set the "encrypted" bit of every central-directory entry, as a password-protected zip does.
    start = data.find(b"PK\x01\x02")
    while start != -1:
        data[start + 8] |= 0x1
        start = data.find(b"PK\x01\x02", start + 4)

    assert invalid_code(bytes(data)) == "encrypted_file"


def test_encoding_detection_is_strict_utf8_then_windows_1252():
    # One byte that is not UTF-8 (é in cp1252) makes the whole file cp1252.
    assert detect_encoding("ID Sala;Nome da Sala\r\nJosé".encode("cp1252")) == "cp1252"
    assert detect_encoding("ID Sala;Nome da Sala\r\nJosé".encode()) == "utf-8"
    assert detect_encoding(codecs.BOM_UTF8 + "José".encode()) == "utf-8-sig"
