#!/usr/bin/env bash
# Create the project virtualenv and install the package with its dev tools; skip when up to date.
set -euo pipefail
source "$(dirname "$0")/common.sh"
stamp="$VENV/.installed"
if [ ! -x "$PY" ]; then
  say "Criando o ambiente Python em .venv"
  python3 -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  say "Instalando dependências Python"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -e "$ROOT[dev]"
  touch "$stamp"
fi
