"""The migrations are one line of history and build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage import models  # noqa: F401  (registers every table)
from storage.base import Base
from storage.db import drop_database, get_engine
from tests.fixtures import ROOT


def test_one_head():
    """Parallel branches must end in a merge, or a deploy runs them in no guaranteed order."""
    heads = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_heads()
    assert len(heads) == 1, heads


def test_the_migrated_database_matches_the_models():
    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_upload_chunks_migration_moves_stored_uploads_both_ways():
    """Uploads stored whole (import_files) are cut into 1 MB chunks on upgrade and joined again on downgrade."""
    import random
    import uuid

    from alembic import command
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from tests.conftest import PG_SERVER

    database = f"coleta_migration_{uuid.uuid4().hex[:8]}"
    server = create_engine(f"postgresql+psycopg://{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE coleta_test'))
    url = f"postgresql+psycopg://{PG_SERVER}/{database}"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(configure_logger=False, database_url=url)
    engine = create_engine(url, poolclass=NullPool)
    files = {"a" * 36: random.Random(3).randbytes(2 * 1024 * 1024 + 17), "b" * 36: b"x;y\r\n", "c" * 36: b""}
    try:
        command.upgrade(config, "0009_merge")
        with engine.begin() as connection:
            for import_id, data in files.items():
                connection.execute(text(
                    "INSERT INTO imports (id, filename, size, sha256, status) VALUES (:id, 'a.xlsx', :size, '', 'queued')"
                ), {"id": import_id, "size": len(data)})
                connection.execute(text("INSERT INTO import_files (import_id, data) VALUES (:id, :data)"),
                                   {"id": import_id, "data": data})

        command.upgrade(config, "i9_files_upload_chunks")
        with engine.connect() as connection:
            chunks = connection.execute(text(
                "SELECT import_id, seq, length(data) FROM import_file_chunks ORDER BY import_id, seq")).all()
            joined = dict(connection.execute(text(
                "SELECT import_id, string_agg(data, ''::bytea ORDER BY seq) FROM import_file_chunks GROUP BY import_id")
            ).all())
        assert chunks == [("a" * 36, 0, 1048576), ("a" * 36, 1, 1048576), ("a" * 36, 2, 17), ("b" * 36, 0, 5)]
        assert joined == {"a" * 36: files["a" * 36], "b" * 36: files["b" * 36]}

        command.downgrade(config, "0009_merge")
        with engine.connect() as connection:
            restored = dict(connection.execute(text("SELECT import_id, data FROM import_files")).all())
        assert restored == files
    finally:
        engine.dispose()
        with server.connect() as connection:
            drop_database(connection, database)
        server.dispose()
