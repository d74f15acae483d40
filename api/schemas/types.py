"""Dates and times exactly as docs/api.md writes them, never guessed from other shapes.

Pydantic's lax mode reads `0` or `1718841600` as a date or a time (seconds since 1970), so
`?date=0` answered with the schedule of 1970-01-01. These accept ISO 8601 text (or a value
already parsed) and nothing else.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("use uma data no formato AAAA-MM-DD")


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATETIME.fullmatch(value)):
        return value
    raise ValueError("use data e hora no formato ISO 8601 (AAAA-MM-DDTHH:MM, com ou sem fuso)")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


class Strict(BaseModel):
    """A request body: unknown fields are an error, not silently dropped; text is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def changes(body: BaseModel) -> dict[str, Any]:
    """The fields a partial update sent (absent ones stay as they are)."""
    return body.model_dump(exclude_unset=True)


class Create(Strict):
    # A create body whose fields (defaults included) are the storage command's plain data.

    def data(self) -> dict[str, Any]:
        """Plain data for the storage service."""
        return self.model_dump()


class Update(Strict):
    # A partial update: only the fields sent reach the storage command (a null clears a nullable one).

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return changes(self)
