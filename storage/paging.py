"""Keyset pages of any list: `{items, next_cursor}` with an opaque cursor that is checked, never trusted.

A list orders by a few key expressions, all in one direction, the last of them unique (an
id). The cursor is the keys of the last row of a page, as base64url JSON; the next page is
the rows whose keys compare after it (a row-value comparison, so an index on the keys serves
it and rows written meanwhile are neither skipped nor repeated). A cursor that does not
decode to keys of the list's types and ranges is `Invalid("invalid_cursor")`: a client's
error, never a database error (an integer past a column's range, a string for a date…).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Integer, Select, SmallInteger, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from storage.errors import Invalid

T = TypeVar("T")

# Longest cursor accepted (a few keys; the longest real one is well under this).
MAX_CURSOR_LENGTH = 1000
# Most specific first: BigInteger and SmallInteger are Integers too.
_INT_RANGES = {BigInteger: 2**63 - 1, SmallInteger: 2**15 - 1, Integer: 2**31 - 1}


@dataclass
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def invalid_cursor() -> Invalid:
    """The error of a cursor this API did not make (or made for another list or order)."""
    return Invalid("invalid_cursor", "Cursor de paginação inválido.", field="cursor")


def encode(values: Sequence[Any]) -> str:
    """Opaque cursor of key values (dates and times as ISO text)."""
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_values(cursor: str) -> list[Any]:
    """The JSON list inside a cursor; `invalid_cursor` if it is not one."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor() from None
    if not isinstance(values, list):
        raise invalid_cursor()
    return values


def decode(cursor: str, keys: Sequence[ColumnElement[Any]]) -> list[Any]:
    """Key values of a cursor, each checked against its key's SQL type (and an integer's range)."""
    values = decode_values(cursor)
    if len(values) != len(keys):
        raise invalid_cursor()
    return [_checked(value, key) for value, key in zip(values, keys, strict=True)]


def _checked(value: Any, key: ColumnElement[Any]) -> Any:
    sql_type = key.type
    python_type = sql_type.python_type
    if python_type is bool:
        if isinstance(value, bool):
            return value
    elif python_type is int:
        limit = next((r for cls, r in _INT_RANGES.items() if isinstance(sql_type, cls)), 2**63 - 1)
        if isinstance(value, int) and not isinstance(value, bool) and -limit - 1 <= value <= limit:
            return value
    elif python_type is str:
        if isinstance(value, str) and "\x00" not in value:
            return value
    elif python_type is datetime:
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                raise invalid_cursor() from None
            if parsed.tzinfo is not None:
                return parsed
    elif python_type is date:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise invalid_cursor() from None
    raise invalid_cursor()


def keyset(
    session: Session,
    stmt: Select[Any],
    keys: Sequence[ColumnElement[Any]],
    *,
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> Page[Any]:
    """Run `stmt` (one entity selected) as a page of `limit` rows ordered by `keys`, after `cursor`."""
    if cursor is not None:
        after = tuple_(*keys) < tuple_(*decode(cursor, keys)) if descending else tuple_(*keys) > tuple_(
            *decode(cursor, keys)
        )
        stmt = stmt.where(after)
    order = [key.desc() for key in keys] if descending else list(keys)
    rows = session.execute(stmt.add_columns(*keys).order_by(*order).limit(limit + 1)).all()
    items = [row[0] for row in rows[:limit]]
    next_cursor = encode(list(rows[limit - 1][1:])) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
