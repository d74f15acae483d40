"""Pure parsers for the values found in agenda spreadsheet cells.

Dates, documents, contacts, addresses, physicians, exam codes, statuses and car
rooms, in the forms the DasaExp export and the older simplified tool write them.
Nothing here knows about rows, files or the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time
from typing import NamedTuple

from openpyxl.utils.datetime import from_excel

from storage.clock import LOCAL_TZ
from storage.errors import Invalid
from storage.identifiers import (
    digits_only,
    fold_name,
    is_valid_cpf,
    normalize_cep,
    normalize_phone,
    phone_kind,
    strip_accents,
)


UFS = frozenset(
    "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO".split()
)

_SPACES = re.compile(r"\s+")
# 20/01/2025, 20/01/2025 06:30, 20/01/2025 06:30:00 (also with - or . between the date parts).
_BR_DATETIME = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?$"
)
# Excel serial days between 1900-01-01 and 9999-12-31: a date cell Excel stored as a plain number.
_EXCEL_SERIAL_RANGE = (1, 2_958_465)
# A label is one or more words of letters ("CPF", "E-mail", "Nr. Carteira") before a colon.
_LABEL = re.compile(r"([^\W\d_]+(?:[ .\-][^\W\d_]+)*)\s*:")
_ITEM_SEPARATORS = re.compile(r"[,;|/]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CEP_LIKE = re.compile(r"^[\d.\-\s]+$")
_CAR = re.compile(r"\bcarro\s*(\d+)\b", re.IGNORECASE)
_OPERATIONAL_UNIT = re.compile(r"\bUND\s*(\d+)\b", re.IGNORECASE)
_PHYSICIAN = re.compile(r"^([A-Za-z]{2,8})\s*[-/ ]\s*([A-Za-z]{2})\s*[-/ ]\s*(\d+)$")


def cell_text(value: object) -> str:
    """Render a cell value as trimmed text ('' for empty); numbers without a spurious '.0'."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "VERDADEIRO" if value else "FALSO"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def collapse_spaces(text: str) -> str | None:
    """Trim and collapse runs of whitespace; None when nothing is left."""
    cleaned = _SPACES.sub(" ", text).strip()
    return cleaned or None


def parse_datetime(value: object) -> datetime | None:
    """Parse a date/time cell to a naive America/Sao_Paulo datetime; None if empty, ValueError if bad.

    Accepts real date cells, `DD/MM/YYYY HH:MM:SS`, the same without seconds or
    without time, and ISO 8601 (an offset is converted to local time). Impossible
    dates such as 31/02 or 25:61 raise ValueError.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _local_naive(value)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not _EXCEL_SERIAL_RANGE[0] <= value <= _EXCEL_SERIAL_RANGE[1]:
            raise ValueError("number out of the Excel date range")
        return from_excel(value)
    text = cell_text(value)
    if not text:
        return None
    match = _BR_DATETIME.match(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    return _local_naive(datetime.fromisoformat(text))  # raises ValueError on anything else


def parse_date(value: object) -> date | None:
    """Parse a date cell (`DD/MM/YYYY`, ISO or a real date cell); None if empty, ValueError if bad."""
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def _local_naive(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


_fold_label = lru_cache(maxsize=1024)(fold_name)  # "CPF", "Celular", "Email": a handful of labels


def split_labelled(text: str) -> list[tuple[str, str]]:
    """Split `Label: value, Label: value` lists into (folded label, value) pairs.

    Items may be separated by `,`, `;`, `/` or `|`; one label may carry several
    values (`Celular: 21 99999-9999, 21 98888-7777`). Text before the first label
    comes back with the label ''.
    """
    labels = list(_LABEL.finditer(text))
    segments: list[tuple[str, str]] = []
    if not labels:
        segments.append(("", text))
    else:
        if labels[0].start() > 0:
            segments.append(("", text[: labels[0].start()]))
        for index, label in enumerate(labels):
            end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
            segments.append((_fold_label(label.group(1)), text[label.end() : end]))
    items = []
    for label, segment in segments:
        for value in _ITEM_SEPARATORS.split(segment):
            if value.strip():
                items.append((label, value.strip()))
    return items


@dataclass(frozen=True)
class Documents:
    """Patient documents: the CPF digits as written (maybe invalid) and the RGs."""

    cpf_digits: str | None
    cpf_valid: bool
    rgs: tuple[str, ...]


def parse_documents(text: str) -> Documents:
    """Parse `CPF: 123.456.789-09, RG: 12.345.678-9` (any order, several RGs, any punctuation)."""
    cpf_digits: str | None = None
    rgs: list[str] = []
    for label, value in split_labelled(text):
        if label == "cpf" and cpf_digits is None:
            cpf_digits = digits_only(value) or None
        elif label == "rg":
            rg = re.sub(r"[^0-9X]", "", value.upper())
            if rg and rg not in rgs:
                rgs.append(rg)
    if cpf_digits and len(cpf_digits) < 11 and is_valid_cpf(cpf_digits.zfill(11)):
        # Excel drops the leading zeros of a CPF typed into a number cell.
        cpf_digits = cpf_digits.zfill(11)
    valid = bool(cpf_digits) and is_valid_cpf(cpf_digits)
    return Documents(cpf_digits=cpf_digits, cpf_valid=valid, rgs=tuple(rgs))


class Phone(NamedTuple):
    """A phone as national digits (DDD + number) and its kind from the export's label."""

    digits: str
    kind: str  # "mobile" | "landline" | "residential" | "commercial"


