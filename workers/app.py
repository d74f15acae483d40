"""The Celery application: queues, routes and the beat schedule."""

from __future__ import annotations

import functools

from celery import Celery, signals
from celery.schedules import crontab
from celery.worker.consumer import Consumer
from kombu import Queue

from observability import logs
from messaging.settings import get_settings as get_messaging_settings
from workers.settings import get_settings

SYNC_QUEUE = f"{get_settings().queue_prefix}sync"
DEFAULT_QUEUE = f"{get_settings().queue_prefix}default"
# How often beat looks for imports and bulk jobs whose task was lost or whose worker died.
RESUME_INTERVAL_SECONDS = get_settings().resume_sweep_seconds


# Seconds between the worker's attempts to reach a lost broker (Celery's default grows to 30 s).
BROKER_RECONNECT_SECONDS = 1.0


class BrokerConsumer(Consumer):
    """The worker's consumer, trying a lost broker again every second, for ever.

    Celery's backoff (2 s, 4 s, … up to 30 s, 100 tries) left the outbox undrained for up to
    15 s after a 60 s Redis outage, and a worker that outlived 100 tries stopped for good.
    """

    def ensure_connected(self, conn):
        """Connect with a flat retry interval (Celery passes only the error handler and max retries)."""
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, interval_start=0, interval_step=BROKER_RECONNECT_SECONDS,
            interval_max=BROKER_RECONNECT_SECONDS,
        )
        return super().ensure_connected(conn)


def create_celery() -> Celery:
    """Build the Celery app from settings."""
    settings = get_settings()
    messaging = get_messaging_settings()
    app = Celery("coleta", broker=settings.redis_url, include=[
        "workers.tasks.sync", "workers.tasks.imports", "workers.tasks.jobs", "workers.tasks.messages", "workers.tasks.reindex",
    ])
    app.conf.update(
        task_queues=[Queue(SYNC_QUEUE), Queue(DEFAULT_QUEUE)],
        task_default_queue=DEFAULT_QUEUE,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        # A task whose worker dies is redelivered; only idempotent tasks opt in to acks_late.
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A worker waits for its broker for as long as it takes (BrokerConsumer tries every second).
        broker_connection_max_retries=None,
        worker_consumer="workers.app:BrokerConsumer",
        broker_connection_timeout=2,
        broker_transport_options={"visibility_timeout": 3600, "socket_connect_timeout": 2},
        timezone="America/Sao_Paulo",
        beat_schedule={
            "drain-outbox": {
                "task": "workers.sync.drain_outbox",
                "schedule": settings.drain_interval_seconds,
                # A sweep nobody picked up in time is useless: the next one is coming.
                "options": {"expires": 5 * settings.drain_interval_seconds, "queue": SYNC_QUEUE},
            },
            # An import whose worker died (its heartbeat stopped) or whose task was lost is resumed
            # from its checkpoint (workers/heartbeat.py).
            "resume-stalled-imports": {
                "task": "workers.imports.resume_stalled",
                "schedule": RESUME_INTERVAL_SECONDS,
                # Imports share the default queue: sweeps stuck behind a long import are dropped, not piled up.
                "options": {"expires": RESUME_INTERVAL_SECONDS, "queue": DEFAULT_QUEUE},
            },
            # The same for bulk jobs: they resume after their last committed batch (workers/tasks/jobs.py).
            "resume-stalled-bulk-jobs": {
                "task": "workers.bulk.resume_stalled",
                "schedule": RESUME_INTERVAL_SECONDS,
                "options": {"expires": RESUME_INTERVAL_SECONDS, "queue": DEFAULT_QUEUE},
            },
            # Reindex jobs whose worker died are settled (done, queued again or failed); lost ones sent again.
            "resume-stalled-reindex": {
                "task": "workers.admin.resume_stalled_reindex",
                "schedule": RESUME_INTERVAL_SECONDS,
                "options": {"expires": RESUME_INTERVAL_SECONDS, "queue": DEFAULT_QUEUE},
            },
            # Just after midnight: patients whose visit of yesterday is no longer their next one.
            "roll-over-day": {
                "task": "workers.sync.roll_over_day",
                "schedule": crontab(hour=0, minute=5),
                "options": {"expires": 6 * 3600, "queue": DEFAULT_QUEUE},
            },
            # Messages whose send task was lost are queued again; sends cut off mid-call are failed.
            "message-sweep": {
                "task": "workers.messages.sweep",
                "schedule": 60.0,
                "options": {"expires": 60.0, "queue": DEFAULT_QUEUE},
            },
        },
        worker_hijack_root_logger=False,
    )
    if messaging.reminder_enabled:
        # The daily reminder: confirmation requests for tomorrow's unconfirmed visits, once per visit
        # (workers/tasks/messages.py); the hour is America/Sao_Paulo (the app's timezone).
        app.conf.beat_schedule["daily-reminder"] = {
            "task": "workers.messages.send_reminders",
            "schedule": crontab(hour=messaging.reminder_hour, minute=messaging.reminder_minute),
            "options": {"expires": 3600, "queue": DEFAULT_QUEUE},
        }
    return app


@signals.setup_logging.connect
def _json_logs(loglevel=None, **_) -> None:
    """Worker and beat log like the API: JSON lines, personal data redacted (Celery's own setup is skipped)."""
    logs.configure(get_settings().log_level)


@signals.task_prerun.connect
def _task_context(task_id=None, task=None, **_) -> None:
    """Every line a task logs says which task run it belongs to."""
    logs.task_id_var.set(task_id)
    logs.task_name_var.set(getattr(task, "name", None))


@signals.task_postrun.connect
def _clear_task_context(**_) -> None:
    logs.task_id_var.set(None)
    logs.task_name_var.set(None)


celery_app = create_celery()
