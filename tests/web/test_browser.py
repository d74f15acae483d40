"""The web app's own tests, run by `make test`: Vitest (units, the client's freshness) and
Playwright in Debian's Chromium against a whole stack of its own (tests/web/stack.py).

`scripts/test.sh` installs the Node packages, builds `web/dist` and installs Chromium first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BIN = WEB / "node_modules" / ".bin"


def _run(command: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "CI": "1", "FORCE_COLOR": "0"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _require(path: Path, hint: str) -> None:
    assert path.exists(), f"{path} não existe: {hint}"


def test_vitest_units_and_the_generated_client_is_current():
    _require(BIN / "vitest", "rode `bash scripts/web.sh build` (ou `make test`)")
    result = _run([str(BIN / "vitest"), "run"], WEB, timeout=300)
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-4000:]


def test_playwright_specs_against_a_real_stack():
    _require(WEB / "dist" / "index.html", "rode `bash scripts/web.sh build` (ou `make test`)")
    _require(Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")), "rode `bash scripts/web.sh browser` (ou `make test`)")
    command = [sys.executable, "-m", "tests.web.stack", "--",
               str(BIN / "playwright"), "test", "--config", str(WEB / "playwright.config.ts"), "--project=e2e", "--project=day"]
    result = _run(command, ROOT, timeout=1200)
    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-4000:]
