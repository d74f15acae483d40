"""DasaExp agenda exports (and the older simplified layout): bytes in, typed rows and row issues out.

Pure: no database, no clock. `parse()` vets the file, finds the header, reads the
whole file once to refuse a broken one before anything is applied (estimating its
rows on the way) and returns a `ParsedFile` whose `rows()` streams `ParsedRow`s
with bounded memory, so a 100k-row file is never held as a list. Applying rows (upserting
patients and visits, merging split visits, reporting) is the import service's job;
`split_visit_key()` and `patient_key()` give it the grouping keys.

Row kinds:
- `visit`: a car-agenda row (a home visit) that can be imported, maybe with warnings;
- `skipped`: not a home visit (`not_a_car_room`, `empty_room`) or a repeated header line
  (`repeated_header`): `skip_reason`, no issues, typed no further than its ids, unit and room;
- `error`: a car row that cannot be imported (no patient name, impossible date);
- `duplicate`: the same content as an earlier row of the file; import it once, report it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import IO, Any

from storage.errors import Invalid
from storage.identifiers import clean_name, fold_name
from storage.imports.parsing.sources import (
    DEFAULT_LIMITS,
    FormulaCell,
    Limits,
    Source,
    Table,
    is_blank,
    open_tables,
    sniff,
)
from storage.imports.parsing.values import (
    Address,
    Phone,
    Physician,
    cell_text,
    collapse_spaces,
    is_not_found,
    normalize_channel,
    normalize_confirmation_status,
    normalize_status,
    parse_address,
    parse_car_room,
    parse_contacts,
    parse_date,
    parse_datetime,
    parse_documents,
    parse_exam_codes,
    parse_int,
    parse_physician,
    room_key,
)

LAYOUT_DASAEXP = "dasaexp"
LAYOUT_SIMPLIFIED = "simplified"

KIND_VISIT = "visit"
KIND_SKIPPED = "skipped"
KIND_ERROR = "error"
KIND_DUPLICATE = "duplicate"

# Why a row is skipped (stable codes, stored with the row number; never the room's name, which may
# name a professional), and what the report says of each.
SKIP_NOT_A_CAR_ROOM = "not_a_car_room"
SKIP_EMPTY_ROOM = "empty_room"
SKIP_REPEATED_HEADER = "repeated_header"
SKIP_MESSAGES = {
    SKIP_NOT_A_CAR_ROOM: "Sala de exame (não é carro): não é coleta domiciliar.",
    SKIP_EMPTY_ROOM: "Linha sem sala: não é coleta domiciliar.",
    SKIP_REPEATED_HEADER: "Cabeçalho repetido no meio do arquivo.",
}

LEVEL_ERROR = "error"
LEVEL_WARNING = "warning"

# Car slots are 40 minutes; a missing or backwards end is replaced by one slot.
DEFAULT_SLOT = timedelta(minutes=40)

# Field -> header texts, real export first. Matching ignores case, accents, spaces and punctuation.
HEADERS: dict[str, tuple[str, ...]] = {
    "brand": ("Nome da Marca",),
    "unit_code": ("Código da Unidade",),
    "unit_name": ("Nome da Unidade",),
    "status": ("Status Agendamento",),
    "source_id": ("Id do agendamento",),
    "agenda_id": ("Id da agenda",),
    "room_code": ("Código da Sala", "ID Sala"),
    "room_name": ("Nome da Sala",),
    "start": ("Data/Hora Início Agendamento", "Data/Hora Início"),
    "end": ("Data/Hora Fim Agendamento", "Data/Hora Fim"),
    "patient_name": ("Nome do Paciente",),
    "exam_codes": ("Códigos dos Exames",),
    "exam_names": ("Nomes dos Exames",),
    "total_exams": ("Total Exames",),
    "address": ("Endereço Coleta",),
    "category": ("Categoria",),
    "health_plan": ("Convênio",),
    "health_plan_name": ("Nome do Convênio",),
    "health_plan_card": ("Nr. Carteira",),
    "physician": ("CRM Pedido Médico", "Pedido Médico"),
    "booking_channel": ("Canal de Efetivação", "Canal Efetivação"),
    "booked_by": ("Usuário Marcação",),
    "booked_at": ("Data da Efetivação",),
    "confirmation_status": ("Status Confirmação",),
    "confirmation_channel": ("Canal Confirmação",),
    "confirmation_time": ("Data/Hora Confirmação",),
    "notes": ("Observação",),
    "documents": ("Documento(s) do Paciente", "Documento(s) Paciente"),
    "contacts": ("Contato(s) do Paciente", "Contato(s) Paciente"),
    "birth_date": ("Nascimento",),
}
REQUIRED_FIELDS = ("room_name", "start", "patient_name")
# Columns only the real DasaExp export has: any of them means the 30-column layout.
_DASAEXP_ONLY_FIELDS = frozenset({"source_id", "agenda_id", "unit_code", "brand"})
_HEALTH_PLAN = re.compile(r"^(\d+)\s*(?:-\s*(.*))?$")

CellText = Callable[[str], str]  # a row's cell text by field name


def header_key(text: str) -> str:
    """Fold a header for matching: no accents, case, spaces or punctuation ('Data/Hora Início' -> 'datahorainicio')."""
    return re.sub(r"[^a-z0-9]", "", fold_name(text))


_FIELD_BY_HEADER = {header_key(text): name for name, texts in HEADERS.items() for text in texts}


@dataclass(frozen=True)
class RowIssue:
    """A problem found in one row: the spreadsheet's row number, a stable code and a pt-BR message.

    Messages never repeat the cell values (they may be a CPF, a phone or a name).
    """

    row: int
    level: str  # "error" | "warning"
    code: str
    message: str
    field: str | None = None
    # `possible_duplicate`: the registered patient the row's patient may be, and the score (0–1).
    patient_id: str | None = None
    score: float | None = None


@dataclass(frozen=True)
class ParsedRow:
    """One spreadsheet row, typed. Fields are None when the file does not say."""

    row_number: int
    kind: str  # "visit" | "skipped" | "error" | "duplicate"
    skip_reason: str | None = None
    duplicate_of: int | None = None
    issues: tuple[RowIssue, ...] = ()
    raw: dict[str, str] = field(default_factory=dict)  # original header -> cell text, unknown columns too
    # Source appointment and agenda.
    source_id: str | None = None  # `Id do agendamento`; None in the simplified layout
    agenda_id: str | None = None  # `Id da agenda`; `0` reads as None
    status: str | None = None  # "scheduled" | "squeezed_in" | "cancelled" | "other"
    brand: str | None = None
    unit_code: str | None = None
    unit_name: str | None = None
    # Room / car.
    room_code: str | None = None
    room_name: str | None = None
    car_label: str | None = None  # "CARRO 1" (not unique on its own)
    car_base: str | None = None  # "AV CENTER 2"
    operational_unit: str | None = None  # "UND84"
    car_key: str | None = None  # room code + full room name: the stable identity of a car agenda
    # Slot, naive America/Sao_Paulo local time.
    start: datetime | None = None
    end: datetime | None = None
    # Patient.
    patient_name: str | None = None
    # The name folded for identity (case, accents, spaces), computed once here.
    patient_name_folded: str = field(default="", compare=False, repr=False)
    birth_date: date | None = None
    cpf_digits: str | None = None  # as written, even when invalid; use `cpf` for identity
    cpf_valid: bool = False
    rgs: tuple[str, ...] = ()
    phones: tuple[Phone, ...] = ()
    email: str | None = None
    # Exams.
    exam_codes: tuple[str, ...] = ()
    exam_names: str | None = None  # raw text: names may contain commas, never split it
    total_exams: int | None = None
    # Address.
    address_text: str | None = None
    address: Address | None = None
    # Health plan, physician, booking.
    health_plan_code: str | None = None
    health_plan_name: str | None = None
    health_plan_card: str | None = None
    category: str | None = None
    physician_text: str | None = None  # the order's physician cell; None for `Não encontrado`
    physician: Physician | None = None  # parsed `CRM - RJ - 52123456`
    booking_channel: str | None = None
    booked_by: str | None = None
    booked_at: datetime | None = None
    # Confirmation.
    confirmation_status: str | None = None  # "confirmed" | "pending"
    confirmation_channel: str | None = None  # "whatsapp" | "sms" | "phone" | "app" | "site" | "email" | "other"
    confirmation_time: datetime | None = None
    notes: str | None = None

    @property
    def cpf(self) -> str | None:
        """The CPF digits only when valid: an invalid CPF is never an identity."""
        return self.cpf_digits if self.cpf_valid else None


@dataclass(frozen=True)
class Header:
    """Where the header is and which field each column holds."""

    row_number: int
    names: tuple[str, ...]  # raw-dict key per column (original text; `Coluna N` when blank)
    fields: tuple[str | None, ...]  # known field per column, None for unknown columns
    layout: str

    @property
    def width(self) -> int:
        """Number of columns read from each row."""
        return len(self.names)

    def column(self, name: str) -> str:
        """The file's own header text for a field (for messages)."""
        return self.names[self.fields.index(name)] if name in self.fields else HEADERS[name][0]


