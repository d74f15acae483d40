"""Shared fixtures: migrated database, rollback sessions, committed-data cleanup, index, worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from alembic import command
from alembic.config import Config
from psycopg import errors
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from indexing import lifecycle
from indexing.client import get_client
from indexing.settings import get_settings as get_index_settings
from storage.base import Base
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app
from storage.db import drop_database, get_engine, get_sessionmaker, reset_caches

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

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
        drop_database(connection, TEST_DATABASE)
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
    for attempt in range(5):
        try:
            with get_engine().begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except OperationalError as error:
            # A worker process of a test may still be finishing a drain: its locks can
            # deadlock with TRUNCATE's; PostgreSQL aborts one side, so try again.
            if not isinstance(error.orig, errors.DeadlockDetected) or attempt == 4:
                raise
            time.sleep(0.2)


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


@pytest.fixture
def celery_worker() -> Iterator[subprocess.Popen]:
    """A real Celery worker process on the test broker and database, for one test only.

    Per test, so no drain of a leftover worker races the plain-function tests that
    drain and assert on their own.
    """
    from tests.conftest import RUN_ID

    worker_name = f"test-{RUN_ID}@coleta"
    # Earlier tests queued tasks that had no worker (nudges, imports, reindexes); they are not this test's.
    celery_app.control.purge()
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


# --- API: clients, users per role, the run's Redis keys -------------------------------------

TEST_PASSWORD = "senha-de-teste-123"


@dataclass
class Account:
    """A user committed to the test database, with its password and ready-made bearer headers."""

    id: str
    email: str
    role: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def clear_redis_keys() -> None:
    """Delete this run's API keys in Redis (login throttling, refresh-token replay marks)."""
    from api.settings import get_settings as get_api_settings
    from api.throttle import get_redis

    client = get_redis()
    keys = list(client.scan_iter(match=f"{get_api_settings().redis_key_prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def create_account(role: str = "operator", email: str | None = None, password: str = TEST_PASSWORD,
                   car_id: str | None = None, name: str = "Usuária de Teste") -> Account:
    """Commit a user and sign tokens for it (no login round trip)."""
    from api.security import issue_tokens
    from storage.db import unit_of_work
    from storage.users import service as user_service

    email = email or f"{role}-{uuid.uuid4().hex[:8]}@coleta.test"
    with unit_of_work() as session:
        user = user_service.create(
            session, {"email": email, "name": name, "role": role, "password": password, "car_id": car_id}
        )
        tokens = issue_tokens(user)
        account = Account(user.id, user.email, user.role, password, tokens.access_token, tokens.refresh_token)
    return account


@pytest.fixture
def api_client(committed) -> Iterator["TestClient"]:
    """An unauthenticated TestClient on a fresh app, on clean tables, index and Redis keys."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    clear_redis_keys()
    with TestClient(create_app()) as client:
        yield client
    clear_redis_keys()


@pytest.fixture
def make_account(committed) -> Callable[..., Account]:
    """Factory: `make_account("viewer")` commits a user of that role (after the tables were emptied)."""
    return create_account


@pytest.fixture
def auth_headers(make_account) -> Callable[[str], dict[str, str]]:
    """Factory: `auth_headers("operator")` → bearer headers of a new user with that role."""
    return lambda role: make_account(role).headers
