"""Engine, sessions and the unit of work. Storage code only flushes; the boundary commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import orjson
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from storage.settings import get_settings


@lru_cache
def get_engine() -> Engine:
    """Return the process-wide engine (pre-pinged pool, so a restarted PostgreSQL is survived)."""
    settings = get_settings()
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_pre_ping=True,
        echo=settings.db_echo,
        # Statement parameters stay out of exception texts (and so out of logs): they hold CPFs, names.
        hide_parameters=True,
        # JSON and JSONB columns (phones, payers, import rows) decode with orjson: several times the
        # standard library's speed, and the same values (PostgreSQL never stores NaN in JSON).
        json_deserializer=orjson.loads,
    )


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    """Return the session factory bound to the engine."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One transaction: commit when the block ends cleanly, roll back on any error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset_caches() -> None:
    """Forget the cached engine and session factory (tests that change settings call this)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


def drop_database(connection: Connection, database: str) -> None:
    """Drop a throwaway database (tests, benches), whoever is still connected to it.

    `WITH (FORCE)` ends other sessions, but an autovacuum worker busy in a freshly loaded database runs
    as another role it may not end (InsufficientPrivilege); a plain drop stops such a worker itself.
    """
    try:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    except ProgrammingError:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