@dataclass(frozen=True)
class ParsedFile:
    """A vetted spreadsheet: its layout, header and row count; `rows()` streams its rows."""

    filename: str
    layout: str  # "dasaexp" | "simplified"
    sheet_name: str | None  # None for CSV
    encoding: str | None  # CSV only
    delimiter: str | None  # CSV only
    header: Header
    row_estimate: int  # data rows, estimated without building cells (exact for CSV); see total_rows
    _table: Table = field(repr=False, compare=False)

    @cached_property
    def total_rows(self) -> int:
        """Data rows after the header, fully blank rows excluded (exact: a full read on first use)."""
        return sum(
            1
            for number, cells in self._table.records(self.header.width)
            if number > self.header.row_number and not is_blank(cells)
        )

    @property
    def columns(self) -> tuple[str, ...]:
        """The header texts, in file order."""
        return self.header.names

    @property
    def unknown_columns(self) -> tuple[str, ...]:
        """Header texts this parser does not know (kept in each row's `raw`)."""
        return tuple(name for name, known in zip(self.header.names, self.header.fields) if known is None)

    def rows(self) -> Iterator[ParsedRow]:
        """Yield the data rows lazily, in file order; exact repeats come back as `duplicate`."""
        first_seen: dict[bytes, int] = {}  # 16-byte digest per row: ~100 bytes a row, not the row
        for number, cells in self._table.records(self.header.width):
            if number <= self.header.row_number or is_blank(cells):
                continue
            row = build_row(number, cells, self.header)
            digest = hashlib.blake2b("\x1f".join(row.raw.values()).encode(), digest_size=16).digest()
            if digest in first_seen:
                row = _as_duplicate(row, first_seen[digest])
            else:
                first_seen[digest] = number
            yield row


