"""Settings of the workers package (broker, schedules)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.users.service import DEFAULT_ADMIN_EMAIL


class WorkerSettings(BaseSettings):
    """Where the broker is and how often the sweep runs."""

    model_config = SettingsConfigDict(env_prefix="COLETA_", env_file=".env", extra="ignore")

    redis_url: str = "redis://127.0.0.1:6380/0"
    drain_interval_seconds: float = 1.0
    # A running import or bulk job marks its row alive this often; one silent for `task_dead_after_seconds`
    # lost its worker and is re-queued by the resume sweep, which beat runs every `resume_sweep_seconds`.
    # Worst case from a kill to the re-queue: dead_after + sweep (30 s with the defaults).
    task_heartbeat_seconds: float = 5.0
    task_dead_after_seconds: float = 20.0
    resume_sweep_seconds: float = 10.0
    # Queue names start with this; tests use a per-run prefix so parallel runs never share a queue.
    queue_prefix: str = ""
    # How much lower the CPU priority of an import's work is (a nice increment, 0-19; 0 = the same):
    # searches and the drain come first on a busy machine (workers/tasks.py `yielding`).
    import_nice: int = 10
    # While staff's requests overlap in the API, an import waits before each batch, up to this many
    # seconds each time (workers/staff_load.py); 0 never waits.
    import_yield_max_seconds: float = 2.0
    # Prefix of every Redis key (the same COLETA_REDIS_KEY_PREFIX as the API's; tests use a per-run prefix).
    redis_key_prefix: str = "coleta:"
    environment: str = "development"
    log_level: str = "INFO"
    # The first admin, for `python -m workers users ensure-admin` (`make run` runs it).
    admin_email: str = DEFAULT_ADMIN_EMAIL
    admin_password: SecretStr | None = None


@lru_cache
def get_settings() -> WorkerSettings:
    """Return the cached worker settings."""
    return WorkerSettings()
