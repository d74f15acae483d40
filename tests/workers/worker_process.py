"""A real Celery worker process for one test: on queues of the test's own, killable (SIGKILL) like a crash."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.fixtures import ROOT
from workers.app import celery_app
from workers.tasks.imports import apply_import

# Fast clocks for tests of the resume sweep (production: a beat every 5 s, dead after 20 s, a sweep every 10 s).
FAST_RESUME = {"COLETA_TASK_HEARTBEAT_SECONDS": "0.5", "COLETA_TASK_DEAD_AFTER_SECONDS": "4",
               "COLETA_RESUME_SWEEP_SECONDS": "1"}


class Worker:
    """A Celery worker process of our own, on a queue of our own (the session worker never sees our task)."""

    def __init__(self, queue: str, env: dict[str, str] | None = None, beat_schedule: Path | None = None) -> None:
        """`queue` may list several, comma-separated; with `beat_schedule` the worker runs beat too (-B)."""
        self.queue = queue.split(",")[-1]
        self.name = f"imports-{uuid.uuid4().hex[:8]}@test"
        log = open(ROOT / ".local" / "log" / "test-import-worker.log", "ab")
        beat = ["-B", "--schedule", str(beat_schedule)] if beat_schedule is not None else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app:celery_app", "worker", "-Q", queue,
             "--pool", "solo", "--loglevel", "INFO", "-n", self.name, *beat],
            cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the import worker exited; see .local/log/test-import-worker.log")
            if celery_app.control.ping(destination=[self.name], timeout=0.5):
                return
        self.process.kill()
        raise RuntimeError("the import worker did not answer a ping")

    def apply(self, import_id: str) -> None:
        """Send the real task to this worker's queue."""
        apply_import.apply_async(args=[import_id], queue=self.queue)

    def children(self) -> list[int]:
        """Pids of this worker's parsing child processes."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat[1]) == self.process.pid and b"storage.imports.parsing.process" in cmdline:
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
