"""Workers log like the API: JSON lines, tagged with the task run, personal data redacted."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from tests.fixtures import ROOT, wait_until
from workers import app as worker_app
from workers.app import DEFAULT_QUEUE, SYNC_QUEUE, celery_app
from workers.tasks.sync import drain_outbox


def test_a_task_line_is_json_with_the_task_id_and_nothing_personal(capsys):
    worker_app._json_logs()
    try:
        worker_app._task_context(task_id="tarefa-123", task=drain_outbox)
        logging.getLogger("workers.test").warning("envio para 123.456.789-09 no (21) 99876-5432 falhou")
        worker_app._clear_task_context()
        logging.getLogger("workers.test").warning("fora de tarefa")
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers if not getattr(h, "_coleta", False)]
    first, second = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert first["message"] == "envio para [cpf] no [phone] falhou"
    assert (first["task_id"], first["task"], first["level"]) == ("tarefa-123", "workers.sync.drain_outbox", "WARNING")
    assert second["message"] == "fora de tarefa"
    assert "task_id" not in second


def test_a_real_worker_writes_json_lines(tmp_path, committed):
    celery_app.control.purge()
    output = tmp_path / "worker.log"
    name = f"logs-{os.getpid()}@coleta"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker", "-Q", f"{SYNC_QUEUE},{DEFAULT_QUEUE}",
             "--pool", "solo", "--loglevel", "INFO", "-n", name],
            cwd=ROOT, env=dict(os.environ), stdout=sink, stderr=subprocess.STDOUT,
        )
        try:
            assert wait_until(lambda: celery_app.control.ping(destination=[name], timeout=0.5), timeout=30)
            drain_outbox.apply_async()

            def finished() -> list[dict]:
                lines = [json.loads(line) for line in output.read_text().splitlines() if line.startswith("{")]
                return [line for line in lines if "succeeded" in line["message"]]

            done = wait_until(finished, timeout=30)
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert done, output.read_text()[-2000:]
    assert done[0]["logger"] == "celery.app.trace"
    assert "workers.sync.drain_outbox" in done[0]["message"]
    # Celery's own startup lines (not the banner, which is printed, not logged) come through the same handler.
    logged = [line for line in output.read_text().splitlines() if line.startswith("{")]
    assert any(json.loads(line)["logger"].startswith("celery") and "ready" in json.loads(line)["message"] for line in logged)
