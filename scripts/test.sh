#!/usr/bin/env bash
# `make test`: the same services as `make run` (reused when up), the web app built, then lint-imports and pytest.
set -euo pipefail
source "$(dirname "$0")/common.sh"

"$ROOT/scripts/venv.sh"
"$ROOT/scripts/services.sh" start
# The web app's tests (tests/web) drive its build in Chromium.
"$ROOT/scripts/web.sh" build
"$ROOT/scripts/web.sh" browser
cd "$ROOT"
say "Contratos de importação"
"$VENV/bin/lint-imports"
say "Testes"
"$VENV/bin/pytest" "$@"
