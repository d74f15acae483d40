#!/usr/bin/env bash
# PostgreSQL for development and tests: Debian's binaries, a cluster of our own under .local/.
# Usage: postgres.sh start|stop|status
# Only this checkout's cluster (.local/postgres/data) is ever stopped: a PostgreSQL of another
# checkout answering on the same port is reused by `start` and left alone by `stop`.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
PG_HOME="$LOCAL/postgres"

# PostgreSQL refuses to run as root; it runs as the `postgres` user, who must be able to
# reach its data. When the checkout sits where that user cannot go (e.g. under /root),
# the data lives under /var/lib/coleta and .local/postgres points there.
resolve_home() {
  if [ -L "$PG_HOME" ] || [ -d "$PG_HOME/data" ]; then return; fi
  if runuser -u postgres -- test -x "$ROOT" 2>/dev/null; then
    mkdir -p "$PG_HOME"
  else
    local elsewhere="/var/lib/coleta/$(echo "$ROOT${COLETA_LOCAL_DIR:+|$LOCAL}" | md5sum | cut -c1-12)/postgres"
    mkdir -p "$elsewhere"
    ln -sfn "$elsewhere" "$PG_HOME"
  fi
  chown postgres:postgres "$PG_HOME/"
}

# The server log must never carry patient data. Its ERROR lines are kept, but not what follows them:
# `DETAIL: Key (cpf)=(...) already exists`, the failing statement, or bind parameters (CPFs, names, phones).
# Also in docker-compose.yml (postgres `command`).
LOG_SETTINGS=(
  "log_error_verbosity=terse"
  "log_min_error_statement=panic"
  "log_parameter_max_length=0"
  "log_parameter_max_length_on_error=0"
)

psql_admin() { "$PG_BIN/psql" -h "$PG_HOME/run" -p "$COLETA_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

start() {
  apt_install "postgresql-$PG_VERSION" postgresql-contrib "postgresql-client-$PG_VERSION"
  resolve_home
  if [ ! -f "$PG_HOME/data/PG_VERSION" ]; then
    say "Criando o cluster PostgreSQL em .local/postgres"
    install -d -o postgres -g postgres "$PG_HOME/data" "$PG_HOME/run"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_HOME/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  fi
  install -d -o postgres -g postgres "$PG_HOME/run"
  if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$COLETA_PG_PORT"; then
    say "Iniciando PostgreSQL em 127.0.0.1:$COLETA_PG_PORT"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -l "$PG_HOME/postgres.log" -w -t 60 \
      -o "-c port=$COLETA_PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_HOME/run -c max_connections=200 -c shared_buffers=256MB -c fsync=on" \
      start >/dev/null || { tail -n 30 "$PG_HOME/postgres.log" >&2; die "PostgreSQL não iniciou."; }
  fi
  if [ -S "$PG_HOME/run/.s.PGSQL.$COLETA_PG_PORT" ]; then
    ensure_log_settings
    ensure_database coleta
    ensure_database coleta_test
  else
    # Another checkout's cluster answers on this port: reuse it if it has our databases.
    PGPASSWORD=coleta "$PG_BIN/psql" -h 127.0.0.1 -p "$COLETA_PG_PORT" -U coleta -d coleta_test -qtAc "SELECT 1" >/dev/null \
      || die "Um PostgreSQL de outra pasta responde na porta $COLETA_PG_PORT sem os bancos do Coleta; pare-o ou use COLETA_PG_PORT."
  fi
}

# ALTER SYSTEM (kept in the cluster's postgresql.auto.conf) and a reload: a cluster that is already
# running gets them too, without a restart. Idempotent.
ensure_log_settings() {
  local setting changed=0
  for setting in "${LOG_SETTINGS[@]}"; do
    if [ "$(psql_admin -c "SHOW ${setting%%=*}")" != "${setting#*=}" ]; then
      psql_admin -c "ALTER SYSTEM SET ${setting%%=*} = '${setting#*=}'"
      changed=1
    fi
  done
  if [ "$changed" = 1 ]; then psql_admin -c "SELECT pg_reload_conf()" >/dev/null; fi
}

ensure_database() {
  local db="$1"
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='coleta'")" ]; then
    psql_admin -c "CREATE ROLE coleta LOGIN PASSWORD 'coleta' CREATEDB"
  fi
  if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='$db'")" ]; then
    psql_admin -c "CREATE DATABASE $db OWNER coleta"
  fi
  # Extensions need a superuser; the application role cannot create them itself.
  psql_admin -d "$db" -c "CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm"
}

# True when this checkout's cluster runs (pg_ctl reads its own data directory's postmaster.pid).
ours_running() {
  [ -f "$PG_HOME/data/PG_VERSION" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_HOME/data" status >/dev/null 2>&1
}

stop() {
  if ours_running; then
    say "Parando PostgreSQL"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -m fast -w stop >/dev/null
  elif "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$COLETA_PG_PORT"; then
    say "PostgreSQL em 127.0.0.1:$COLETA_PG_PORT não é o cluster desta pasta; deixado como está"
  fi
}

status() {
  if ours_running; then
    echo "postgres: rodando (pid $(head -n 1 "$PG_HOME/data/postmaster.pid"), 127.0.0.1:$COLETA_PG_PORT)"
  elif "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$COLETA_PG_PORT"; then
    echo "postgres: 127.0.0.1:$COLETA_PG_PORT responde, mas não é o cluster desta pasta"
  else
    echo "postgres: parado"
  fi
}

"${1:-start}"