_PHONE_KINDS = {
    "celular": "mobile",
    "cel": "mobile",
    "movel": "mobile",
    "whatsapp": "mobile",
    "residencial": "residential",
    "res": "residential",
    "comercial": "commercial",
    "trabalho": "commercial",
}
_EMAIL_LABELS = {"email", "e-mail", "e mail"}


_INVALID_PHONE = "invalid"


@lru_cache(maxsize=65536)  # recurring patients bring the same numbers back, and phone metadata is slow
def _phone(value: str) -> str | None:
    try:
        return normalize_phone(value)
    except Invalid:
        return _INVALID_PHONE


@dataclass(frozen=True)
class Contacts:
    """Phones and e-mail found in a contacts cell, with how many items were unusable."""

    phones: tuple[Phone, ...]
    email: str | None
    invalid_phones: int
    invalid_emails: int


def parse_contacts(text: str) -> Contacts:
    """Parse `Celular: 21 99999-9999, Residencial: 21 3333-4444, Email: a@b.com` in any order."""
    phones: list[Phone] = []
    email: str | None = None
    invalid_phones = invalid_emails = 0
    for label, value in split_labelled(text):
        if label in _EMAIL_LABELS or "@" in value:
            if _EMAIL.match(value):
                email = email or value.lower()
            else:
                invalid_emails += 1
            continue
        digits = _phone(value)
        if digits is _INVALID_PHONE:
            invalid_phones += 1
            continue
        if digits and all(phone.digits != digits for phone in phones):
            # "Telefone:" or an unlabelled number: tell the kind by its digits.
            phones.append(Phone(digits, _PHONE_KINDS.get(label) or phone_kind(digits)))
    return Contacts(tuple(phones), email, invalid_phones, invalid_emails)


@dataclass(frozen=True)
class Address:
    """A collection address split into its parts; zip_code is 8 digits, state a 2-letter UF."""

    street: str | None
    number: str | None
    neighborhood: str | None
    city: str | None
    state: str | None
    zip_code: str | None
    complement: str | None = None
    reference: str | None = None


def parse_address(text: str) -> tuple[Address | None, tuple[str, ...]]:
    """Split an address; return it (None if unsplittable) and problem codes.

    DasaExp writes `street,number,neighborhood,city,uf,cep[,complement[,reference]]`;
    the simplified tool writes `street, number[, complement], neighborhood, city, UF[, CEP]`.
    Both are read by finding the UF (followed by the CEP or by nothing) at index 4 or
    later: what sits between the number and the neighborhood, or after the CEP, is the
    complement; anything after that is the reference.
    """
    parts = [collapse_spaces(part) for part in text.split(",")]
    uf_index = next(
        (
            index
            for index in range(4, len(parts))
            if (parts[index] or "").upper() in UFS
            and (index == len(parts) - 1 or _CEP_LIKE.match(parts[index + 1] or ""))
        ),
        None,
    )
    if uf_index is None:
        return None, ("unparsed_address",)
    problems: tuple[str, ...] = ()
    zip_code = None
    tail = parts[uf_index + 1 :]
    if tail:
        try:
            zip_code = normalize_cep(tail.pop(0))
        except Invalid:
            problems = ("invalid_zip_code",)
    middle = [part for part in parts[2 : uf_index - 2] if part]
    complement = ", ".join(middle + [part for part in tail[:1] if part]) or None
    reference = ",".join(part for part in tail[1:] if part) or None
    address = Address(
        street=parts[0],
        number=parts[1],
        neighborhood=parts[uf_index - 2],
        city=parts[uf_index - 1],
        state=(parts[uf_index] or "").upper(),
        zip_code=zip_code,
        complement=complement,
        reference=reference,
    )
    return address, problems


class Physician(NamedTuple):
    """A requesting physician's council registration: `CRM - RJ - 52123456`."""

    council: str
    uf: str
    number: str


