"""When the daily reminder runs next: read by the API (GET /api/v1/messages/reminder) beside beat's schedule."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from messaging.settings import get_settings
from storage.clock import LOCAL_TZ


def next_reminder(now: datetime | None = None) -> tuple[datetime, date] | None:
    """When beat runs the daily reminder next (America/Sao_Paulo, as the beat entry says) and the day that run
    reminds (the day after it, as `send_reminders` decides); None when the reminder is off."""
    settings = get_settings()
    if not settings.reminder_enabled:
        return None
    now = (now or datetime.now(LOCAL_TZ)).astimezone(LOCAL_TZ)
    at = time(settings.reminder_hour, settings.reminder_minute)
    run = datetime.combine(now.date(), at, LOCAL_TZ)
    if run <= now:
        run = datetime.combine(now.date() + timedelta(days=1), at, LOCAL_TZ)
    return run, run.date() + timedelta(days=1)
