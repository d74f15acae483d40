"""The import task in real Celery worker processes: it applies a file, and a worker killed (SIGKILL)
mid-import followed by a re-run ends in exactly the state of one clean run; the re-run comes by itself,
from beat's resume sweep, once the killed run's heartbeat stopped."""

from __future__ import annotations

import io
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.dasaexp_export import Generator, write_xlsx
from indexing import names, sync
from indexing.client import get_client
from storage.imports import service
from tests.fixtures import truncate_all, wait_until
from tests.storage.imports.helpers import DASAEXP_SAMPLE, counts, report, snapshot, upload
from tests.workers.worker_process import FAST_RESUME, Worker
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app
from workers.settings import get_settings as get_worker_settings

pytestmark = pytest.mark.usefixtures("committed")

BATCH_SIZE = 50


@pytest.fixture
def queue() -> str:
    return f"{get_worker_settings().queue_prefix}imports-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def workers(queue) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def big_export() -> bytes:
    """A realistic 6,000-row export (parsed in a child process: over the in-process size)."""
    buffer = io.BytesIO()
    write_xlsx(buffer, Generator(seed=11).rows(6000))
    return buffer.getvalue()


def finished(import_id: str, timeout: float = 120) -> dict:
    return wait_until(lambda: (lambda r: r if r["status"] in ("succeeded", "failed") else None)(report(import_id)),
                      timeout=timeout, interval=0.1)


def test_a_real_worker_applies_an_import_and_the_index_follows(workers, queue):
    worker = Worker(queue)
    workers.append(worker)
    import_id = upload(DASAEXP_SAMPLE.read_bytes(), DASAEXP_SAMPLE.name)

    worker.apply(import_id)
    result = finished(import_id)

    assert (result["status"], result["imported"], result["skipped"], result["errors"]) == ("succeeded", 60, 60, 2)
    sync.drain(max_batches=100)
    client = get_client()
    client.indices.refresh(index=f"{names.alias('patients')},{names.alias('visits')}")
    assert (client.count(index=names.alias("patients"))["count"], client.count(index=names.alias("visits"))["count"]) == (
        34, 60)


def test_a_worker_killed_mid_import_and_the_task_rerun_end_as_one_clean_run(workers, queue, big_export):
    env = {"COLETA_IMPORT_BATCH_SIZE": str(BATCH_SIZE)}
    # The clean run, in this process with the same batch size.
    clean_id = upload(big_export, "agenda-6k.xlsx")
    assert service.apply_import(clean_id, batch_size=BATCH_SIZE) == "succeeded"
    clean = counts(report(clean_id))
    expected = snapshot(with_outbox=False)
    truncate_all()

    # The killed run: SIGKILL the worker once some batches are committed, well before the end.
    first = Worker(queue, env)
    workers.append(first)
    import_id = upload(big_export, "agenda-6k.xlsx")
    first.apply(import_id)
    midway = wait_until(lambda: (lambda r: r if r["processed_rows"] >= 4 * BATCH_SIZE else None)(report(import_id)),
                        timeout=60, interval=0.02)
    parser_children = first.children()
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    killed_at = report(import_id)
    assert killed_at["status"] == "processing"
    assert midway["processed_rows"] <= killed_at["processed_rows"] < clean["total_rows"]
    assert killed_at["processed_rows"] % BATCH_SIZE <= 5  # batches are whole (a split stop may add a row or two)
    # The parsing child died with its worker.
    assert parser_children, "a 6k-row file is parsed in a child process"
    assert wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in parser_children), timeout=10)

    # The task re-run (a new worker, as after a restart) resumes after the last committed batch.
    second = Worker(queue, env)
    workers.append(second)
    second.apply(import_id)
    result = finished(import_id)

    # Same counters, same rows and row versions, same issues (the snapshot holds them) as the clean run.
    assert counts(result) == clean
    assert snapshot(with_outbox=False) == expected


def test_a_worker_killed_mid_import_is_resumed_by_the_sweep_and_ends_as_one_clean_run(workers, big_export, tmp_path):
    env = {"COLETA_IMPORT_BATCH_SIZE": str(BATCH_SIZE), **FAST_RESUME}
    clean_id = upload(big_export, "agenda-6k.xlsx")
    assert service.apply_import(clean_id, batch_size=BATCH_SIZE) == "succeeded"
    clean = counts(report(clean_id))
    expected = snapshot(with_outbox=False)
    truncate_all()
    celery_app.control.purge()  # earlier tests' tasks on the run's queues are not this test's

    # The task as the API queues it, on the default queue; its worker is killed after some batches.
    first = Worker(DEFAULT_QUEUE, env)
    workers.append(first)
    import_id = upload(big_export, "agenda-6k.xlsx")
    first.apply(import_id)
    wait_until(lambda: report(import_id)["processed_rows"] >= 4 * BATCH_SIZE, timeout=60, interval=0.02)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    killed_at = report(import_id)
    assert (killed_at["status"], killed_at["processed_rows"] < clean["total_rows"]) == ("processing", True)

    # A worker with beat, as after a restart; nobody sends the task again: the sweep sees the heartbeat
    # stopped, queues the import again, and the run resumes after the last committed batch.
    second = Worker(f"{SYNC_QUEUE},{DEFAULT_QUEUE}", env, beat_schedule=tmp_path / "beat-schedule")
    workers.append(second)
    result = finished(import_id, timeout=180)

    assert result, "the killed import was not resumed"
    assert counts(result) == clean
    assert snapshot(with_outbox=False) == expected
