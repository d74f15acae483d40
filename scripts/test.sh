#!/usr/bin/env bash
# `make test`: the same services as `make run` (reused when up), then lint-imports and pytest.
set -euo pipefail
source "$(dirname "$0")/common.sh"

"$ROOT/scripts/venv.sh"
"$ROOT/scripts/services.sh" start
cd "$ROOT"
say "Contratos de importação"
"$VENV/bin/lint-imports"
say "Testes"
"$VENV/bin/pytest" "$@"
