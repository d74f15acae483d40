"""Applying agenda files against the real database: the samples' exact counts, idempotent re-imports,
changes, flags, split visits, patient matching and enrichment, hostile files, resumability, the index."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from indexing import names, sync
from indexing.client import get_client
from storage.db import unit_of_work
from storage.errors import Invalid
from storage.imports import service
from storage.imports.models import Import
from storage.outbox import OutboxEntry
from storage.patients.models import Patient
from storage.visits.models import Visit, VisitSource
from tests.storage.imports.helpers import (
    CSV_SAMPLE,
    DASAEXP_SAMPLE,
    OTHER_CPF,
    SIMPLIFIED_SAMPLE,
    VALID_CPF,
    counts,
    csv_bytes,
    outbox_count,
    report,
    row,
    row_versions,
    run,
    snapshot,
    upload,
    xlsx,
)

pytestmark = pytest.mark.usefixtures("clean")

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def visits() -> list[Visit]:
    with unit_of_work() as session:
        return list(session.scalars(select(Visit).order_by(Visit.start_at, Visit.id)))


def patients() -> list[Patient]:
    with unit_of_work() as session:
        return list(session.scalars(select(Patient).order_by(Patient.name)))


def sources_of(visit_id: str) -> list[str]:
    with unit_of_work() as session:
        return sorted(session.scalars(select(VisitSource.source_id).where(VisitSource.visit_id == visit_id)))


# ---------------------------------------------------------------- the samples (domain.md's table)

SAMPLE_TABLE = [
    # file, layout, rows, imported, skipped, errors, distinct patients, confirmed visits, error rows
    (DASAEXP_SAMPLE, "dasaexp", 129, 60, 60, 2, 34, 27, [(96, "missing_patient_name"), (99, "missing_patient_name")]),
    (SIMPLIFIED_SAMPLE, "simplified", 36, 36, 0, 0, 24, 22, []),
    (CSV_SAMPLE, "simplified", 45, 42, 1, 2, 23, 21, [(11, "invalid_date"), (24, "missing_patient_name")]),
]


@pytest.mark.parametrize(
    "path, layout, rows, imported, skipped, errors, distinct, confirmed, error_rows",
    SAMPLE_TABLE,
    ids=["dasaexp", "simplified", "csv"],
)
def test_each_sample_gives_the_domain_table_and_a_second_import_changes_nothing(
    path, layout, rows, imported, skipped, errors, distinct, confirmed, error_rows
):
    first = run(path.read_bytes(), path.name)

    assert (first["status"], first["layout"], first["failure"]) == ("succeeded", layout, None)
    assert (first["total_rows"], first["processed_rows"]) == (rows, rows)
    assert (first["imported"], first["skipped"], first["errors"], first["duplicates"]) == (imported, skipped, errors, 0)
    assert (first["visits_created"], first["visits_updated"], first["visits_unchanged"]) == (imported, 0, 0)
    assert (first["patients_created"], first["patients_updated"]) == (distinct, 0)
    assert [(i["row"], i["code"]) for i in first["issues"] if i["level"] == "error"] == error_rows
    assert first["warnings"] == sum(1 for i in first["issues"] if i["level"] == "warning")
    assert len(visits()) == imported
    assert sum(1 for v in visits() if v.confirmation_status == "confirmed") == confirmed
    assert len(patients()) == distinct
    # Every change went through the outbox: one row per visit and per patient.
    assert outbox_count() == imported + distinct
    # As a bulk writer's rows: people's changes made meanwhile are drained before them.
    with unit_of_work() as session:
        assert session.scalars(select(OutboxEntry.bulk).distinct()).all() == [True]

    versions, pending, before = row_versions(), outbox_count(), snapshot(with_outbox=False)
    second = run(path.read_bytes(), path.name)

    assert (second["imported"], second["visits_created"], second["visits_updated"]) == (0, 0, 0)
    assert (second["patients_created"], second["patients_updated"]) == (0, 0)
    assert (second["visits_unchanged"], second["visits_missing"]) == (imported, 0)
    assert (second["skipped"], second["errors"]) == (skipped, errors)
    assert row_versions() == versions
    assert outbox_count() == pending
    after = snapshot(with_outbox=False)
    assert (after["patients"], after["visits"], after["cars"]) == (before["patients"], before["visits"], before["cars"])


def test_the_three_samples_together_and_again():
    for path in (DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE, CSV_SAMPLE):
        run(path.read_bytes(), path.name)
    versions, pending = row_versions(), outbox_count()

    again = [run(path.read_bytes(), path.name) for path in (DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE, CSV_SAMPLE)]

    assert [(r["visits_created"], r["visits_updated"], r["patients_created"], r["patients_updated"]) for r in again] == [
        (0, 0, 0, 0)
    ] * 3
    assert (row_versions(), outbox_count()) == (versions, pending)
    assert (len(visits()), len(patients())) == (60 + 36 + 42, 34 + 24 + 23)


def test_dasaexp_sample_cars_are_four_agendas_not_merged_by_label():
    run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)

    with unit_of_work() as session:
        from storage.cars.models import Car

        cars = sorted((c.label, c.base, c.room_code, c.unit_code, c.operational_unit, c.status, c.daily_capacity)
                      for c in session.scalars(select(Car)))
    assert cars == [
        ("CARRO 1", "AV CENTER 1", "379", "248", "UND84", "active", 7),
        ("CARRO 1", "AV CENTER 2", "380", "248", "UND84", "active", 7),
        ("CARRO 1", "AV CENTER 3", "382", "248", "UND84", "active", 7),
        ("CARRO 2", "AV CENTER 2", "381", "248", "UND84", "active", 7),
    ]


def test_split_visit_rows_become_one_visit_with_both_payers_and_all_exams():
    run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)

    by_sources = {tuple(sources_of(v.id)): v for v in visits()}
    # Rows 20 and 21 of the sample: one stop, two payers.
    visit = by_sources[("bd62aeb1-737e-43ca-9c5d-734a56afae64", "ee89e47f-5973-4dfc-bc2d-e6312731abc8")]
    assert visit.exam_codes == ["1008", "1007", "1019", "1001"]
    assert visit.total_exams == 4
    assert [p["code"] for p in visit.payers] == ["91", "44"]
    assert len(visit.exam_names) == 2
    assert visit.start_at == datetime(2025, 6, 18, 10, 40, tzinfo=SAO_PAULO)
    assert visit.visit_date == date(2025, 6, 18)
    # Seven split-visit rows were merged: 67 car rows, 60 visits, 7 visits with two sources.
    assert sorted(len(key) for key in by_sources) == [1] * 53 + [2] * 7


def test_split_rows_in_different_batches_merge_the_same_way():
    whole = run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)
    expected = snapshot(with_outbox=False)["visits"]
    from tests.fixtures import truncate_all

    truncate_all()
    # Batches of 7 rows cut between rows 98 and 100 (a split visit with a row between them).
    small = run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name, batch_size=7)
    got = snapshot(with_outbox=False)["visits"]

    assert counts(small) == counts(whole)
    assert {key: {k: v for k, v in visit.items() if k != "row_version"} for key, visit in got.items()} == {
        key: {k: v for k, v in visit.items() if k != "row_version"} for key, visit in expected.items()
    }
    versions = row_versions()
    again = run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name, batch_size=7)
    assert (again["visits_created"], again["visits_updated"], row_versions()) == (0, 0, versions)


# ---------------------------------------------------------------- re-imports


def test_a_newer_export_updates_status_channel_car_slot_and_address():
    first = row()
    second = row({"Id do agendamento": "second-id", "Id da agenda": "480301002", "Nome do Paciente": "Ana Lima",
                  "Documento(s) do Paciente": f"CPF: {OTHER_CPF}", "Data/Hora Início Agendamento": "18/06/2025 07:20:00",
                  "Data/Hora Fim Agendamento": "18/06/2025 08:00:00"})
    run(xlsx(first, second))
    before = {tuple(sources_of(v.id)): v for v in visits()}
    pending = outbox_count()

    changed = row({
        "Status Agendamento": "Agendamento de Encaixe",
        "Status Confirmação": "Confirmado",
        "Canal Confirmação": "WHATSS",
        "Código da Sala": "380",
        "Nome da Sala": "AD-SF-FQ-AC-AV CENTER 2 CARRO 1 - UND84",
        "Data/Hora Início Agendamento": "18/06/2025 08:40:00",
        "Data/Hora Fim Agendamento": "18/06/2025 09:20:00",
        "Endereço Coleta": "rua nova,12,tijuca,rio de janeiro,rj,20510-000,casa 2",
    })
    result = run(xlsx(changed, second))

    assert (result["visits_created"], result["visits_updated"], result["imported"], result["visits_unchanged"]) == (
        0, 1, 1, 1)
    after = {tuple(sources_of(v.id)): v for v in visits()}
    visit, old = after[("c7ac40bc-e67f-4b04-8554-adbc4801b608",)], before[("c7ac40bc-e67f-4b04-8554-adbc4801b608",)]
    assert visit.id == old.id
    assert visit.row_version == old.row_version + 1
    assert (visit.booking_status, visit.confirmation_status, visit.confirmation_channel) == (
        "squeezed_in", "confirmed", "whatsapp")
    assert visit.confirmed_at is not None
    assert visit.car_id != old.car_id
    assert visit.start_at == datetime(2025, 6, 18, 8, 40, tzinfo=SAO_PAULO)
    assert (visit.street, visit.neighborhood, visit.zip_code, visit.complement) == ("rua nova", "tijuca", "20510000", "casa 2")
    other = after[("second-id",)]
    assert other.row_version == before[("second-id",)].row_version
    # The changed visit and its patient are in the outbox (the patient's document summarises visits).
    assert outbox_count() == pending + 2


def test_a_visit_a_newer_export_no_longer_lists_is_flagged_and_unflagged_when_it_reappears():
    kept = row()
    dropped = row({"Id do agendamento": "dropped", "Id da agenda": "480301002", "Nome do Paciente": "Ana Lima",
                   "Documento(s) do Paciente": f"CPF: {OTHER_CPF}", "Data/Hora Início Agendamento": "18/06/2025 07:20:00",
                   "Data/Hora Fim Agendamento": "18/06/2025 08:00:00"})
    other_day = row({"Id do agendamento": "other-day", "Data/Hora Início Agendamento": "19/06/2025 06:40:00",
                     "Data/Hora Fim Agendamento": "19/06/2025 07:20:00"})
    run(xlsx(kept, dropped, other_day))

    result = run(xlsx(kept))  # the same unit, only the 18th

    assert result["visits_missing"] == 1
    flags = {tuple(sources_of(v.id)): (v.missing_from_latest_export, v.row_version) for v in visits()}
    assert flags == {("c7ac40bc-e67f-4b04-8554-adbc4801b608",): (False, 1), ("dropped",): (True, 2), ("other-day",): (False, 1)}

    back = run(xlsx(kept, dropped))
    assert (back["visits_missing"], back["visits_updated"]) == (0, 1)
    assert {tuple(sources_of(v.id)): v.missing_from_latest_export for v in visits()}[("dropped",)] is False


def test_a_payer_row_dropped_from_a_split_visit_stops_counting():
    first = row({"Convênio": "44", "Nome do Convênio": "PARTICULAR", "Nr. Carteira": ""})
    second = row({"Id do agendamento": "second-payer", "Códigos dos Exames": "1010", "Total Exames": "1"})
    run(xlsx(first, second))
    (visit,) = visits()
    assert (visit.exam_codes, [p["code"] for p in visit.payers]) == (["1009", "1004", "1010"], ["44", "80"])

    result = run(xlsx(first))

    (visit,) = visits()
    assert (visit.exam_codes, [p["code"] for p in visit.payers]) == (["1009", "1004"], ["44"])
    assert (result["visits_updated"], result["visits_missing"]) == (1, 0)


def test_an_older_export_imported_after_a_newer_one_never_downgrades_a_confirmation():
    run(xlsx(row({"Status Confirmação": "Confirmado", "Canal Confirmação": "WHATSS"})))
    result = run(xlsx(row()))

    (visit,) = visits()
    assert (visit.confirmation_status, visit.confirmation_channel) == ("confirmed", "whatsapp")
    assert result["visits_updated"] == 0


# ---------------------------------------------------------------- patients


def test_patient_matched_by_cpf_whatever_the_spelling_and_enriched_by_a_later_file():
    run(xlsx(row()))
    later = row({
        "Id do agendamento": "later",
        "Nome do Paciente": "José da Silva",
        "Data/Hora Início Agendamento": "25/06/2025 06:40:00",
        "Data/Hora Fim Agendamento": "25/06/2025 07:20:00",
        "Documento(s) do Paciente": f"CPF: {VALID_CPF[:3]}.{VALID_CPF[3:6]}.{VALID_CPF[6:9]}-{VALID_CPF[9:]}",
        "Contato(s) do Paciente": "Celular: (21) 99999-8888, Email: jose@exemplo.com.br",
        "Endereço Coleta": "",
        "Nascimento": "",
    })

    result = run(xlsx(later))

    (patient,) = patients()
    assert (result["patients_created"], result["patients_updated"]) == (0, 1)
    assert patient.name == "José da Silva"  # the newer visit's spelling
    assert patient.phones == [{"number": "21999998888", "kind": "mobile"}]
    assert patient.email == "jose@exemplo.com.br"
    # Empty cells erased nothing.
    assert (patient.birth_date, patient.street, patient.zip_code) == (date(1990, 12, 19), "rua visconde de piraja", "22342045")
    assert patient.row_version == 2


def test_an_older_file_fills_gaps_but_never_overwrites_newer_data():
    newer = row({"Data/Hora Início Agendamento": "25/06/2025 06:40:00", "Data/Hora Fim Agendamento": "25/06/2025 07:20:00",
                 "Endereço Coleta": "rua nova,12,tijuca,rio de janeiro,rj,20510-000"})
    run(xlsx(newer))
    older = row({"Id do agendamento": "older", "Contato(s) do Paciente": "Celular: 21 988887777"})

    run(xlsx(older))

    (patient,) = patients()
    assert (patient.street, patient.zip_code) == ("rua nova", "20510000")
    assert patient.phones == [{"number": "21988887777", "kind": "mobile"}]


def test_without_cpf_folded_name_and_birth_date_identify_and_a_later_cpf_is_filled_in():
    no_cpf = row({"Documento(s) do Paciente": "RG: 123456789", "Nome do Paciente": "MARIA DAS DORES"})
    same_person = row({"Id do agendamento": "b", "Documento(s) do Paciente": "", "Nome do Paciente": "Maria  das Dôres",
                       "Data/Hora Início Agendamento": "19/06/2025 06:40:00", "Data/Hora Fim Agendamento": "19/06/2025 07:20:00"})
    namesake = row({"Id do agendamento": "c", "Documento(s) do Paciente": "", "Nome do Paciente": "Maria das Dores",
                    "Nascimento": "01/01/1950", "Id da agenda": "480301009"})
    first = run(xlsx(no_cpf, same_person, namesake))
    assert first["patients_created"] == 2

    with_cpf = row({"Id do agendamento": "d", "Nome do Paciente": "Maria das Dores",
                    "Data/Hora Início Agendamento": "20/06/2025 06:40:00", "Data/Hora Fim Agendamento": "20/06/2025 07:20:00"})
    second = run(xlsx(with_cpf))

    assert (second["patients_created"], second["patients_updated"]) == (0, 1)
    by_birth = {p.birth_date: p for p in patients()}
    assert by_birth[date(1990, 12, 19)].cpf == VALID_CPF
    assert by_birth[date(1950, 1, 1)].cpf is None


def test_an_invalid_cpf_is_a_warning_and_never_an_identity():
    bad = "12345678900"
    result = run(xlsx(row({"Documento(s) do Paciente": f"CPF: {bad}"}),
                      row({"Id do agendamento": "b", "Documento(s) do Paciente": f"CPF: {bad}", "Nome do Paciente": "Ana Lima",
                           "Id da agenda": "480301002", "Nascimento": "01/01/1980"})))

    assert [(i["row"], i["code"]) for i in result["issues"]] == [(2, "invalid_cpf"), (3, "invalid_cpf")]
    assert all(bad not in i["message"] for i in result["issues"])
    assert sorted((p.name, p.cpf) for p in patients()) == [("Ana Lima", None), ("JOSÉ DA SILVA", None)]


# ---------------------------------------------------------------- rows the file itself gets wrong


def test_an_exact_duplicate_row_is_imported_once_and_reported():
    result = run(xlsx(row(), row()))

    assert (result["imported"], result["duplicates"], result["warnings"]) == (1, 1, 1)
    assert [(i["row"], i["level"], i["code"]) for i in result["issues"]] == [(3, "warning", "duplicate_row")]


def test_the_same_appointment_id_twice_with_different_content_keeps_the_first():
    result = run(xlsx(row(), row({"Códigos dos Exames": "1010", "Total Exames": "1"})))

    assert (result["imported"], result["duplicates"]) == (1, 1)
    assert [(i["row"], i["code"]) for i in result["issues"]] == [(3, "duplicate_appointment_id")]
    (visit,) = visits()
    assert visit.exam_codes == ["1009", "1004"]


def test_a_patient_booked_in_two_cars_at_once_is_a_warning_on_the_later_row():
    other_car = row({"Id do agendamento": "b", "Id da agenda": "480301002", "Código da Sala": "380",
                     "Nome da Sala": "AD-SF-FQ-AC-AV CENTER 2 CARRO 1 - UND84",
                     "Data/Hora Início Agendamento": "18/06/2025 07:00:00", "Data/Hora Fim Agendamento": "18/06/2025 07:40:00"})
    result = run(xlsx(row(), other_car))

    assert result["imported"] == 2
    assert [(i["row"], i["level"], i["code"], i["message"]) for i in result["issues"]] == [
        (3, "warning", "patient_double_booked", "Paciente com outra visita em outro carro em horário sobreposto (linha 2).")
    ]


def test_in_unit_rows_are_counted_not_listed_and_a_bad_row_never_sinks_the_file():
    exam_room = row({"Id do agendamento": "lab", "Código da Sala": "03", "Nome da Sala": "LACTOSE 1/2"})
    no_name = row({"Id do agendamento": "no-name", "Nome do Paciente": "", "Id da agenda": "480301003"})
    bad_date = row({"Id do agendamento": "bad-date", "Data/Hora Início Agendamento": "31/02/2025 25:61",
                    "Id da agenda": "480301004"})
    result = run(xlsx(exam_room, no_name, row(), bad_date))

    assert (result["total_rows"], result["imported"], result["skipped"], result["errors"]) == (4, 1, 1, 2)
    assert [(i["row"], i["code"]) for i in result["issues"]] == [(3, "missing_patient_name"), (5, "invalid_date")]


def test_formula_cells_use_cached_values_and_report_uncached_ones():
    data = xlsx(row(), row({"Id do agendamento": "b", "Nome do Paciente": '=UPPER("ana")', "Id da agenda": "480301002"}))

    result = run(data)

    assert (result["imported"], result["errors"]) == (1, 1)
    assert [(i["row"], i["code"]) for i in result["issues"]] == [(3, "formula_without_value"), (3, "missing_patient_name")]


def test_csv_from_excel_in_brazil_imports():
    result = run(csv_bytes(row({"Nome do Paciente": "Conceição Araújo"})), "agenda.csv")

    assert (result["status"], result["imported"]) == ("succeeded", 1)
    assert patients()[0].name == "Conceição Araújo"


def test_past_dates_import_normally_and_today_is_the_sao_paulo_day():
    today = datetime.now(SAO_PAULO).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    def on(day: date, source_id: str, hour: int) -> dict:
        start = f"{day:%d/%m/%Y} {hour:02d}:40:00"
        end = f"{day:%d/%m/%Y} {hour + 1:02d}:20:00"
        return row({"Id do agendamento": source_id, "Id da agenda": source_id,
                    "Data/Hora Início Agendamento": start, "Data/Hora Fim Agendamento": end})

    run(xlsx(on(yesterday, "y", 6), on(today, "t", 6), on(tomorrow, "m", 7)))
    sync.drain()
    client = get_client()
    client.indices.refresh(index=names.alias("patients"))
    (hit,) = client.search(index=names.alias("patients"))["hits"]["hits"]

    assert (hit["_source"]["last_visit"], hit["_source"]["next_visit"], hit["_source"]["visit_count"]) == (
        yesterday.isoformat(), today.isoformat(), 3)


# ---------------------------------------------------------------- hostile files


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = bytes(1 << 20)
            for _ in range(300):
                member.write(zeros)
    return out.getvalue()


def truncated_sheet() -> bytes:
    data = xlsx(row())
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) * 2 // 3]
            target.writestr(info.filename, content)
    return out.getvalue()


def no_header() -> bytes:
    return xlsx({"Paciente": "Ana", "Horário": "07:00"}, headers=["Paciente", "Horário"])


@pytest.mark.parametrize(
    "make, code",
    [(truncated_sheet, "corrupt_file"), (no_header, "no_header")],
    ids=["corrupt workbook", "no recognisable header"],
)
def test_a_file_refused_by_the_parser_fails_with_its_reason_and_nothing_applied(make, code):
    result = run(make())

    assert (result["status"], result["failure"]["code"]) == ("failed", code)
    assert result["failure"]["message"]
    assert (result["processed_rows"], result["imported"]) == (0, 0)
    assert (visits(), patients(), outbox_count()) == ([], [], 0)


@pytest.mark.parametrize(
    "data, code",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "unsupported_file_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le"), "encrypted_file"),
        (b"", "empty_file"),
    ],
    ids=["pdf", "encrypted", "empty"],
)
def test_the_upload_refuses_what_its_content_check_can_tell(data, code):
    with pytest.raises(Invalid) as caught, unit_of_work() as session:
        service.register_upload(session, "agenda.xlsx", data)

    assert caught.value.code == code
    with unit_of_work() as session:
        assert session.scalars(select(Import)).all() == []


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    with pytest.raises(Invalid) as caught, unit_of_work() as session:
        service.register_upload(session, "agenda.xlsx", zip_bomb())

    assert caught.value.code == "file_too_complex"


def test_the_size_limit_is_configurable():
    with pytest.raises(Invalid) as caught, unit_of_work() as session:
        service.register_upload(session, "agenda.xlsx", xlsx(row()), max_bytes=1000)

    assert caught.value.code == "file_too_large"
    assert "limite" in caught.value.message


def test_a_sheet_of_a_million_empty_rows_stops_early():
    data = xlsx(row())
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    padding = b"".join(b'<row r="%d"/>' % number for number in range(3, 1_000_000))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", padding + b"</sheetData>")
            target.writestr(info.filename, content)
    started = datetime.now()

    result = run(out.getvalue())

    assert (result["status"], result["total_rows"], result["imported"]) == ("succeeded", 1, 1)
    assert (datetime.now() - started).total_seconds() < 20


def test_register_upload_keeps_the_bytes_for_audit():
    data = DASAEXP_SAMPLE.read_bytes()
    import_id = upload(data, "C:\\Users\\op\\Relatorio.xls")

    with unit_of_work() as session:
        from storage.imports import repo, uploads

        item = repo.get(session, import_id)
        stored = uploads.read_all(session, import_id)
    import hashlib

    assert (item.filename, item.size, item.sha256, item.status) == (
        "Relatorio.xls", len(data), hashlib.sha256(data).hexdigest(), "queued")
    assert item.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert stored == data


# ---------------------------------------------------------------- resumability and the index


class Crash(Exception):
    pass


def test_a_run_that_dies_after_some_batches_resumes_to_the_state_of_one_clean_run():
    data = DASAEXP_SAMPLE.read_bytes()
    clean = run(data, DASAEXP_SAMPLE.name, batch_size=20)
    expected = snapshot()
    from tests.fixtures import truncate_all

    truncate_all()
    import_id = upload(data, DASAEXP_SAMPLE.name)
    batches = []

    def die_after_three() -> None:
        batches.append(1)
        if len(batches) == 3:
            raise Crash()

    with pytest.raises(Crash):
        service.apply_import(import_id, batch_size=20, on_batch_committed=die_after_three)
    midway = report(import_id)
    assert (midway["status"], midway["processed_rows"]) == ("processing", 60)

    assert service.apply_import(import_id, batch_size=20) == "succeeded"
    assert counts(report(import_id)) == counts(clean)
    assert snapshot() == expected
    # A finished import is left alone by a late re-run.
    assert service.apply_import(import_id, batch_size=20) == "succeeded"
    assert snapshot() == expected


def test_after_the_drain_each_patient_is_once_in_the_index_and_every_visit_is_there():
    run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)
    run(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)

    result = sync.drain(max_batches=100)

    assert result.failed_entities == 0
    assert outbox_count() == 0
    client = get_client()
    client.indices.refresh(index=f"{names.alias('patients')},{names.alias('visits')}")
    hits = client.search(index=names.alias("patients"), body={"size": 100})["hits"]["hits"]
    assert len(hits) == 34
    assert len({hit["_source"]["cpf"] or hit["_source"]["name"] for hit in hits}) == 34
    assert sum(hit["_source"]["visit_count"] for hit in hits) == 60
    assert client.count(index=names.alias("visits"))["count"] == 60
    stored = {v.id: v.row_version for v in visits()}
    docs = client.search(index=names.alias("visits"), body={"size": 100, "version": True})["hits"]["hits"]
    assert {d["_id"]: d["_version"] for d in docs} == stored
    # The split visit of rows 20 and 21: one document, both payers.
    split = client.search(index=names.alias("visits"), body={"query": {"bool": {"filter": [
        {"term": {"health_plan_code": "91"}}, {"term": {"health_plan_code": "44"}},
        {"term": {"start": "2025-06-18T10:40:00-03:00"}}, {"term": {"car_base": "AV CENTER 3"}},
    ]}}})
    (doc,) = [d["_source"] for d in split["hits"]["hits"]]
    assert (doc["car"], doc["date"], doc["hour"], doc["total_exams"], doc["exam_codes"]) == (
        "CARRO 1", "2025-06-18", 10, 4, ["1008", "1007", "1019", "1001"])
    assert "T88110925096" not in str(docs)  # staff logins never reach the index
