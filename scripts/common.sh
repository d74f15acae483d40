# Shared paths and helpers for the scripts; sourced, never run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Data, pids and logs of this checkout's stack; a second stack (make chaos) points it elsewhere.
LOCAL="${COLETA_LOCAL_DIR:-$ROOT/.local}"
RUN_DIR="$LOCAL/run"
LOG_DIR="$LOCAL/log"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

export COLETA_PG_PORT="${COLETA_PG_PORT:-5433}"
export COLETA_REDIS_PORT="${COLETA_REDIS_PORT:-6380}"
export OPENSEARCH_PORT="${OPENSEARCH_PORT:-9200}"
# The application reads URLs; derive them from the ports unless given outright.
export COLETA_DATABASE_URL="${COLETA_DATABASE_URL:-postgresql+psycopg://coleta:coleta@127.0.0.1:$COLETA_PG_PORT/coleta}"
export COLETA_REDIS_URL="${COLETA_REDIS_URL:-redis://127.0.0.1:$COLETA_REDIS_PORT/0}"
export COLETA_OPENSEARCH_URL="${COLETA_OPENSEARCH_URL:-http://127.0.0.1:$OPENSEARCH_PORT}"
export COLETA_TEST_PG="${COLETA_TEST_PG:-coleta:coleta@127.0.0.1:$COLETA_PG_PORT}"
export COLETA_TEST_REDIS_URL="${COLETA_TEST_REDIS_URL:-redis://127.0.0.1:$COLETA_REDIS_PORT/1}"

mkdir -p "$RUN_DIR" "$LOG_DIR"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mERRO:\033[0m %s\n' "$*" >&2; exit 1; }

# True when a process whose pid is in file $1 is alive.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stop the process whose pid is in file $1: TERM, wait up to $2 seconds, then KILL.
stop_pidfile() {
  local pidfile="$1" wait_s="${2:-15}" pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((wait_s * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# Install Debian packages that are missing (apt-get update only when something is).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Instalando pacotes Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Wait for another apt run (a second checkout, unattended upgrades) instead of failing.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
