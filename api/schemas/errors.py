"""The error body of docs/api.md, as the OpenAPI document describes it: ErrorResponse."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    """One invalid field of a request: where (`body.name`, `query.page_size`) and what kind of error."""

    field: str
    type: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Código estável (snake_case) que o cliente pode tratar.")
    message: str = Field(description="Mensagem em pt-BR para quem usa o sistema.")
    # A list of FieldError for request validation; an object (e.g. {"field": "cpf"}) for domain errors.
    details: list[FieldError] | dict[str, Any] | None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer of the API: `{"error": {"code", "message", "details"}}`."""

    error: ErrorDetail
