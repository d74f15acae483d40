"""Settings of spreadsheet imports (upload limit, batch size); read from COLETA_* variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class ImportSettings(BaseSettings):
    """How big an upload may be and how many rows one committed batch applies."""

    model_config = SettingsConfigDict(env_prefix="COLETA_", env_file=".env", extra="ignore")

    # A 100k-row DasaExp export is about 28 MB; the API answers 413 above this.
    import_max_bytes: int = 64 * 1024 * 1024
    import_batch_size: int = 500
    # Files this big are parsed by a child process while the worker applies (two cores, not one).
    import_parse_in_child_bytes: int = 1024 * 1024


@lru_cache
def get_settings() -> ImportSettings:
    """Return the cached import settings."""
    return ImportSettings()
