"""The pt-BR message templates. Pure: names and values in, text out.

Minimal health information: a date, a time and the street of the visit; never an
exam name or a diagnosis. The preparation text speaks of fasting only generically.
Placeholders: {nome} (first name), {data} (dd/mm), {hora} (HH:MM), {endereco}
(street and number).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import datetime

from storage.clock import LOCAL_TZ
from storage.errors import Invalid

OPT_OUT = "Responda SAIR para não receber mais mensagens."
# Said when the visit has no street on record.
NO_ADDRESS = "seu endereço cadastrado"

TEMPLATES: dict[str, str] = {
    "confirmation_request": (
        "Olá, {nome}! Sua coleta domiciliar está agendada para {data} às {hora}, em {endereco}. "
        "Responda SIM para confirmar, NÃO para cancelar ou SAIR para não receber mais mensagens."
    ),
    "reminder": (
        "Olá, {nome}! Lembrete: sua coleta domiciliar é em {data} às {hora}, em {endereco}. " + OPT_OUT
    ),
    "reschedule_notice": (
        "Olá, {nome}! Sua coleta domiciliar foi reagendada para {data} às {hora}, em {endereco}. " + OPT_OUT
    ),
    "preparation": (
        "Olá, {nome}! Preparo para a sua coleta domiciliar de {data} às {hora}: faça jejum de 8 horas "
        "(água liberada), salvo outra orientação recebida no agendamento. " + OPT_OUT
    ),
}
PLACEHOLDERS = frozenset({"nome", "data", "hora", "endereco"})
_SPACES = re.compile(r"\s+")


def placeholders(name: str) -> set[str]:
    """The placeholder names a template uses."""
    return {field for _, field, _, _ in string.Formatter().parse(TEMPLATES[name]) if field}


def render(name: str, values: Mapping[str, str]) -> str:
    """Fill template `name` with `values`; Invalid for an unknown template or a missing value."""
    if name not in TEMPLATES:
        raise Invalid("unknown_template", "Modelo de mensagem desconhecido.", field="template", allowed=sorted(TEMPLATES))
    missing = sorted(field for field in placeholders(name) if not values.get(field))
    if missing:
        raise Invalid("template_value_missing", "Faltam dados para preencher a mensagem.", missing=missing)
    return TEMPLATES[name].format_map({key: _SPACES.sub(" ", str(value)).strip() for key, value in values.items()})


def first_name(full_name: str | None) -> str:
    """The first name only, capitalised ('JOSÉ DA SILVA' -> 'José'); '' without a name."""
    parts = (full_name or "").split()
    return parts[0].title() if parts else ""


def day_month(moment: datetime) -> str:
    """dd/mm of a moment, in America/Sao_Paulo."""
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m")


def hour_minute(moment: datetime) -> str:
    """HH:MM of a moment, in America/Sao_Paulo."""
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M")


def short_address(street: str | None, number: str | None) -> str:
    """Street and number only ('Rua das Flores, 123'); the neutral phrase when the street is unknown."""
    street = _SPACES.sub(" ", street or "").strip()
    number = _SPACES.sub(" ", number or "").strip()
    if not street:
        return NO_ADDRESS
    return f"{street}, {number}" if number else street


def values_for(name: str | None, start: datetime, street: str | None, number: str | None) -> dict[str, str]:
    """The placeholder values of a visit: first name, local date and time, short address."""
    return {
        "nome": first_name(name),
        "data": day_month(start),
        "hora": hour_minute(start),
        "endereco": short_address(street, number),
    }
