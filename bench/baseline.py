"""The code before issue 14, beside today's: a commit's files unpacked under .cache/bench/ (git archive).

Processes started with `cwd` there import that commit's packages (the working directory comes
first on sys.path, ahead of the editable install), with the same virtualenv: the #14 benches run
the old and the new API, worker and drain side by side on one registry, in one run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# main just before issue 14 (the merge of i13-mpi).
BASELINE_REF = "5959d47"


def checkout(ref: str = BASELINE_REF) -> Path:
    """Unpack `ref` once (reused afterwards); return its directory."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    target = ROOT / ".cache" / "bench" / f"baseline-{sha[:12]}"
    if not (target / ".complete").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.Popen(["git", "archive", sha], cwd=ROOT, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", str(target)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {sha} failed")
        (target / ".complete").write_text(sha + "\n")
    imported = subprocess.run([sys.executable, "-c", "import api; print(api.__file__)"], cwd=target,
                              env=env_for(target), check=True, capture_output=True, text=True).stdout.strip()
    if not imported.startswith(str(target)):
        raise RuntimeError(f"the baseline checkout imports {imported}, not its own code")
    return target


def env_for(directory: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a process running the code in `directory`."""
    env = dict(base if base is not None else os.environ)
    env["PYTHONPATH"] = str(directory)
    return env


def header(title: str) -> list[str]:
    """The first lines of a side-by-side report: what ran, when, on what machine."""
    import platform
    from datetime import datetime

    load = os.getloadavg()
    return [
        f"{title} — {datetime.now().isoformat(timespec='seconds')}",
        f"machine: {os.cpu_count()} cores, CPython {platform.python_version()}, load average before "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
    ]


def save(name: str, lines: list[str]) -> Path:
    """Write a report to bench/results/<name>-<date>[-n].txt (earlier runs are kept)."""
    from datetime import date

    results = ROOT / "bench" / "results"
    path = results / f"{name}-{date.today().isoformat()}.txt"
    suffix = 2
    while path.exists():
        path = results / f"{name}-{date.today().isoformat()}-{suffix}.txt"
        suffix += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"report written to {path.relative_to(ROOT)}", file=sys.stderr)
    return path
