"""SQL for batches of rows: COPY into a table inside the session's transaction, `= ANY(array)` lookups,
wide results as named tuples.

An executemany of a few hundred wide rows costs a statement per row on the server
and a round of SQLAlchemy and driver adaptation per value in Python; COPY sends
the rows as one stream. Used by the import, the outbox and bulk jobs; never commits.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Row, Select, Table
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.orm import Session


def copy_rows(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY rows (tuples in `columns` order) into `table`; JSONB values are serialised here. Returns the count."""
    json_positions = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, (JSON, JSONB))]
    connection = session.connection().connection.dbapi_connection
    names = ", ".join(f'"{name}"' for name in columns)
    count = 0
    with connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                if json_positions:
                    row = list(row)
                    for position in json_positions:
                        if row[position] is not None:
                            # COPY's text format takes the JSON text as is; orjson is several times json's speed.
                            row[position] = orjson.dumps(row[position]).decode()
                copy.write_row(row)
                count += 1
    return count


def any_of(column, values: Iterable[Any], item_type=None):
    """`column = ANY(:array)`: one bound array instead of an IN list of hundreds of parameters, so the
    statement text (and the driver's parsing of it) is the same whatever the batch size."""
    from sqlalchemy import any_, bindparam
    from sqlalchemy.dialects.postgresql import ARRAY

    return column == any_(bindparam(None, list(values), type_=ARRAY(item_type or column.type)))


def rows(session: Session, statement: Select) -> list[Row]:
    """The rows of `statement`, read on the session's connection (Core), pending changes flushed first as
    `session.execute` would: for reads of thousands of rows, where the ORM's loading adds a pass per row."""
    session.flush()
    # `all()` fetches the rows in one call; iterating the result fetches them one by one.
    return session.connection().execute(statement).all()


def records(session: Session, statement: Select) -> list[NamedTuple]:
    """The rows of `statement` (`rows`) as named tuples, for code that reads every field of thousands of rows.

    A SQLAlchemy `Row` answers `row.name` through a Python-level `__getattr__` (about 0.4 µs a field);
    a named tuple's fields are C-level descriptors. For a document builder reading some 60 fields a
    row, a million times in a rebuild, that is a third of its time.
    """
    found = rows(session, statement)
    record = _record_type(tuple(statement.selected_columns.keys()))
    return [record._make(row) for row in found]


@lru_cache(maxsize=32)
def _record_type(fields: tuple[str, ...]) -> type:
    return namedtuple("Record", fields)
