"""Fixtures: the providers' stand-ins running, and the messaging settings pointing at them.

Import the fixtures you use into the test module (`from tests.standins.fixtures import …`).
Settings come from the environment (also for a worker process started afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins import twilio as twilio_fake
from tests.standins import whatsapp as whatsapp_fake
from tests.standins.twilio import TwilioStandIn
from tests.standins.whatsapp import WhatsAppStandIn
from messaging import providers, ratelimit
from messaging import settings as messaging_settings


def reset_messaging_caches() -> None:
    """Forget cached settings, HTTP client and Redis client (after an environment change), and empty the
    rate buckets of this run."""
    messaging_settings.get_settings.cache_clear()
    providers._http_client.cache_clear()
    ratelimit.get_redis.cache_clear()
    client = ratelimit.get_redis()
    keys = list(client.scan_iter(match=f"{messaging_settings.get_settings().redis_key_prefix}messaging:rate:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def twilio_standin() -> Iterator[TwilioStandIn]:
    server = TwilioStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def whatsapp_standin() -> Iterator[WhatsAppStandIn]:
    server = WhatsAppStandIn().start()
    yield server
    server.stop()


def messaging_environment(twilio: TwilioStandIn, whatsapp: WhatsAppStandIn, **overrides: str) -> dict[str, str]:
    """COLETA_* variables for the real adapters against the stand-ins (fast retries, generous rates)."""
    env = {
        "COLETA_SMS_PROVIDER": "twilio",
        "COLETA_WHATSAPP_PROVIDER": "cloud",
        "COLETA_TWILIO_BASE_URL": twilio.base_url,
        "COLETA_TWILIO_ACCOUNT_SID": twilio_fake.ACCOUNT_SID,
        "COLETA_TWILIO_AUTH_TOKEN": twilio_fake.AUTH_TOKEN,
        "COLETA_TWILIO_FROM_NUMBER": twilio_fake.FROM_NUMBER,
        "COLETA_WHATSAPP_BASE_URL": whatsapp.base_url,
        "COLETA_WHATSAPP_API_VERSION": whatsapp_fake.API_VERSION,
        "COLETA_WHATSAPP_PHONE_NUMBER_ID": whatsapp_fake.PHONE_NUMBER_ID,
        "COLETA_WHATSAPP_ACCESS_TOKEN": whatsapp_fake.ACCESS_TOKEN,
        "COLETA_WHATSAPP_APP_SECRET": whatsapp_fake.APP_SECRET,
        "COLETA_WHATSAPP_VERIFY_TOKEN": whatsapp_fake.VERIFY_TOKEN,
        "COLETA_HTTP_TIMEOUT_SECONDS": "2",
        "COLETA_TWILIO_RATE_PER_SECOND": "100",
        "COLETA_WHATSAPP_RATE_PER_SECOND": "100",
        "COLETA_MESSAGE_RETRY_BASE_SECONDS": "0.2",
        "COLETA_MESSAGE_MAX_ATTEMPTS": "3",
    }
    env.update(overrides)
    return env


@pytest.fixture
def configure_messaging(monkeypatch, twilio_standin, whatsapp_standin):
    """Factory: `configure_messaging(**overrides)` sets the environment for the stand-ins and resets caches."""
    def configure(**overrides: str) -> None:
        for name, value in messaging_environment(twilio_standin, whatsapp_standin, **overrides).items():
            monkeypatch.setenv(name, value)
        reset_messaging_caches()

    yield configure
    monkeypatch.undo()
    reset_messaging_caches()


@pytest.fixture
def messaging(configure_messaging, twilio_standin, whatsapp_standin):
    """The real adapters configured against both stand-ins; yields (twilio, whatsapp) stand-ins."""
    configure_messaging()
    return twilio_standin, whatsapp_standin
