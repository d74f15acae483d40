"""The migrations are one line of history and build exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage import models  # noqa: F401  (registers every table)
from storage.base import Base
from storage.db import get_engine
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
