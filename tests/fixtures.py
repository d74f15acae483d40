"""Shared fixtures: migrated database, rollback sessions, committed-data cleanup, index, worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from indexing import lifecycle
from indexing.client import get_client
from indexing.settings import get_settings as get_index_settings
from storage.base import Base
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app
from storage.db import get_engine, get_sessionmaker, reset_caches

ROOT = Path(__file__).resolve().parents[1]


def _server_engine():
    from tests.conftest import PG_SERVER

    return create_engine(f"postgresql+psycopg://{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[None]:
    """Create this run's database from the template, migrate it once, drop it at the end."""
    from tests.conftest import TEST_DATABASE

    server = _server_engine()
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{TEST_DATABASE}" TEMPLATE coleta_test'))
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "heads")
    yield
    reset_caches()
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="session", autouse=True)
def search_indices() -> Iterator[None]:
    """Create this run's indices (per-run prefix) and delete them at the end."""
    client = get_client()
    lifecycle.setup(client)
    yield
    prefix = get_index_settings().index_prefix
    client.indices.delete(index=f"{prefix}*", params={"expand_wildcards": "all"})


@pytest.fixture
def db_session() -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (savepoints for commits)."""
    connection = get_engine().connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


def truncate_all() -> None:
    """Empty every table (committed-data tests clean up after themselves)."""
    tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    with get_engine().begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def committed() -> Iterator[None]:
    """For tests that need real commits (drain, API, worker): clean tables and index before and after."""
    truncate_all()
    _empty_indices()
    yield
    truncate_all()
    _empty_indices()


def _empty_indices() -> None:
    client = get_client()
    prefix = get_index_settings().index_prefix
    client.indices.delete(index=f"{prefix}*", params={"expand_wildcards": "all"})
    lifecycle.setup(client)


@pytest.fixture
def new_session() -> Iterator[Session]:
    """A plain session on the committed database, closed after the test."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture(scope="session")
def celery_worker() -> Iterator[subprocess.Popen]:
    """A real Celery worker process on the test broker and database."""
    from tests.conftest import RUN_ID

    worker_name = f"test-{RUN_ID}@coleta"
    log = open(ROOT / ".local" / "log" / "test-worker.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker", "-Q", f"{SYNC_QUEUE},{DEFAULT_QUEUE}",
         "--pool", "solo", "--loglevel", "INFO", "-n", worker_name],
        cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the test Celery worker exited; see .local/log/test-worker.log")
        if celery_app.control.ping(destination=[worker_name], timeout=0.5):
            break
    else:
        process.kill()
        raise RuntimeError("the test Celery worker did not answer a ping in 30 s")
    yield process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll `predicate` until it returns a truthy value or the timeout passes; return the last value."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
