"""Staff marked busy in Redis by the API (many requests at once); an import waits before its batches
while the mark stands, a bounded time each batch, and ends as it would have."""

from __future__ import annotations

import asyncio
import json

import pytest

from api.staff_load import StaffLoadMiddleware
from tests.fixtures import ROOT, wait_until
from tests.storage.imports.helpers import DASAEXP_SAMPLE, report, upload
from tests.throwaway import throwaway_redis  # noqa: F401
from tests.workers.worker_process import Worker
from workers import staff_load
from workers.settings import get_settings as get_worker_settings


@pytest.fixture(autouse=True)
def no_mark():
    staff_load._client().delete(staff_load.key())
    yield
    staff_load._client().delete(staff_load.key())


def test_a_mark_stands_for_its_time_then_lapses():
    assert not staff_load.is_busy()
    assert staff_load.mark_busy(0.3)
    assert staff_load.is_busy()
    assert 0 < staff_load._client().pttl(staff_load.key()) <= 300
    assert wait_until(lambda: not staff_load.is_busy(), timeout=5)


def test_nothing_waits_while_staff_are_not_busy():
    slept: list[float] = []
    assert staff_load.wait_while_busy(2.0, sleep=slept.append) == 0.0
    assert slept == []


def test_work_waits_while_staff_are_busy_and_goes_on_once_the_mark_lapses():
    staff_load.mark_busy(60)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            staff_load._client().delete(staff_load.key())  # the requests stopped overlapping

    assert staff_load.wait_while_busy(2.0, poll_seconds=0.1, sleep=sleep) == pytest.approx(0.3)
    assert slept == [0.1, 0.1, 0.1]


def test_work_waits_no_longer_than_its_bound_under_a_load_that_never_ends():
    staff_load.mark_busy(60)
    slept: list[float] = []
    assert staff_load.wait_while_busy(0.25, poll_seconds=0.1, sleep=slept.append) == pytest.approx(0.25)
    assert slept == pytest.approx([0.1, 0.1, 0.05])
    assert staff_load.wait_while_busy(0.0, sleep=slept.append) == 0.0  # 0: never waits


@pytest.fixture
def redis_going_down(throwaway_redis, monkeypatch):
    """staff_load on a Redis of its own, which the test stops."""
    monkeypatch.setenv("COLETA_REDIS_URL", throwaway_redis.url)
    get_worker_settings.cache_clear()
    staff_load._client.cache_clear()
    yield throwaway_redis
    monkeypatch.undo()
    get_worker_settings.cache_clear()
    staff_load._client.cache_clear()
    staff_load._breaker.succeeded()


def test_with_redis_down_nothing_is_marked_and_nothing_waits(redis_going_down):
    assert staff_load.mark_busy(60)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        redis_going_down.stop()  # Redis goes down while an import waits

    assert staff_load.wait_while_busy(5.0, poll_seconds=0.1, sleep=sleep) == pytest.approx(0.1)
    assert slept == [0.1]
    assert not staff_load.mark_busy(60)
    assert not staff_load.is_busy()


def _requests_at_once(busy_from: int, count: int) -> StaffLoadMiddleware:
    """`count` HTTP requests inside the middleware at the same time (each waits for all the others to arrive)."""
    arrived = asyncio.Event()
    inside = 0

    async def app(scope, receive, send) -> None:
        nonlocal inside
        inside += 1
        if inside == count:
            arrived.set()
        await arrived.wait()

    middleware = StaffLoadMiddleware(app, busy_from=busy_from, mark_seconds=1.0)
    scope = {"type": "http", "method": "GET", "path": "/api/v1/patients", "headers": []}

    async def run() -> None:
        await asyncio.gather(*(middleware(scope, None, None) for _ in range(count)))

    asyncio.run(run())
    return middleware


def test_the_api_marks_staff_busy_once_requests_overlap_and_not_before():
    assert _requests_at_once(busy_from=4, count=3).in_flight == 0
    assert not staff_load.is_busy()
    assert _requests_at_once(busy_from=4, count=4).in_flight == 0
    assert staff_load.is_busy()
    assert 0 < staff_load._client().pttl(staff_load.key()) <= 1000


def test_zero_never_marks():
    _requests_at_once(busy_from=0, count=10)
    assert not staff_load.is_busy()


def test_the_app_counts_every_request_with_its_settings():
    from api.app import create_app
    from api.settings import get_settings as get_api_settings

    settings = get_api_settings()
    installed = [m for m in create_app().user_middleware if m.cls is StaffLoadMiddleware]
    assert len(installed) == 1
    assert installed[0].kwargs == {"busy_from": settings.staff_busy_from, "mark_seconds": settings.staff_busy_seconds}


@pytest.mark.usefixtures("committed")
def test_an_import_while_staff_stay_busy_waits_before_each_batch_and_still_ends():
    queue = f"{get_worker_settings().queue_prefix}staff-load"
    worker = Worker(queue, {"COLETA_IMPORT_BATCH_SIZE": "40", "COLETA_IMPORT_YIELD_MAX_SECONDS": "0.3"})
    try:
        staff_load.mark_busy(120)  # a load that never ends while the import runs
        import_id = upload(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)
        worker.apply(import_id)
        result = wait_until(
            lambda: (lambda r: r if r["status"] in ("succeeded", "failed") else None)(report(import_id)), timeout=60)
    finally:
        worker.stop()
    assert (result["status"], result["imported"], result["skipped"], result["errors"]) == ("succeeded", 60, 60, 2)
    log = (ROOT / ".local" / "log" / "test-import-worker.log").read_text(errors="replace").splitlines()
    waited = [json.loads(line) for line in log if import_id in line and "import waited for staff" in line]
    batches = -(-result["total_rows"] // 40)
    assert len(waited) == 1
    assert waited[0]["batches_waited"] == batches
    assert waited[0]["seconds_waited"] == pytest.approx(0.3 * batches, abs=0.11)
