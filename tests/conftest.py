"""Test wiring against the real services, isolated per run so runs can go side by side.

Each run gets its own database (cloned from the `coleta_test` template, which has
the extensions), its own index prefix and its own Celery queue names. The
environment is set here, before any project module reads its settings.
"""

from __future__ import annotations

import os
import uuid

RUN_ID = uuid.uuid4().hex[:8]
PG_SERVER = os.environ.get("COLETA_TEST_PG", "coleta:coleta@127.0.0.1:5433")
TEST_DATABASE = f"coleta_test_{RUN_ID}"

os.environ["COLETA_ENVIRONMENT"] = "test"
os.environ["COLETA_DATABASE_URL"] = f"postgresql+psycopg://{PG_SERVER}/{TEST_DATABASE}"
os.environ["COLETA_INDEX_PREFIX"] = f"test-{RUN_ID}-"
os.environ["COLETA_QUEUE_PREFIX"] = f"test-{RUN_ID}-"
os.environ["COLETA_REDIS_URL"] = os.environ.get("COLETA_TEST_REDIS_URL", "redis://127.0.0.1:6380/1")
os.environ["COLETA_REDIS_KEY_PREFIX"] = f"test-{RUN_ID}:"
# Cheap argon2 in tests (the algorithm is the same; only the cost differs).
os.environ["COLETA_PASSWORD_HASH_TIME_COST"] = "1"
os.environ["COLETA_PASSWORD_HASH_MEMORY_KIB"] = "1024"
os.environ["COLETA_PASSWORD_HASH_PARALLELISM"] = "1"

pytest_plugins = ["tests.fixtures"]
