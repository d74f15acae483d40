"""Query parameters of every paged list: `cursor` (the previous page's `next_cursor`) and `limit`.

Every list answers `{"items": [...], "next_cursor": str | null}`; the cursor is opaque (see
storage.paging) and a cursor the API did not make is 422 `invalid_cursor`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from storage.paging import MAX_CURSOR_LENGTH

Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="O `next_cursor` da página anterior (opaco); omita na primeira."),
]
# Reference lists (users, cars, people, teams): one page holds a whole lab's list in practice.
ListLimit = Annotated[int, Query(ge=1, le=500, description="Itens por página.")]
