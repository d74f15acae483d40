"""Helpers for import tests: files built in memory, an upload-and-apply shortcut, and table snapshots.

Snapshots key every row by its natural key (CPF or folded name + birth date, source
appointment ids, agenda key), never by generated ids, so two runs in different
imports can be compared field by field, row versions included.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
from sqlalchemy import select

from storage.cars.models import Car
from storage.db import unit_of_work
from storage.imports import service
from storage.imports.models import COUNTERS, Import, ImportIssue
from storage.outbox import OutboxEntry
from storage.patients.models import Patient
from storage.visits.models import Visit, VisitSource

from tests.samples import CSV_SAMPLE, DASAEXP_SAMPLE, SIMPLIFIED_SAMPLE  # noqa: F401 (re-exported to the tests)

VALID_CPF = "52998224725"
OTHER_CPF = "11144477735"

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
    "Status Confirmação": "Não Confirmado",
    "Canal Confirmação": "",
    "Data/Hora Confirmação": "",
    "Observação": "portaria exige documento",
    "Documento(s) do Paciente": f"CPF: {VALID_CPF}, RG: 123456789",
    "Contato(s) do Paciente": "",
    "Nascimento": "19/12/1990",
}
HEADERS = list(DASAEXP_ROW)


def row(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A valid DasaExp car row with some cells changed (keys are header texts)."""
    return {**DASAEXP_ROW, **(changes or {})}


def xlsx(*rows: dict[str, Any], headers: list[str] = HEADERS) -> bytes:
    """A workbook (openpyxl, in memory) with a header and these rows."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "agendamentos"
    sheet.append(headers)
    for item in rows:
        sheet.append([item.get(header) for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(*rows: dict[str, Any], headers: list[str] = HEADERS, delimiter: str = ";") -> bytes:
    """A Windows-1252 CSV the way Excel in Brazil saves it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for item in rows:
        writer.writerow([item.get(header, "") for header in headers])
    return buffer.getvalue().encode("cp1252")


def upload(data: bytes, filename: str = "agenda.xlsx") -> str:
    """Register an upload (committed) and return the import id."""
    with unit_of_work() as session:
        return service.register_upload(session, filename, data).id


def run(data: bytes, filename: str = "agenda.xlsx", batch_size: int | None = None) -> dict[str, Any]:
    """Upload and apply in this process; return the report."""
    import_id = upload(data, filename)
    service.apply_import(import_id, batch_size=batch_size)
    return report(import_id)


def report(import_id: str) -> dict[str, Any]:
    """The import's report (api.md shape)."""
    with unit_of_work() as session:
        return service.report(session, import_id, issue_limit=None)


def counts(report: dict[str, Any]) -> dict[str, Any]:
    """The report's counters (and totals) alone."""
    keys = ("status", "total_rows", "processed_rows", *COUNTERS, "visits_unchanged", "visits_missing")
    return {key: report[key] for key in keys}


def patient_key(patient: Any) -> tuple:
    """The natural identity of a patient row."""
    return (patient.cpf or "", patient.name_folded, patient.birth_date.isoformat() if patient.birth_date else "")


def snapshot(with_outbox: bool = True) -> dict[str, Any]:
    """Every imported table, keyed by natural keys, with row versions; generated ids and clocks left out."""
    with unit_of_work() as session:
        patients = {p.id: p for p in session.scalars(select(Patient))}
        cars = {c.id: c for c in session.scalars(select(Car))}
        sources_by_visit: dict[str, list[VisitSource]] = {}
        for source in session.scalars(select(VisitSource)):
            sources_by_visit.setdefault(source.visit_id, []).append(source)
        imports = {i.id: i for i in session.scalars(select(Import))}
        visits = {}
        for visit in session.scalars(select(Visit)):
            sources = sorted(sources_by_visit.get(visit.id, []), key=lambda s: s.source_id)
            key = tuple(s.source_id for s in sources)
            visits[key] = {
                "patient": patient_key(patients[visit.patient_id]),
                "car": cars[visit.car_id].source_key,
                "start": visit.start_at.isoformat(),
                "end": visit.end_at.isoformat(),
                "date": visit.visit_date.isoformat(),
                **{name: getattr(visit, name) for name in (
                    "row_version", "status", "booking_status", "confirmation_status", "confirmation_channel",
                    "exam_codes", "exam_names", "total_exams", "payers", "physician", "booking_channel", "notes",
                    "street", "number", "complement", "neighborhood", "city", "state", "zip_code",
                    "address_reference", "unit_code", "missing_from_latest_export",
                )},
                "confirmed_at": visit.confirmed_at is not None,
                "sources": [(s.source_id, s.row_number, s.active, s.data, s.raw) for s in sources],
            }
        result = {
            "patients": sorted(
                (patient_key(p), p.row_version, p.name, p.phones, p.email, p.street, p.number, p.complement,
                 p.neighborhood, p.city, p.state, p.zip_code, p.health_plan_code, p.health_plan_name,
                 p.health_plan_card_number)
                for p in patients.values()
            ),
            "cars": sorted((c.source_key, c.label, c.base, c.row_version) for c in cars.values()),
            "visits": visits,
            "imports": sorted(
                (i.filename, i.status, i.total_rows, i.processed_rows, i.checkpoint_row,
                 *(getattr(i, name) for name in COUNTERS), i.visits_unchanged, i.visits_missing)
                for i in imports.values()
            ),
            "issues": sorted(
                (issue.row, issue.level, issue.code, issue.message)
                for issue in session.scalars(select(ImportIssue))
            ),
        }
        if with_outbox:
            patient_names = {pid: patient_key(p) for pid, p in patients.items()}
            visit_names = {
                visit.id: tuple(sorted(s.source_id for s in sources_by_visit.get(visit.id, [])))
                for visit in session.scalars(select(Visit))
            }
            entries = []
            for entry in session.scalars(select(OutboxEntry)):
                if entry.entity_type == "patient":
                    entries.append(("patient", patient_names.get(entry.entity_id, entry.entity_id)))
                else:
                    entries.append((entry.entity_type, visit_names.get(entry.entity_id, entry.entity_id)))
            result["outbox"] = sorted(entries, key=repr)
        return result


def outbox_count() -> int:
    """How many outbox rows are pending."""
    with unit_of_work() as session:
        return len(session.scalars(select(OutboxEntry.id)).all())


def row_versions() -> dict[str, int]:
    """Every patient's, visit's and car's row_version by id."""
    with unit_of_work() as session:
        versions = {f"p:{i}": v for i, v in session.execute(select(Patient.id, Patient.row_version))}
        versions.update({f"v:{i}": v for i, v in session.execute(select(Visit.id, Visit.row_version))})
        versions.update({f"c:{i}": v for i, v in session.execute(select(Car.id, Car.row_version))})
        return versions
