"""Domain errors raised by storage services; only api/errors.py knows their HTTP form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Base of the errors a client can act on: a stable code and a pt-BR message."""

    code = "domain_error"

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The entity does not exist (or is not visible to the caller)."""

    # One pt-BR message per entity a client can name; `<entity>_not_found` is the code.
    MESSAGES = {
        "patient": "Paciente não encontrado.",
        "visit": "Visita não encontrada.",
        "car": "Carro não encontrado.",
        "driver": "Motorista não encontrado.",
        "collector": "Coletora não encontrada.",
        "team": "Equipe não encontrada.",
        "import": "Importação não encontrada.",
        "bulk_job": "Ação em lote não encontrada.",
        "message": "Mensagem não encontrada.",
        "user": "Usuário não encontrado.",
        "duplicate": "Par de possíveis duplicados não encontrado.",
        "reindex_job": "Reconstrução de índice não encontrada.",
    }

    def __init__(self, entity: str, entity_id: Any = None) -> None:
        message = self.MESSAGES[entity]
        super().__init__(f"{entity}_not_found", message, entity=entity, id=str(entity_id) if entity_id else None)


class Conflict(DomainError):
    """The change clashes with existing data (duplicate key, overlapping booking, stale version)."""


class Forbidden(DomainError):
    """The caller may not do this to this record (someone else's job, another car's visit)."""


class Invalid(DomainError):
    """The input breaks a domain rule (bad CPF, bad phone, impossible date)."""

    def __init__(self, code: str, message: str, field: str | None = None, **details: Any) -> None:
        if field:
            details["field"] = field
        super().__init__(code, message, **details)


def found(row: T | None, entity: str, entity_id: Any) -> T:
    """The row a look-up found, or NotFound(entity, entity_id) when it found none."""
    if row is None:
        raise NotFound(entity, entity_id)
    return row


def refuse_unknown(fields: Iterable[str], allowed: Iterable[str]) -> None:
    """Invalid `unknown_fields` (naming them) when `fields` holds a name outside `allowed`."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise Invalid("unknown_fields", "Campos não permitidos.", fields=sorted(unknown))
