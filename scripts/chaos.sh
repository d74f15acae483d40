#!/usr/bin/env bash
# `make chaos`: a second stack of our own on other ports, the fault scenarios of bench/chaos.py, then
# that stack stopped. The stack lives under .local/chaos (its own PostgreSQL cluster, Redis, OpenSearch
# node, worker, beat and API) and starts empty every run; nothing of the `make run` stack is touched.
# Ports: CHAOS_PG_PORT (5443), CHAOS_REDIS_PORT (6390), CHAOS_OPENSEARCH_PORT (9210),
# CHAOS_OPENSEARCH_TRANSPORT (9310), CHAOS_API_PORT (8010). Arguments go to bench/chaos.py.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

export COLETA_LOCAL_DIR="$ROOT/.local/chaos"
export COLETA_PG_PORT="${CHAOS_PG_PORT:-5443}"
export COLETA_REDIS_PORT="${CHAOS_REDIS_PORT:-6390}"
export OPENSEARCH_PORT="${CHAOS_OPENSEARCH_PORT:-9210}"
export OPENSEARCH_TRANSPORT="${CHAOS_OPENSEARCH_TRANSPORT:-9310}"
export COLETA_API_PORT="${CHAOS_API_PORT:-8010}"
# Derived from the ports above by common.sh, never inherited from the caller's stack.
unset COLETA_DATABASE_URL COLETA_REDIS_URL COLETA_OPENSEARCH_URL COLETA_TEST_PG COLETA_TEST_REDIS_URL \
  COLETA_INDEX_PREFIX COLETA_QUEUE_PREFIX COLETA_REDIS_KEY_PREFIX
export COLETA_ENVIRONMENT=development
# One login serves the whole run (logins are tried again only while Redis is down).
export COLETA_ACCESS_TOKEN_MINUTES=240
source "$ROOT/scripts/common.sh"

for port in "$COLETA_PG_PORT" "$COLETA_REDIS_PORT" "$OPENSEARCH_PORT" "$OPENSEARCH_TRANSPORT" "$COLETA_API_PORT"; do
  # The faults are injected into the services this script starts: none may be someone else's.
  port_open "$port" && die "A porta $port já está em uso; escolha outras com CHAOS_*_PORT (veja o topo de scripts/chaos.sh)."
done

stop_stack() {
  say "Parando a pilha do caos"
  "$ROOT/scripts/app.sh" stop || true
  "$ROOT/scripts/services.sh" stop || true
}

# A fresh stack every run: the figures of one run never depend on the data of the last.
if [ -L "$LOCAL/postgres" ]; then rm -rf "$(readlink -f "$LOCAL/postgres")"; fi
rm -rf "$LOCAL"
mkdir -p "$RUN_DIR" "$LOG_DIR"
trap stop_stack EXIT
"$ROOT/scripts/run.sh"
"$PY" -m bench.chaos "$@"
