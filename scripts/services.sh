#!/usr/bin/env bash
# Start (or stop) PostgreSQL, Redis and OpenSearch on 127.0.0.1, installing what is missing.
# Usage: services.sh start|stop|status
set -euo pipefail
source "$(dirname "$0")/common.sh"

case "${1:-start}" in
  start)
    command -v java >/dev/null && command -v javac >/dev/null || apt_install openjdk-17-jdk-headless
    command -v mvn >/dev/null || apt_install maven
    command -v curl >/dev/null || apt_install curl
    "$ROOT/scripts/postgres.sh" start
    "$ROOT/scripts/redis.sh" start
    "$ROOT/scripts/opensearch.sh" start
    ;;
  stop)
    "$ROOT/scripts/opensearch.sh" stop || true
    "$ROOT/scripts/redis.sh" stop || true
    "$ROOT/scripts/postgres.sh" stop || true
    ;;
  status)
    "$ROOT/scripts/postgres.sh" status
    "$ROOT/scripts/redis.sh" status
    "$ROOT/scripts/opensearch.sh" status || true
    ;;
  *) die "uso: services.sh start|stop|status" ;;
esac
