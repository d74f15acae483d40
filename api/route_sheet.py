"""The printable route sheet of a car for a day: one self-contained HTML page (A4 landscape, pt-BR).

Everything that comes from the database is escaped (`html.escape`, quotes included):
notes and names are typed by people and by spreadsheets. No scripts, no external
resources; the page prints as it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import Any

from storage.clock import LOCAL_TZ
from storage.identifiers import format_phone

WEEKDAYS = ("segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo")
PHONE_KINDS = {
    "mobile": "Celular", "landline": "Fixo", "residential": "Residencial", "commercial": "Comercial",
    "whatsapp": "WhatsApp", "other": "Outro",
}
CHANNELS = {"phone": "telefone", "sms": "SMS", "whatsapp": "WhatsApp", "email": "e-mail", "app": "aplicativo", "site": "site",
            "other": "outro"}
CONFIRMATION = {"confirmed": "Confirmada", "pending": "Pendente", "declined": "Recusada"}
STATUS = {"scheduled": "Agendada", "collected": "Coletada", "no_show": "Paciente ausente", "cancelled": "Cancelada"}

_STYLE = """
@page { size: A4 landscape; margin: 10mm; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 10pt; color: #000; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 4px 0; }
h2 { font-size: 11pt; margin: 14px 0 4px 0; }
.meta { border-collapse: collapse; margin-bottom: 8px; }
.meta th { text-align: left; padding: 1px 10px 1px 0; font-weight: bold; white-space: nowrap; }
.meta td { padding: 1px 16px 1px 0; }
table.visits, table.cancelled { width: 100%; border-collapse: collapse; }
table.visits th, table.visits td, table.cancelled th, table.cancelled td {
  border: 1px solid #444; padding: 3px 4px; vertical-align: top; text-align: left; }
table.visits thead th, table.cancelled thead th { background: #e6e6e6; }
td.seq { width: 2em; text-align: center; }
td.time { white-space: nowrap; font-weight: bold; }
td.patient { font-weight: bold; }
td.check { width: 9em; }
.box { display: inline-block; width: 12px; height: 12px; border: 1px solid #000; margin-right: 4px; }
.warn { font-weight: bold; }
.muted { color: #444; }
.signatures { margin-top: 24px; display: flex; gap: 48px; }
.signatures div { flex: 1; border-top: 1px solid #000; padding-top: 2px; text-align: center; }
footer { margin-top: 10px; font-size: 8pt; color: #444; }
@media print {
  body { font-size: 9pt; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  .no-print { display: none; }
  table.visits thead th, table.cancelled thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def render(car: Any, day: date, team: Any | None, rows: Sequence[Any], generated_at: datetime) -> str:
    """Return the route sheet page: header (car, base, unit, date, team), the day's visits in time order
    (not cancelled), then the cancelled ones (time and name only, so nobody goes there)."""
    active = [row for row in rows if row.status != "cancelled"]
    cancelled = [row for row in rows if row.status == "cancelled"]
    title = f"Folha de rota — {_car_name(car)} — {day:%d/%m/%Y}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="pt-BR">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f'<h1 class="title">{_e(title)}</h1>',
        _meta(car, day, team, len(active)),
        "</header>",
        "<main>",
        _visits_table(active),
        _cancelled_table(cancelled),
        '<section class="signatures">',
        "<div>Motorista</div><div>Coletora</div><div>Conferência na unidade</div>",
        "</section>",
        "</main>",
        f"<footer>Gerada em {generated_at.astimezone(LOCAL_TZ):%d/%m/%Y %H:%M}. "
        "Documento com dados pessoais de pacientes: não deixe no carro nem descarte sem picotar.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _car_name(car: Any) -> str:
    return " · ".join(part for part in (car.label, car.base) if part)


def _meta(car: Any, day: date, team: Any | None, count: int) -> str:
    unit = " · ".join(part for part in (car.unit_name, car.unit_code, car.operational_unit) if part)
    vehicle = " · ".join(part for part in (car.plate, car.model) if part)
    rows = [
        ("Data", f"{day:%d/%m/%Y} ({WEEKDAYS[day.weekday()]})", "date"),
        ("Carro", _car_name(car), "car"),
        ("Unidade", unit or "—", "unit"),
        ("Veículo", vehicle or "—", "vehicle"),
    ]
    if team is None:
        rows.append(("Equipe", "não definida", "team"))
    else:
        collector = team.collector.name
        if team.collector.council:
            collector += (
                f" ({team.collector.council}-{team.collector.registration_state} "
                f"{team.collector.registration_number})"
            )
        rows += [("Motorista", team.driver.name, "driver"), ("Coletora", collector, "collector")]
    rows.append(("Visitas", f"{count} (capacidade diária: {car.daily_capacity})", "count"))
    if team is not None and team.notes:
        rows.append(("Observações da equipe", team.notes, "team-notes"))
    cells = "".join(f'<tr><th>{_e(label)}</th><td class="{css}">{_e(value)}</td></tr>' for label, value, css in rows)
    return f'<table class="meta">{cells}</table>'


def _visits_table(rows: Sequence[Any]) -> str:
    if not rows:
        return '<p class="empty">Nenhuma visita agendada para este carro nesta data.</p>'
    head = (
        "<thead><tr><th>#</th><th>Horário</th><th>Paciente</th><th>Endereço</th><th>Contatos</th><th>Exames</th>"
        "<th>Convênios</th><th>Observações</th><th>Confirmação</th><th>Coleta / assinatura</th></tr></thead>"
    )
    body = "".join(_visit_row(number, row) for number, row in enumerate(rows, start=1))
    return f'<table class="visits">{head}<tbody>{body}</tbody></table>'


def _visit_row(number: int, row: Any) -> str:
    cells = [
        ("seq", _e(str(number))),
        ("time", _e(_time_range(row))),
        ("patient", _e(row.patient_name)),
        ("address", _address(row)),
        ("contacts", _contacts(row.patient_phones)),
        ("exams", _exams(row)),
        ("payers", _lines([p.get("name") or p.get("code") for p in row.payers or [] if p.get("name") or p.get("code")])),
        ("notes", _notes(row)),
        ("confirmation", _e(_confirmation(row))),
        ("check", '<span class="box"></span>Coletado<br><span class="box"></span>Ausente'),
    ]
    tds = "".join(f'<td class="{css}">{content}</td>' for css, content in cells)
    return f'<tr class="visit" data-visit-id="{_e(row.id)}">{tds}</tr>'


def _cancelled_table(rows: Sequence[Any]) -> str:
    if not rows:
        return ""
    body = "".join(
        f'<tr class="cancelled-visit" data-visit-id="{_e(row.id)}"><td class="time">{_e(_time_range(row))}</td>'
        f'<td class="patient">{_e(row.patient_name)}</td></tr>'
        for row in rows
    )
    return (
        '<h2>Visitas canceladas (não comparecer)</h2>'
        f'<table class="cancelled"><thead><tr><th>Horário</th><th>Paciente</th></tr></thead><tbody>{body}</tbody></table>'
    )


def _time_range(row: Any) -> str:
    return f"{row.start_at.astimezone(LOCAL_TZ):%H:%M}–{row.end_at.astimezone(LOCAL_TZ):%H:%M}"


def _address(row: Any) -> str:
    street = ", ".join(part for part in (row.street, row.number) if part)
    city = "/".join(part for part in (row.city, row.state) if part)
    cep = f"CEP {row.zip_code[:5]}-{row.zip_code[5:]}" if row.zip_code and len(row.zip_code) == 8 else row.zip_code
    lines = [street, row.complement, row.neighborhood, city, cep]
    if not any(lines):
        lines = [row.address_text]
    if row.address_reference:
        lines.append(f"Ref.: {row.address_reference}")
    return _lines(lines)


def _contacts(phones: Any) -> str:
    lines = []
    for phone in phones or []:
        number = phone.get("number") if isinstance(phone, dict) else None
        if not number:
            continue
        kind = PHONE_KINDS.get(phone.get("kind") or "", "Telefone")
        lines.append(f"{kind}: {format_phone(number)}")
    return _lines(lines) if lines else '<span class="muted">sem telefone</span>'


def _exams(row: Any) -> str:
    codes = ", ".join(row.exam_codes or [])
    names = " · ".join(name for name in row.exam_names or [] if name)
    lines = [f"{row.total_exams or len(row.exam_codes or [])} exame(s): {codes}" if codes else None, names]
    return _lines(lines)


def _notes(row: Any) -> str:
    lines = [row.notes]
    if row.patient_special_needs:
        lines.append(f"Necessidades especiais: {row.patient_special_needs}")
    html = _lines(lines)
    if row.missing_from_latest_export:
        html = '<span class="warn">Não consta na última exportação: confirme antes de ir.</span>' + (
            f"<br>{html}" if html else ""
        )
    return html


def _confirmation(row: Any) -> str:
    text = CONFIRMATION.get(row.confirmation_status, row.confirmation_status or "Pendente")
    if row.confirmation_status == "confirmed" and row.confirmation_channel:
        text += f" ({CHANNELS.get(row.confirmation_channel, row.confirmation_channel)})"
    if row.status != "scheduled":
        text += f" — {STATUS.get(row.status, row.status)}"
    return text


def _lines(values: Sequence[str | None]) -> str:
    return "<br>".join(_e(value) for value in values if value)


def _e(value: Any) -> str:
    return escape(str(value), quote=True)
