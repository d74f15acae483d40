"""Unit bodies: UnitRead, UnitPage."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UnitRead(BaseModel):
    """A lab unit, as its cars' agendas name it."""

    code: str = Field(description="Código da unidade, ex.: 248")
    name: str | None = Field(description="Nome da unidade, ex.: Barra - Aventura Center (o mais comum entre os carros)")
    cars: int = Field(description="Carros ativos da unidade")


class UnitPage(BaseModel):
    items: list[UnitRead]
    next_cursor: str | None
