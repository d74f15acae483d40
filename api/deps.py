"""Request dependencies: the database session, the search client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from opensearchpy import OpenSearch
from sqlalchemy.orm import Session

from indexing.client import get_client
from storage.db import get_sessionmaker
from storage.outbox import OUTBOX_DIRTY
from workers import enqueue


def get_session() -> Iterator[Session]:
    """One session per request; rolled back unless the route committed."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SearchDep = Annotated[OpenSearch, Depends(get_client)]


def commit(session: Session) -> None:
    """Commit the request's unit of work, then nudge the drain if it recorded outbox rows."""
    session.commit()
    if session.info.pop(OUTBOX_DIRTY, False):
        enqueue.nudge_drain()
