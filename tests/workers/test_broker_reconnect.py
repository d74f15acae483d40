"""A real worker whose Redis went away reconnects about a second after Redis is back (not after Celery's
backoff of 2, 4, 6 … up to 30 s), so the outbox drain resumes at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

from celery import Celery

from tests.fixtures import ROOT, wait_until
from tests.throwaway import throwaway_redis  # noqa: F401
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE


def test_a_worker_reconnects_about_a_second_after_redis_is_back(throwaway_redis):
    name = f"reconnect-{uuid.uuid4().hex[:8]}@test"
    log = open(ROOT / ".local" / "log" / "test-reconnect-worker.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker", "-Q", f"{SYNC_QUEUE},{DEFAULT_QUEUE}",
         "--pool", "solo", "--loglevel", "INFO", "-n", name],
        cwd=ROOT, env={**os.environ, "COLETA_REDIS_URL": throwaway_redis.url}, stdout=log, stderr=subprocess.STDOUT,
    )
    control = Celery(broker=throwaway_redis.url).control

    def answers():
        try:
            return control.ping(destination=[name], timeout=0.5)
        except Exception:  # noqa: BLE001 - this client's own connection to the restarted Redis is reopened
            return False

    try:
        assert wait_until(answers, timeout=30)
        throwaway_redis.stop()
        # 13 s down: Celery's own backoff would try again only at 20 s, 7 s after Redis is back.
        time.sleep(13)
        throwaway_redis.start()
        assert wait_until(answers, timeout=4)
        assert process.poll() is None
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
