"""Settings of the API process."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.users.service import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD

DEV_SECRET_KEY = "coleta-dev-secret-key-not-for-production-use"
# Where default secrets are tolerated; anywhere else the settings refuse to load.
DEV_ENVIRONMENTS = frozenset({"development", "test"})
MIN_SECRET_KEY_LENGTH = 32


class ApiSettings(BaseSettings):
    """HTTP-facing settings, from COLETA_* environment variables."""

    # hide_input_in_errors: a refused setting must not print the secrets it was given.
    model_config = SettingsConfigDict(env_prefix="COLETA_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: str = "development"
    # A JSON list or comma-separated origins of the web front-end; never "*" (credentials are allowed).
    cors_origins: Annotated[list[str], NoDecode] = ["http://127.0.0.1:5173", "http://localhost:5173"]
    log_level: str = "INFO"
    # The built staff web app (`npm run build` in web/), served at `/`.
    web_dist: Path = Path(__file__).resolve().parents[1] / "web" / "dist"

    # HS256 signing key of the access and refresh tokens.
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    access_token_minutes: int = 15
    refresh_token_hours: int = 8
    # How long an API process may reuse the signed-in user without asking PostgreSQL, at most; changes
    # through the API or the CLI end the copy at once (api/auth_cache.py). 0 turns the copy off.
    auth_cache_seconds: float = 10.0
    # From this many requests in flight at once in one API process, staff are marked busy for
    # `staff_busy_seconds` and imports wait between batches (api/staff_load.py); 0 never marks.
    staff_busy_from: int = 4
    staff_busy_seconds: float = 1.0

    # Login throttling: failures counted per account and per client address in a fixed window.
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_window_seconds: int = 900
    # The Redis of the login throttle and of the readiness probe (the broker's, COLETA_REDIS_URL).
    redis_url: str = "redis://127.0.0.1:6380/0"
    # Prefix of every Redis key the API writes (tests use a per-run prefix).
    redis_key_prefix: str = "coleta:"

    # The first admin (`make run` creates it in development); checked here so a deployment with
    # the default password refuses to start.
    admin_email: str = DEFAULT_ADMIN_EMAIL
    admin_password: SecretStr = SecretStr(DEFAULT_ADMIN_PASSWORD)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if "*" in origin:
                raise ValueError("COLETA_CORS_ORIGINS não pode conter '*': as credenciais são permitidas")
            if not origin.startswith(("http://", "https://")) or origin.endswith("/"):
                raise ValueError(f"origem CORS inválida: {origin!r} (use esquema://host[:porta])")
        return origins

    @model_validator(mode="after")
    def _no_default_secrets_outside_development(self) -> "ApiSettings":
        if self.environment in DEV_ENVIRONMENTS:
            return self
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"COLETA_SECRET_KEY precisa ser definida (≥ {MIN_SECRET_KEY_LENGTH} caracteres, diferente do padrão) "
                f"no ambiente {self.environment!r}"
            )
        if self.admin_password.get_secret_value() == DEFAULT_ADMIN_PASSWORD:
            raise ValueError(f"COLETA_ADMIN_PASSWORD não pode ser a senha padrão no ambiente {self.environment!r}")
        return self


@lru_cache
def get_settings() -> ApiSettings:
    """Return the cached API settings."""
    return ApiSettings()