def parse(source: Source, filename: str, *, limits: Limits = DEFAULT_LIMITS) -> ParsedFile:
    """Vet an uploaded agenda file (its bytes or a path to them) and return it ready to stream; raise Invalid
    for unusable files.

    The type is told by content (never by `filename`). Codes: `empty_file`,
    `unsupported_file_type`, `corrupt_file`, `encrypted_file`, `file_too_complex`
    (past a bound of `Limits`), `no_header`, `header_too_wide`.
    """
    tables = open_tables(source, limits)
    table, header = _find_header(tables, limits)
    # The whole file is read once here, so a file broken at its end fails now, before any row is applied.
    estimate = table.validate(header.row_number, header.width)
    return ParsedFile(
        filename=filename,
        layout=header.layout,
        sheet_name=table.sheet_name,
        encoding=table.encoding,
        delimiter=table.delimiter,
        header=header,
        row_estimate=estimate,
        _table=table,
    )


def file_type(source: Source | IO[bytes], *, limits: Limits = DEFAULT_LIMITS) -> str:
    """Tell an upload's content type by its bytes (cheap: for the upload request, read in chunks); raise
    Invalid if unusable.

    Codes: `empty_file`, `unsupported_file_type`, `encrypted_file`, `corrupt_file`, `file_too_complex`.
    """
    return sniff(source, limits)[0]


def split_visit_key(row: ParsedRow) -> tuple[str | None, datetime | None, str, str | None]:
    """Group key for split visits (one stop billed to two payers): car, start, folded patient name, agenda id."""
    # The folded name, not the CPF: both rows of a split always carry the name, not always the CPF.
    return (row.car_key, row.start, row.patient_name_folded, row.agenda_id)


def patient_key(row: ParsedRow) -> tuple[Any, ...]:
    """Identity of the row's patient within a file: the valid CPF, else folded name + birth date."""
    if row.cpf:
        return ("cpf", row.cpf)
    return ("name", row.patient_name_folded, row.birth_date)


