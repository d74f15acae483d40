"""Messaging settings: which provider sends each channel, their credentials, rates, retries, the reminder hour."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where the development provider and plain-http base URLs are tolerated.
DEV_ENVIRONMENTS = frozenset({"development", "test"})


class MessagingSettings(BaseSettings):
    """From COLETA_* environment variables. Outside development the defaults are refused: a real provider
    needs its credentials, and the development provider (nothing leaves the machine) must be chosen explicitly."""

    # hide_input_in_errors: a refused setting must not print the secrets it was given.
    model_config = SettingsConfigDict(env_prefix="COLETA_", env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: str = "development"
    redis_url: str = "redis://127.0.0.1:6380/0"
    redis_key_prefix: str = "coleta:"

    sms_provider: Literal["dev", "twilio"] = "dev"
    whatsapp_provider: Literal["dev", "cloud"] = "dev"
    # The development provider also appends what it "sent" to this JSON-lines file (phones masked).
    dev_outbox_path: str | None = None

    twilio_base_url: str = "https://api.twilio.com"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None  # E.164, e.g. +5511900000000
    # Where Twilio posts delivery status (our /api/v1/webhooks/twilio/status, as the internet reaches it).
    twilio_status_callback_url: str | None = None

    whatsapp_base_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v21.0"
    whatsapp_phone_number_id: str | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None

    # The public origin providers call our webhooks on (behind a proxy the request URL differs); Twilio
    # signs the full URL, so it must be the one Twilio used. Empty: the URL of the request as received.
    webhook_public_base_url: str | None = None

    http_timeout_seconds: float = Field(default=10.0, gt=0)
    # Per provider, across every worker (a Redis token bucket): messages per second.
    twilio_rate_per_second: float = Field(default=1.0, gt=0)
    whatsapp_rate_per_second: float = Field(default=20.0, gt=0)
    dev_rate_per_second: float = Field(default=50.0, gt=0)
    # A worker waits this long at most for a token before putting the send back on the queue.
    rate_limit_max_wait_seconds: float = Field(default=1.0, ge=0)

    message_max_attempts: int = Field(default=5, ge=1)
    message_retry_base_seconds: float = Field(default=10.0, gt=0)
    message_retry_max_seconds: float = Field(default=300.0, gt=0)

    # The daily reminder (America/Sao_Paulo): confirmation requests for tomorrow's unconfirmed visits.
    # Off: beat does not schedule it (GET /api/v1/messages/reminder says so).
    reminder_enabled: bool = True
    reminder_hour: int = Field(default=17, ge=0, le=23)
    reminder_minute: int = Field(default=0, ge=0, le=59)
    # Used when the patient's preferred channel is not a messaging one.
    reminder_channel: Literal["sms", "whatsapp"] = "whatsapp"

    @model_validator(mode="after")
    def _usable(self) -> "MessagingSettings":
        missing = []
        if self.sms_provider == "twilio":
            missing += [name for name in ("twilio_account_sid", "twilio_auth_token", "twilio_from_number")
                        if not _value(getattr(self, name))]
        if self.whatsapp_provider == "cloud":
            missing += [name for name in ("whatsapp_phone_number_id", "whatsapp_access_token",
                                          "whatsapp_app_secret", "whatsapp_verify_token")
                        if not _value(getattr(self, name))]
        if missing:
            raise ValueError("defina " + ", ".join(f"COLETA_{name.upper()}" for name in missing))
        if self.environment in DEV_ENVIRONMENTS:
            return self
        for name in ("sms_provider", "whatsapp_provider"):
            if getattr(self, name) == "dev" and name not in self.model_fields_set:
                raise ValueError(
                    f"COLETA_{name.upper()} precisa ser escolhido no ambiente {self.environment!r} "
                    "(o provedor 'dev' não envia nada; defina-o explicitamente se for isso mesmo)"
                )
        for name in ("twilio_base_url", "whatsapp_base_url"):
            if not getattr(self, name).startswith("https://"):
                raise ValueError(f"COLETA_{name.upper()} deve usar https fora do desenvolvimento")
        return self

    def rate_per_second(self, provider: str) -> float:
        """The configured rate of a provider (by adapter name)."""
        return {"twilio": self.twilio_rate_per_second, "whatsapp_cloud": self.whatsapp_rate_per_second}.get(
            provider, self.dev_rate_per_second
        )


def _value(value: str | SecretStr | None) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value().strip()
    return (value or "").strip()


@lru_cache
def get_settings() -> MessagingSettings:
    """Return the cached messaging settings."""
    return MessagingSettings()
