"""SQL for batches of rows: COPY into a table inside the session's transaction, `= ANY(array)` lookups.

An executemany of a few hundred wide rows costs a statement per row on the server
and a round of SQLAlchemy and driver adaptation per value in Python; COPY sends
the rows as one stream. Used by the import, the outbox and bulk jobs; never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Table
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