def _find_header(tables: list[Table], limits: Limits) -> tuple[Table, Header]:
    """Find the first row (of the first ~20) that holds the required columns, in the first table that has one.

    Rows are scanned as wide as Excel allows, so a header whose known columns sit past
    the column limit is told apart from a header that lacks them (`header_too_wide`).
    """
    saw_content = False
    best_found: set[str] = set()
    for table in tables:
        records = table.records(limits.max_cells_per_row)
        try:
            for number, cells in records:
                if number > limits.header_scan_rows:
                    break
                cells = _trimmed(cells)
                if not cells:
                    continue
                saw_content = True
                fields = [
                    None if cell is None or isinstance(cell, FormulaCell)
                    else _FIELD_BY_HEADER.get(header_key(cell_text(cell)))
                    for cell in cells
                ]
                found = {name for name in fields if name}
                if found.issuperset(REQUIRED_FIELDS):
                    _check_width(fields, limits)
                    return table, _make_header(number, cells[: limits.max_columns], fields[: limits.max_columns], found)
                if len(found) > len(best_found):
                    best_found = found
        finally:
            records.close()
    if not saw_content:
        raise Invalid("empty_file", "O arquivo está vazio.")
    missing = [HEADERS[name][0] for name in REQUIRED_FIELDS if name not in best_found]
    raise Invalid(
        "no_header",
        f"Cabeçalho não encontrado nas primeiras {limits.header_scan_rows} linhas: "
        f"faltam as colunas {', '.join(missing)}.",
        missing_columns=missing,
    )


def _trimmed(cells: tuple) -> tuple:
    """The cells up to the last one with something in it (a scanned row is 16,384 cells wide)."""
    end = len(cells)
    while end and (cells[end - 1] is None or (isinstance(cells[end - 1], str) and not cells[end - 1].strip())):
        end -= 1
    return cells[:end]


def _check_width(fields: list[str | None], limits: Limits) -> None:
    """Refuse a header with known columns past the column limit: they would be read as missing."""
    beyond = [HEADERS[name][0] for name in fields[limits.max_columns :] if name]
    if beyond:
        raise Invalid(
            "header_too_wide",
            f"O cabeçalho passa do limite de {limits.max_columns} colunas: as colunas "
            f"{', '.join(beyond)} estão além da coluna {limits.max_columns}. "
            "Apague as colunas vazias ou extras antes delas e envie o arquivo novamente.",
            max_columns=limits.max_columns,
            columns_beyond=beyond,
        )


def _make_header(number: int, cells: tuple, fields: list[str | None], found: set[str]) -> Header:
    texts = [collapse_spaces(cell_text(cell)) or "" for cell in cells]
    width = max(index for index, text in enumerate(texts) if text) + 1
    names: list[str] = []
    seen_fields: set[str] = set()
    kept_fields: list[str | None] = []
    for index in range(width):
        name = texts[index] or f"Coluna {index + 1}"
        suffix = 2
        base = name
        while name in names:  # a repeated header text must not overwrite the first in `raw`
            name = f"{base} ({suffix})"
            suffix += 1
        names.append(name)
        field_name = fields[index] if fields[index] not in seen_fields else None
        if field_name:
            seen_fields.add(field_name)
        kept_fields.append(field_name)
    layout = LAYOUT_DASAEXP if found & _DASAEXP_ONLY_FIELDS else LAYOUT_SIMPLIFIED
    return Header(number, tuple(names), tuple(kept_fields), layout)


class _Issues:
    """Collects a row's issues."""

    def __init__(self, row: int, header: Header) -> None:
        self.row = row
        self.header = header
        self.items: list[RowIssue] = []

    def error(self, code: str, message: str, field_name: str | None = None) -> None:
        self.items.append(RowIssue(self.row, LEVEL_ERROR, code, message, field_name))

    def warning(self, code: str, message: str, field_name: str | None = None) -> None:
        self.items.append(RowIssue(self.row, LEVEL_WARNING, code, message, field_name))

    @property
    def has_errors(self) -> bool:
        return any(issue.level == LEVEL_ERROR for issue in self.items)


