"""Brazilian identifiers and names: CPF, phones, CEP and folded names.

Pure functions, shared by the patient service and the spreadsheet parser. Errors
are raised as `storage.errors.Invalid` with a stable code and a pt-BR message that
never repeats the value (it may be a CPF or a phone number).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import phonenumbers

from storage.errors import Invalid

_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")


def digits_only(value: str | None) -> str:
    """Return only the ASCII digits of `value` ('' for None)."""
    return _NON_DIGITS.sub("", value or "")


def cpf_check_digits(first_nine: str) -> str:
    """Compute the two mod-11 check digits for the first nine digits of a CPF."""
    digits = [int(c) for c in first_nine]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight_start, 1, -1)))
        remainder = total % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return f"{digits[-2]}{digits[-1]}"


def is_valid_cpf(value: str | None) -> bool:
    """Tell whether `value` (any punctuation) is a CPF with valid check digits."""
    digits = digits_only(value)
    if len(digits) != 11 or digits == digits[0] * 11:
        return False
    return cpf_check_digits(digits[:9]) == digits[9:]


def normalize_cpf(value: str | None) -> str | None:
    """Return the 11 digits of a valid CPF, None for empty input; raise Invalid otherwise."""
    if value is None or not value.strip():
        return None
    digits = digits_only(value)
    if len(digits) != 11:
        raise Invalid("invalid_cpf", "CPF deve ter 11 dígitos.", field="cpf")
    if not is_valid_cpf(digits):
        raise Invalid("invalid_cpf", "CPF inválido: dígitos verificadores não conferem.", field="cpf")
    return digits


def format_cpf(digits: str) -> str:
    """Show 11 CPF digits as 123.456.789-09."""
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def mask_cpf(digits: str | None) -> str | None:
    """Mask a CPF for display outside the record: ***.456.789-**."""
    if not digits or len(digits) != 11:
        return None
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


def normalize_phone(value: str | None) -> str | None:
    """Return a Brazilian phone as national digits (DDD + number), None if empty; raise Invalid.

    Accepts `21 999999999`, `(21) 99999-9999`, `21999999999`, `+55 21 …` and
    `0 21 …` trunk prefixes. Landlines have 8 digits starting 2–5, mobiles 9
    digits starting 9; the `phonenumbers` metadata decides what is valid.
    """
    if value is None or not value.strip():
        return None
    raw = value.strip()
    digits = digits_only(raw)
    if raw.startswith("+"):
        candidate = "+" + digits
    elif len(digits) in (12, 13) and digits.startswith("55"):
        candidate = "+" + digits
    else:
        candidate = digits.lstrip("0")
    try:
        parsed = phonenumbers.parse(candidate, "BR")
    except phonenumbers.NumberParseException:
        raise Invalid("invalid_phone", "Telefone inválido.", field="phones") from None
    if parsed.country_code != 55 or not phonenumbers.is_valid_number(parsed):
        raise Invalid("invalid_phone", "Telefone inválido: use DDD + número.", field="phones")
    return str(parsed.national_number)


def phone_kind(digits: str) -> str:
    """Tell a mobile (9 digits after the DDD) from a landline."""
    return "mobile" if len(digits) == 11 else "landline"


def phone_e164(digits: str) -> str:
    """Return national phone digits as E.164 (+55…), the form messaging providers take."""
    return f"+55{digits}"


def format_phone(digits: str) -> str:
    """Show national digits as (11) 98765-4321 or (11) 3456-7890."""
    ddd, number = digits[:2], digits[2:]
    return f"({ddd}) {number[:-4]}-{number[-4:]}"


def mask_phone(digits: str | None) -> str | None:
    """Mask a phone for logs and lists: (11) *****-4321."""
    if not digits or len(digits) < 6:
        return None
    return f"({digits[:2]}) *****-{digits[-4:]}"


def normalize_cep(value: str | None) -> str | None:
    """Return the 8 digits of a CEP, None if empty; raise Invalid otherwise."""
    if value is None or not value.strip():
        return None
    digits = digits_only(value)
    if len(digits) != 8:
        raise Invalid("invalid_zip_code", "CEP deve ter 8 dígitos.", field="zip_code")
    return digits


def strip_accents(value: str) -> str:
    """Remove diacritics: 'José Gonçalves' -> 'Jose Goncalves'."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_name(value: str | None) -> str:
    """Fold a name for identity matching: no accents, lower case, single spaces."""
    return _SPACES.sub(" ", strip_accents(value or "")).strip().lower()


def clean_name(value: str | None) -> str | None:
    """Trim and collapse the spaces of a person's name, keeping case and accents."""
    cleaned = _SPACES.sub(" ", value or "").strip()
    return cleaned or None


def required_name(value: Any, missing: str, max_length: int = 200) -> str:
    """A person's name, cleaned (`clean_name`); Invalid `missing_name` (with the `missing` message) or `invalid_name`."""
    name = clean_name(value if isinstance(value, str) else None)
    if not name:
        raise Invalid("missing_name", missing, field="name")
    if len(name) > max_length:
        raise Invalid("invalid_name", f"O nome deve ter no máximo {max_length} caracteres.", field="name")
    return name
