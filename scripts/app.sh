#!/usr/bin/env bash
# Start (or stop) the Celery workers, Celery beat and the API in the background.
# `start` restarts them, so a second `make run` picks up code changes; `restart-worker` restarts the
# workers and beat alone (the API keeps serving). Only processes this checkout started (its pid files)
# are ever stopped.
# Usage: app.sh start|stop|status|restart-worker
set -euo pipefail
source "$(dirname "$0")/common.sh"

API_PORT="${COLETA_API_PORT:-8000}"
CELERY=("$VENV/bin/celery" -A workers.app:celery_app)

launch() {  # name, command...
  local name="$1"; shift
  # No inherited stdin/stdout: a caller piping `make run` must not wait on our children.
  (cd "$ROOT" && exec nohup "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null) &
  echo $! >"$RUN_DIR/$name.pid"
}

# Two workers: the outbox drain has processes of its own, so imports and bulk jobs (minutes each,
# two at once would fill a shared worker) never hold search freshness back.
WORKERS=(worker worker-jobs)

launch_worker() {
  launch worker "${CELERY[@]}" worker -Q "${COLETA_QUEUE_PREFIX:-}sync" --concurrency 2 --loglevel INFO -n "coleta-sync@%h"
  launch worker-jobs "${CELERY[@]}" worker -Q "${COLETA_QUEUE_PREFIX:-}default" --concurrency 2 --loglevel INFO -n "coleta-jobs@%h"
  launch beat "${CELERY[@]}" beat --loglevel INFO --schedule "$RUN_DIR/celerybeat-schedule"
}

restart-worker() {
  for name in beat "${WORKERS[@]}"; do stop_pidfile "$RUN_DIR/$name.pid" 20; done
  say "Reiniciando os workers Celery e o beat (a API continua no ar)"
  launch_worker
}

start() {
  stop
  say "Iniciando worker Celery, beat e API"
  launch_worker
  launch api "$VENV/bin/uvicorn" api.app:app --host 127.0.0.1 --port "$API_PORT"
  for _ in $(seq 1 100); do
    pid_alive "$RUN_DIR/api.pid" || break
    curl -fs "http://127.0.0.1:$API_PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  tail -n 30 "$LOG_DIR/api.log" >&2
  die "A API não respondeu em http://127.0.0.1:$API_PORT"
}

stop() {
  for name in api beat "${WORKERS[@]}"; do stop_pidfile "$RUN_DIR/$name.pid" 20; done
}

status() {
  for name in "${WORKERS[@]}" beat api; do
    if pid_alive "$RUN_DIR/$name.pid"; then echo "$name: rodando (pid $(cat "$RUN_DIR/$name.pid"))"; else echo "$name: parado"; fi
  done
  if ! pid_alive "$RUN_DIR/api.pid" && port_open "$API_PORT"; then
    echo "api: 127.0.0.1:$API_PORT responde, mas não foi iniciada por esta pasta"
  fi
}

case "${1:-start}" in
  start|stop|status|restart-worker) "${1:-start}" ;;
  *) die "uso: app.sh start|stop|status|restart-worker" ;;
esac
