"""The stalled-import sweep on beat: an import whose task was lost is queued again and a real worker finishes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, update

from storage.db import unit_of_work
from storage.imports import service as import_service
from storage.imports.models import Import
from tests.fixtures import wait_until
from tests.storage.imports.helpers import DASAEXP_SAMPLE, report, upload
from workers.app import DEFAULT_QUEUE, celery_app
from workers.tasks.imports import resume_stalled_imports

pytestmark = pytest.mark.usefixtures("committed")


def _quiet_for(import_id: str, minutes: float) -> None:
    """Pretend the import has not moved for `minutes` (its task was lost that long ago)."""
    table = Import.__table__
    with unit_of_work() as session:
        session.execute(
            update(table).where(table.c.id == import_id).values(updated_at=func.now() - timedelta(minutes=minutes))
        )


def test_beat_runs_the_sweep_every_ten_seconds_on_the_default_queue():
    entry = celery_app.conf.beat_schedule["resume-stalled-imports"]
    assert (entry["task"], entry["schedule"], entry["options"]["queue"]) == (
        "workers.imports.resume_stalled", 10.0, DEFAULT_QUEUE)
    assert "workers.imports.resume_stalled" in celery_app.tasks


def test_a_lost_import_is_resumed_by_a_real_worker_and_a_recent_one_left_alone(celery_worker):
    data = DASAEXP_SAMPLE.read_bytes()
    lost = upload(data, DASAEXP_SAMPLE.name)  # registered, its task never delivered
    recent = upload(data, "recente.xls")
    _quiet_for(lost, 11)
    _quiet_for(recent, 9)

    resume_stalled_imports.apply_async()  # what beat sends, through the broker to the worker
    done = wait_until(lambda: (lambda r: r if r["status"] in ("succeeded", "failed") else None)(report(lost)),
                      timeout=60, interval=0.1)

    assert (done["status"], done["imported"], done["skipped"], done["errors"]) == ("succeeded", 60, 60, 2)
    assert report(recent)["status"] == "queued"
    # Idempotent: nothing stalled is left, so the next sweep queues nothing (a finished import is never re-run).
    assert resume_stalled_imports() == 0
    assert report(lost)["finished_at"] == done["finished_at"]


def test_an_import_that_keeps_dying_is_given_up_on_not_resumed_forever():
    hopeless = upload(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)
    table = Import.__table__
    with unit_of_work() as session:
        session.execute(update(table).where(table.c.id == hopeless).values(attempts=5, status="processing"))
    _quiet_for(hopeless, 11)

    assert resume_stalled_imports() == 0
    result = report(hopeless)
    assert result["status"] == "failed"
    assert result["failure"]["code"] == "import_keeps_crashing"
    assert result["failure"]["message"].startswith("A importação parou 5 vezes")


def test_a_processing_import_whose_heartbeat_stopped_is_queued_again_and_a_beating_one_left_alone():
    data = DASAEXP_SAMPLE.read_bytes()
    dead, alive, slow_queue = (upload(data, name) for name in ("morta.xls", "viva.xls", "fila.xls"))
    table = Import.__table__
    with unit_of_work() as session:
        session.execute(update(table).where(table.c.id.in_([dead, alive])).values(status="processing", attempts=1))
    for import_id in (dead, slow_queue):
        _quiet_for(import_id, 0.5)  # 30 s without a heartbeat
    with unit_of_work() as session:
        import_service.heartbeat(session, alive)

    assert resume_stalled_imports.run(dead_after_seconds=20) == 1
    # Queued again and fresh: the next sweep waits for the new task instead of sending another.
    assert [report(i)["status"] for i in (dead, alive, slow_queue)] == ["queued", "processing", "queued"]
    assert resume_stalled_imports.run(dead_after_seconds=20) == 0
