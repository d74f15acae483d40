"""Settings of the storage package (database connection)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class StorageSettings(BaseSettings):
    """Where PostgreSQL is; read from COLETA_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="COLETA_", env_file=".env", extra="ignore")

    database_url: str = "postgresql+psycopg://coleta:coleta@127.0.0.1:5433/coleta"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Seconds a request waits for a free connection before failing (503), instead of hanging.
    db_pool_timeout: float = 10.0
    db_echo: bool = False
    # argon2id cost (argon2-cffi's defaults: RFC 9106 low-memory profile); tests lower them for speed.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    password_hash_parallelism: int = 4


@lru_cache
def get_settings() -> StorageSettings:
    """Return the cached storage settings."""
    return StorageSettings()
