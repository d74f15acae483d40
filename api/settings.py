"""Settings of the API process."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """HTTP-facing settings, from COLETA_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="COLETA_", env_file=".env", extra="ignore")

    environment: str = "development"
    cors_origins: list[str] = ["http://127.0.0.1:5173", "http://localhost:5173"]
    log_level: str = "INFO"


@lru_cache
def get_settings() -> ApiSettings:
    """Return the cached API settings."""
    return ApiSettings()
