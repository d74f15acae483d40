#!/usr/bin/env bash
# Redis (Celery broker) for development and tests, data under .local/redis.
# Usage: redis.sh start|stop|status
set -euo pipefail
source "$(dirname "$0")/common.sh"

PIDFILE="$RUN_DIR/redis.pid"

ping() { redis-cli -h 127.0.0.1 -p "$COLETA_REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start() {
  apt_install redis-server redis-tools
  if ping; then return 0; fi
  say "Iniciando Redis em 127.0.0.1:$COLETA_REDIS_PORT"
  mkdir -p "$LOCAL/redis"
  # Append-only file: tasks queued in the broker survive a restart.
  redis-server --bind 127.0.0.1 --port "$COLETA_REDIS_PORT" --daemonize yes \
    --dir "$LOCAL/redis" --pidfile "$PIDFILE" --logfile "$LOG_DIR/redis.log" \
    --appendonly yes --save "" --protected-mode yes
  for _ in $(seq 1 50); do ping && return 0; sleep 0.1; done
  tail -n 20 "$LOG_DIR/redis.log" >&2
  die "Redis não iniciou."
}

stop() {
  if ping; then say "Parando Redis"; redis-cli -h 127.0.0.1 -p "$COLETA_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  rm -f "$PIDFILE"
}

status() { if ping; then echo "redis: rodando (127.0.0.1:$COLETA_REDIS_PORT)"; else echo "redis: parado"; fi; }

"${1:-start}"
