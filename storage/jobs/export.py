"""Export files of a bulk job: rows of visits or patients as CSV (Excel pt-BR) or XLSX. Pure: rows in, bytes out.

CSV is UTF-8 with a BOM, `;`-separated, CRLF: Excel in Brazil opens it with accents and
columns right. XLSX is written by openpyxl's write-only workbook (rows streamed to a
temporary file, not held as cells), dates as real date cells. Text that a spreadsheet
would run as a formula (`=`, `+`, `-`, `@` first) is written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from storage.clock import LOCAL_TZ
from storage.identifiers import format_cpf, format_phone

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

VISIT_HEADER = (
    "Data", "Início", "Fim", "Carro", "Base", "Paciente", "CPF", "Telefones", "Endereço", "Bairro", "Cidade", "UF",
    "CEP", "Códigos dos exames", "Exames", "Convênios", "Situação", "Confirmação", "Canal de confirmação",
    "Observação",
)
PATIENT_HEADER = (
    "Nome", "CPF", "Nascimento", "Telefones", "E-mail", "Endereço", "Bairro", "Cidade", "UF", "CEP", "Convênio",
    "Carteirinha", "Etiquetas", "Prioridade", "Próxima visita",
)
VISIT_STATUS = {"scheduled": "Agendada", "cancelled": "Cancelada", "collected": "Coletada", "no_show": "Não compareceu"}
CONFIRMATION = {"confirmed": "Confirmada", "pending": "Pendente", "declined": "Recusada"}
CHANNELS = {"phone": "Telefone", "sms": "SMS", "whatsapp": "WhatsApp", "email": "E-mail"}
PRIORITIES = {"low": "Baixa", "normal": "Normal", "high": "Alta", "urgent": "Urgente"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TooLarge(Exception):
    """The file would pass the size limit."""


def visit_row(row: Any) -> list[Any]:
    """One visit (repo.visit_export_rows) as export cells."""
    start = row.start_at.astimezone(LOCAL_TZ)
    end = row.end_at.astimezone(LOCAL_TZ)
    street = ", ".join(p for p in (row.street, row.number, row.complement) if p)
    return [
        row.visit_date,
        start.strftime("%H:%M"),
        end.strftime("%H:%M"),
        row.car_label,
        row.car_base,
        row.patient_name,
        format_cpf(row.cpf) if row.cpf else None,
        _phones(row.phones),
        street or row.address_text,
        row.neighborhood,
        row.city,
        row.state,
        _cep(row.zip_code),
        ", ".join(row.exam_codes or []),
        " | ".join(n for n in row.exam_names or [] if n),
        ", ".join(p.get("name") or p.get("code") or "" for p in row.payers or []),
        VISIT_STATUS.get(row.status, row.status),
        CONFIRMATION.get(row.confirmation_status, row.confirmation_status),
        CHANNELS.get(row.confirmation_channel, row.confirmation_channel),
        row.notes,
    ]


def patient_row(row: Any, next_visit: date | None) -> list[Any]:
    """One patient (a registry row) as export cells."""
    street = ", ".join(p for p in (row.street, row.number, row.complement) if p)
    return [
        row.name,
        format_cpf(row.cpf) if row.cpf else None,
        row.birth_date,
        _phones(row.phones),
        row.email,
        street or None,
        row.neighborhood,
        row.city,
        row.state,
        _cep(row.zip_code),
        row.health_plan_name,
        row.health_plan_card_number,
        ", ".join(row.tags or []),
        PRIORITIES.get(row.priority, row.priority),
        next_visit,
    ]


def _phones(phones: list[dict] | None) -> str:
    return ", ".join(format_phone(p["number"]) for p in phones or [] if p.get("number"))


def _cep(digits: str | None) -> str | None:
    return f"{digits[:5]}-{digits[5:]}" if digits and len(digits) == 8 else digits


def filename(rows: str, fmt: str, day: date, job_id: str) -> str:
    """`coleta-visitas-2025-06-20-1a2b3c4d.csv`: what, when and which job."""
    what = "visitas" if rows == "visits" else "pacientes"
    return f"coleta-{what}-{day.isoformat()}-{job_id[:8]}.{fmt}"


def render(fmt: str, header: Sequence[str], rows: Iterable[Sequence[Any]], max_bytes: int) -> bytes:
    """The whole file; TooLarge past `max_bytes`."""
    if fmt == "csv":
        return _csv(header, rows, max_bytes)
    if fmt == "xlsx":
        return _xlsx(header, rows, max_bytes)
    raise ValueError(f"unknown export format {fmt!r}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return _defused(str(value))


def _defused(text: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]], max_bytes: int) -> bytes:
    buffer = io.BytesIO()
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buffer.write("\ufeff".encode())
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_text(v) for v in row])
        if count % 500 == 0:
            _flush(text, buffer, max_bytes)
    _flush(text, buffer, max_bytes)
    return buffer.getvalue()


def _flush(text: io.StringIO, buffer: io.BytesIO, max_bytes: int) -> None:
    buffer.write(text.getvalue().encode("utf-8"))
    text.seek(0)
    text.truncate()
    if buffer.tell() > max_bytes:
        raise TooLarge


def _xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], max_bytes: int) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Exportação")
    sheet.append(list(header))
    # The XML is about five times the zipped size: a cheap bound before zipping everything.
    written = 0
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, date) and not isinstance(value, datetime):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD/MM/YYYY"
                cells.append(cell)
            else:
                cells.append(None if value is None else _text(value))
            written += len(str(value)) if value is not None else 0
        if written > 8 * max_bytes:
            raise TooLarge
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    if len(data) > max_bytes:
        raise TooLarge
    return data