def build_row(number: int, cells: tuple, header: Header) -> ParsedRow:
    """Type one data row and decide its kind (visit / skipped / error); duplicates are decided by the file."""
    issues = _Issues(number, header)
    raw, values = _read_cells(cells, header, issues)

    def text(name: str) -> str:
        return cell_text(values.get(name))

    room_name = collapse_spaces(text("room_name"))
    room_code = text("room_code") or None
    car = parse_car_room(room_name or "")
    unit: dict[str, Any] = {
        "source_id": text("source_id") or None,
        "agenda_id": _agenda_id(text("agenda_id")),
        "brand": collapse_spaces(text("brand")),
        "unit_code": text("unit_code") or None,
        "unit_name": collapse_spaces(text("unit_name")),
        "room_code": room_code,
        "room_name": room_name,
    }
    if car is None:
        # Exam rooms and rows without a room are not ours: counted as skipped, never reported as
        # issues, and not typed any further (their patients and exams are not ours to read).
        if _is_repeated_header(values, header):
            reason = SKIP_REPEATED_HEADER
        else:
            reason = SKIP_NOT_A_CAR_ROOM if room_name or room_code else SKIP_EMPTY_ROOM
        return ParsedRow(number, KIND_SKIPPED, skip_reason=reason, raw=raw, status=normalize_status(text("status")), **unit)
    fields: dict[str, Any] = {
        **unit,
        "status": _status(text("status"), issues),
        "car_label": car.label,
        "car_base": car.base,
        "operational_unit": car.operational_unit,
        "car_key": room_key(room_code, room_name),
        **_schedule(values, issues),
        **_patient(values, text, issues),
        **_exams(text, issues),
        **_address(text("address"), issues),
        **_health_plan(text("health_plan"), text("health_plan_name")),
        "health_plan_card": text("health_plan_card") or None,
        "category": collapse_spaces(text("category")),
        "physician_text": None if is_not_found(text("physician")) else collapse_spaces(text("physician")),
        "physician": parse_physician(text("physician")),
        "booking_channel": collapse_spaces(text("booking_channel")),
        "booked_by": text("booked_by") or None,
        "booked_at": _datetime(values, "booked_at", issues, LEVEL_WARNING, "invalid_booked_at"),
        **_confirmation(values, text, issues),
        "notes": text("notes") or None,
    }
    kind = KIND_ERROR if issues.has_errors else KIND_VISIT
    return ParsedRow(number, kind, issues=tuple(issues.items), raw=raw, **fields)


def _read_cells(cells: tuple, header: Header, issues: _Issues) -> tuple[dict[str, str], dict[str, object]]:
    """Map a row's cells to the raw text dict and to typed values per known field."""
    raw: dict[str, str] = {}
    values: dict[str, object] = {}
    width = len(cells)
    for index, (name, field_name) in enumerate(zip(header.names, header.fields)):
        cell = cells[index] if index < width else None
        if type(cell) is str:  # the common case first: text cells, no function call
            raw[name] = cell.strip()
        elif cell is None:
            raw[name] = ""
        elif isinstance(cell, FormulaCell):
            issues.warning(
                "formula_without_value",
                f"A coluna “{name}” tem uma fórmula sem valor calculado; o valor foi ignorado.",
                field_name,
            )
            raw[name] = cell.formula
            cell = None
        else:
            raw[name] = cell_text(cell)
        if field_name:
            values[field_name] = cell
    return raw, values


def _is_repeated_header(values: dict[str, object], header: Header) -> bool:
    """Tell a header line repeated mid-file (two exports pasted together)."""
    return all(
        header_key(cell_text(values.get(name))) == header_key(header.column(name)) for name in REQUIRED_FIELDS
    )


def _agenda_id(text: str) -> str | None:
    # DasaExp writes 0 when the appointment has no agenda id.
    return None if text in ("", "0") else text


def _status(text: str, issues: _Issues) -> str | None:
    status = normalize_status(text)
    if status == "other":
        issues.warning("unknown_status", "Status do agendamento não reconhecido.", "status")
    return status


def _datetime(
    values: dict[str, object], name: str, issues: _Issues, level: str, code: str
) -> datetime | None:
    """Parse a date/time field, recording an issue (never the value) when it is not a real date."""
    try:
        return parse_datetime(values.get(name))
    except (ValueError, OverflowError):
        message = f"Data/hora inválida na coluna “{issues.header.column(name)}”."
        if level == LEVEL_ERROR:
            issues.error(code, message, name)
        else:
            issues.warning(code, message, name)
        return None


def _schedule(values: dict[str, object], issues: _Issues) -> dict[str, Any]:
    start = _datetime(values, "start", issues, LEVEL_ERROR, "invalid_date")
    end = _datetime(values, "end", issues, LEVEL_ERROR, "invalid_date")
    if not cell_text(values.get("start")):
        issues.error("missing_start", "Data/hora de início ausente.", "start")
    if start is not None and not cell_text(values.get("end")):
        issues.warning("missing_end", "Data/hora de fim ausente; considerado um horário de 40 minutos.", "end")
        end = start + DEFAULT_SLOT
    elif start is not None and end is not None and end <= start:
        # Hand-edited files hold ends before starts; one slot is the best guess.
        issues.warning(
            "end_before_start", "Fim não é posterior ao início; considerado um horário de 40 minutos.", "end"
        )
        end = start + DEFAULT_SLOT
    return {"start": start, "end": end}


