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
