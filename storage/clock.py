"""The lab's clock: America/Sao_Paulo decides what "today" and a visit's day are."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")


def local_today() -> date:
    """Today in America/Sao_Paulo (the lab's day)."""
    return datetime.now(LOCAL_TZ).date()