def _patient(values: dict[str, object], text: CellText, issues: _Issues) -> dict[str, Any]:
    name = clean_name(text("patient_name"))
    if name is None:
        issues.error("missing_patient_name", "Linha de carro sem nome do paciente.", "patient_name")
    try:
        birth_date = parse_date(values.get("birth_date"))
    except (ValueError, OverflowError):
        issues.warning("invalid_birth_date", "Data de nascimento inválida; ignorada.", "birth_date")
        birth_date = None
    documents = parse_documents(text("documents"))
    if documents.cpf_digits and not documents.cpf_valid:
        issues.warning(
            "invalid_cpf", "CPF inválido (dígitos verificadores não conferem); paciente sem CPF.", "documents"
        )
    contacts = parse_contacts(text("contacts"))
    if contacts.invalid_phones:
        issues.warning(
            "invalid_phone", f"{contacts.invalid_phones} telefone(s) inválido(s) ignorado(s).", "contacts"
        )
    if contacts.invalid_emails:
        issues.warning("invalid_email", "E-mail inválido ignorado.", "contacts")
    return {
        "patient_name": name,
        "patient_name_folded": fold_name(name),
        "birth_date": birth_date,
        "cpf_digits": documents.cpf_digits,
        "cpf_valid": documents.cpf_valid,
        "rgs": documents.rgs,
        "phones": contacts.phones,
        "email": contacts.email,
    }


def _exams(text: CellText, issues: _Issues) -> dict[str, Any]:
    codes = parse_exam_codes(text("exam_codes"))
    try:
        total = parse_int(text("total_exams"))
    except ValueError:
        issues.warning("invalid_total_exams", "Total de exames não é um número inteiro.", "total_exams")
        total = None
    if total is not None and total != len(codes):
        issues.warning(
            "exam_count_mismatch",
            f"Total de exames ({total}) difere da quantidade de códigos ({len(codes)}).",
            "total_exams",
        )
    return {"exam_codes": codes, "exam_names": text("exam_names") or None, "total_exams": total}


_ADDRESS_MESSAGES = {
    "unparsed_address": "Endereço fora do formato esperado; mantido como texto.",
    "invalid_zip_code": "CEP inválido no endereço; ignorado.",
}


def _address(text: str, issues: _Issues) -> dict[str, Any]:
    address_text = collapse_spaces(text)
    if address_text is None:
        issues.warning("missing_address", "Endereço de coleta ausente.", "address")
        return {"address_text": None, "address": None}
    address, problems = parse_address(address_text)
    for code in problems:
        issues.warning(code, _ADDRESS_MESSAGES[code], "address")
    return {"address_text": address_text, "address": address}


def _health_plan(plan: str, plan_name: str) -> dict[str, Any]:
    """Read `Convênio`: a code (DasaExp, with `Nome do Convênio` beside it), `80 - AMIL`, or a bare name."""
    code, name = None, collapse_spaces(plan_name)
    match = _HEALTH_PLAN.match(plan)
    if match:
        code = match.group(1)
        name = name or collapse_spaces(match.group(2) or "")
    elif plan:
        name = name or collapse_spaces(plan)
    return {"health_plan_code": code, "health_plan_name": name}


def _confirmation(values: dict[str, object], text: CellText, issues: _Issues) -> dict[str, Any]:
    status = normalize_confirmation_status(text("confirmation_status"))
    if status is None:
        issues.warning(
            "unknown_confirmation_status",
            "Status de confirmação não reconhecido; considerado pendente.",
            "confirmation_status",
        )
        status = "pending"
    try:
        # DasaExp fills this column with the channel (`WHATSS`): only a real date/time counts.
        confirmed_at = parse_datetime(values.get("confirmation_time"))
    except (ValueError, OverflowError):
        confirmed_at = None
    return {
        "confirmation_status": status,
        "confirmation_channel": normalize_channel(text("confirmation_channel")),
        "confirmation_time": confirmed_at,
    }


def _as_duplicate(row: ParsedRow, first: int) -> ParsedRow:
    issue = RowIssue(
        row.row_number,
        LEVEL_WARNING,
        "duplicate_row",
        f"Linha idêntica à linha {first}; importada uma única vez.",
    )
    return replace(row, kind=KIND_DUPLICATE, skip_reason=None, duplicate_of=first, issues=(issue,))
