"""The best-effort drain nudge with Redis down: no retries, and skipped while Redis is known down."""

from __future__ import annotations

import time

from tests.throwaway import throwaway_redis  # noqa: F401
from workers.app import SYNC_QUEUE
from workers.tasks.sync import Nudger


def test_with_redis_down_a_nudge_fails_once_then_is_skipped_until_the_cool_down_and_resumes(throwaway_redis):
    nudge = Nudger(throwaway_redis.url, cool_down=0.5)
    queued = throwaway_redis.client()
    assert [nudge(), nudge()] == ["sent", "sent"]
    assert queued.llen(SYNC_QUEUE) == 2

    throwaway_redis.stop()
    # One failed try opens the breaker; the next writes do not touch the broker at all.
    assert [nudge(), nudge(), nudge()] == ["failed", "skipped", "skipped"]

    throwaway_redis.start()  # empty: the old one kept nothing
    assert nudge() == "skipped"  # still cooling down: Redis is not asked yet
    time.sleep(0.6)
    assert [nudge(), nudge()] == ["sent", "sent"]
    assert throwaway_redis.client().llen(SYNC_QUEUE) == 2


def test_a_nudge_publishes_the_drain_task_on_the_sync_queue_and_expires(throwaway_redis):
    import json

    Nudger(throwaway_redis.url)()
    (raw,) = throwaway_redis.client().lrange(SYNC_QUEUE, 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "workers.sync.drain_outbox"
    assert message["headers"]["expires"] is not None


def test_a_nudge_with_every_producer_busy_is_skipped_without_taking_redis_for_down(throwaway_redis):
    nudge = Nudger(throwaway_redis.url, cool_down=60, pool_size=1)
    with nudge.producers.acquire(block=True):
        assert nudge() == "skipped"
    assert nudge() == "sent"
