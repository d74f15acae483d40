#!/usr/bin/env bash
# Redis (Celery broker) for development and tests, data under .local/redis.
# Usage: redis.sh start|stop|status
# Only the Redis this checkout started (its pid file) is ever stopped: a Redis of another checkout
# answering on the same port is reused by `start` and left alone by `stop`.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PIDFILE="$RUN_DIR/redis.pid"

ping() { redis-cli -h 127.0.0.1 -p "$COLETA_REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# The pid of the redis-server this checkout started, if it still runs.
our_pid() {
  pid_alive "$PIDFILE" || return 0
  local pid; pid="$(cat "$PIDFILE")"
  [ "$(ps -p "$pid" -o comm= 2>/dev/null)" = redis-server ] && echo "$pid"
  return 0
}

start() {
  apt_install redis-server redis-tools
  if ping; then
    [ -n "$(our_pid)" ] || say "Redis em 127.0.0.1:$COLETA_REDIS_PORT é de outra pasta; reutilizando-o"
    return 0
  fi
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
  local pid; pid="$(our_pid)"
  if [ -z "$pid" ]; then
    rm -f "$PIDFILE"
    if ping; then say "Redis em 127.0.0.1:$COLETA_REDIS_PORT não foi iniciado por esta pasta; deixado como está"; fi
    return 0
  fi
  say "Parando Redis (pid $pid)"
  # TERM: Redis flushes its append-only file and exits.
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

status() {
  local pid; pid="$(our_pid)"
  if [ -n "$pid" ]; then echo "redis: rodando (pid $pid, 127.0.0.1:$COLETA_REDIS_PORT)"
  elif ping; then echo "redis: 127.0.0.1:$COLETA_REDIS_PORT responde, mas não foi iniciado por esta pasta"
  else echo "redis: parado"; fi
}

"${1:-start}"