@lru_cache(maxsize=4096)  # a handful of distinct values per file: type each once
def is_not_found(text: str) -> bool:
    """Tell DasaExp's `Não encontrado` placeholder (any case or accents)."""
    return fold_name(text) in {"nao encontrado", "nao encontrada"}


def parse_physician(text: str) -> Physician | None:
    """Parse `CRM - RJ - 52123456`; None for `Não encontrado`, empty or any other form."""
    match = _PHYSICIAN.match(text.strip())
    if not match or match.group(2).upper() not in UFS:
        return None
    council, uf, number = match.groups()
    return Physician(council.upper(), uf.upper(), number)


def parse_exam_codes(text: str) -> tuple[str, ...]:
    """Split exam codes (`1009, 1004` or `HBA001,URI001`) keeping their order; empty items dropped."""
    return tuple(code.strip() for code in re.split(r"[,;|]", text) if code.strip())


def parse_int(text: str) -> int | None:
    """Parse a whole number ('' -> None); ValueError otherwise."""
    if not text:
        return None
    return int(text)


def _key(text: str) -> str:
    """Fold text to bare letters for matching status words: 'Não Confirmado' -> 'naoconfirmado'."""
    return re.sub(r"[^a-z]", "", (text if text.isascii() else strip_accents(text)).lower())


@lru_cache(maxsize=4096)  # a handful of distinct values per file: type each once
def normalize_status(text: str) -> str | None:
    """Map `Status Agendamento` to scheduled / squeezed_in / cancelled / other (None if empty)."""
    key = _key(text)
    if not key:
        return None
    if key == "agendado":
        return "scheduled"
    if "encaixe" in key:
        return "squeezed_in"
    if key.startswith("cancel"):
        return "cancelled"
    return "other"


@lru_cache(maxsize=4096)  # a handful of distinct values per file: type each once
def normalize_confirmation_status(text: str) -> str | None:
    """Map `Status Confirmação` to confirmed / pending ('' is pending); None if unrecognised."""
    key = _key(text)
    if key.startswith("confirm"):
        return "confirmed"
    if not key or key.startswith(("nao", "pend", "aguard")):
        return "pending"
    return None


_CHANNELS = (
    (("whats", "wpp", "zap"), "whatsapp"),
    (("sms",), "sms"),
    (("telefone", "ligacao", "fone", "tel"), "phone"),
    (("app", "aplicativo"), "app"),
    (("site", "web", "portal", "internet"), "site"),
    (("email",), "email"),
)


@lru_cache(maxsize=4096)  # a handful of distinct values per file: type each once
def normalize_channel(text: str) -> str | None:
    """Map a confirmation channel (`WHATSS`, `WhatsApp`, `SMS`, `Telefone`…) to a stable code."""
    key = _key(text)
    if not key:
        return None
    for prefixes, channel in _CHANNELS:
        if key.startswith(prefixes):
            return channel
    return "other"


@dataclass(frozen=True)
class CarRoom:
    """What a car agenda's room name tells: `AD-SF-FQ-AC-AV CENTER 2 CARRO 1 - UND84`."""

    label: str  # "CARRO 1"
    base: str | None  # "AV CENTER 2"
    operational_unit: str | None  # "UND84"


@lru_cache(maxsize=4096)  # a handful of distinct values per file: type each once
def parse_car_room(name: str) -> CarRoom | None:
    """Tell whether a room name is a car agenda (`CARRO <n>`, any case) and split it; None otherwise."""
    match = _CAR.search(name)
    if not match:
        return None
    # The base is the last hyphen-separated piece before the car: "AD-SF-FQ-AC-AV CENTER 2 ".
    base = collapse_spaces(name[: match.start()].rsplit("-", 1)[-1])
    after = name[match.end() :]
    unit = _OPERATIONAL_UNIT.search(after)
    if not base and not unit:
        # The simplified layout names no base: "CARRO 1 - Coleta Domiciliar" and "Carro 01 - Coleta
        # Especial" are two agendas told apart only by what follows the car, so that is their base
        # (staff would otherwise see two columns, cards and facet values all reading "CARRO 1").
        base = collapse_spaces(after.strip(" -"))
    return CarRoom(
        label=f"CARRO {int(match.group(1))}",
        base=base.upper() if base else None,
        operational_unit=f"UND{unit.group(1)}" if unit else None,
    )


@lru_cache(maxsize=4096)  # a handful of distinct values per file: type each once
def room_key(room_code: str | None, room_name: str | None) -> str:
    """Build a stable car key from the room code and full room name (never the bare `CARRO n`)."""
    name = _SPACES.sub(" ", strip_accents(room_name or "")).strip().upper()
    return f"{room_code or ''}|{name}"
