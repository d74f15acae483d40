"""Request dependencies: the database session, the search client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from opensearchpy import OpenSearch
from sqlalchemy.orm import Session

from indexing.client import get_client
from storage.db import get_sessionmaker
from storage.outbox import OUTBOX_DIRTY
from workers import enqueue


async def get_session() -> AsyncIterator[Session]:
    """One session per request; rolled back unless the route committed.

    An async generator on purpose: FastAPI runs the clean-up of a sync one on the thread
    pool, so under load a finished request kept its connection while waiting for a thread
    that was itself waiting for a connection (the pool starved, requests failed after the
    pool timeout). Here the connection goes back on the event loop at once; returning it
    is one local ROLLBACK, cheap enough not to matter to the loop.
    """
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


async def search_client() -> OpenSearch:
    """The process-wide OpenSearch client, handed out on the event loop (a sync dependency costs a thread hop)."""
    return get_client()


SessionDep = Annotated[Session, Depends(get_session)]
SearchDep = Annotated[OpenSearch, Depends(search_client)]


def commit(session: Session) -> None:
    """Commit the request's unit of work, then nudge the drain if it recorded outbox rows."""
    session.commit()
    if session.info.pop(OUTBOX_DIRTY, False):
        enqueue.nudge_drain()
