#!/usr/bin/env bash
# Local single-node OpenSearch for development and CI, built from Maven Central jars.
#
#   scripts/opensearch.sh start    fetch jars + compile launcher if needed, start, wait for yellow
#   scripts/opensearch.sh stop     stop the node started by this script (TERM, then KILL)
#   scripts/opensearch.sh status   print whether it is running (exit 0 running, 3 not)
#   scripts/opensearch.sh wait     wait until the node answers with status >= yellow
#
# Environment:
#   OPENSEARCH_PORT           HTTP port on 127.0.0.1 (default 9200)
#   OPENSEARCH_TRANSPORT      transport port (default 9300)
#   OPENSEARCH_HEAP           fixed heap size, -Xms = -Xmx (default 1g)
#   OPENSEARCH_JAVA_OPTS      extra JVM options
#   OPENSEARCH_START_TIMEOUT  seconds to wait for the node (default 90)
#   JAVA_HOME                 JDK to use (default: java/javac on PATH; OpenSearch 2.x needs 11-21)
#   COLETA_LOCAL_DIR          where node home, log and pid live instead of .local (a second stack)
#
# Only the node this checkout started (its pid file, its node home) is ever stopped: a node of
# another checkout answering on the same port is reused by `start` and left alone by `stop`.
#
# Layout (relative to the repo root, all git-ignored):
#   .cache/m2                              Maven local repository used for the download
#   .cache/opensearch/<version>/lib        server + module jars
#   .cache/opensearch/<version>/classes    compiled scripts/opensearch/Launcher.java
#   .local/opensearch                      node home (config/, data/, logs/)
#   .local/log/opensearch.log              stdout/stderr of the node
#   .local/run/opensearch.pid              pid of the node
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/scripts/opensearch"
# The one pinned version lives in the pom.
VERSION="$(sed -n 's:.*<opensearch.version>\(.*\)</opensearch.version>.*:\1:p' "$SRC/pom.xml")"
CACHE="$ROOT/.cache/opensearch/$VERSION"
LIB="$CACHE/lib"
CLASSES="$CACHE/classes"
M2_REPO="$ROOT/.cache/m2"
LOCAL="${COLETA_LOCAL_DIR:-$ROOT/.local}"
HOME_DIR="$LOCAL/opensearch"
LOG_FILE="$LOCAL/log/opensearch.log"
PID_FILE="$LOCAL/run/opensearch.pid"

PORT="${OPENSEARCH_PORT:-9200}"
HEAP="${OPENSEARCH_HEAP:-1g}"
TIMEOUT="${OPENSEARCH_START_TIMEOUT:-90}"
URL="http://127.0.0.1:$PORT"

if [[ -n "${JAVA_HOME:-}" ]]; then
  JAVA="$JAVA_HOME/bin/java"; JAVAC="$JAVA_HOME/bin/javac"
else
  JAVA="java"; JAVAC="javac"
fi

log() { echo "opensearch: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- build cache -------------------------------------------------------------

ensure_jars() {
  [[ -f "$LIB/.complete" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  log "fetching OpenSearch $VERSION jars from Maven Central into ${LIB#"$ROOT"/} ..."
  rm -rf "$LIB"
  mkdir -p "$CACHE"
  if ! mvn -B -q -f "$SRC/pom.xml" -Dmaven.repo.local="$M2_REPO" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB" \
      >"$CACHE/mvn.log" 2>&1; then
    cat "$CACHE/mvn.log" >&2
    die "mvn could not fetch the OpenSearch jars"
  fi
  touch "$LIB/.complete"
}

ensure_classes() {
  if [[ -f "$CLASSES/Launcher.class" && "$CLASSES/Launcher.class" -nt "$SRC/Launcher.java" ]]; then
    return 0
  fi
  log "compiling Launcher.java ..."
  rm -rf "$CLASSES"
  mkdir -p "$CLASSES"
  "$JAVAC" -nowarn -d "$CLASSES" -cp "$LIB/*" "$SRC/Launcher.java"
}

# --- process helpers ---------------------------------------------------------

# Pid from the pid file if that process is still our launcher (on our node home), else nothing.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid
  pid="$(cat "$PID_FILE")"
  if [[ -n "$pid" && "$(ps -p "$pid" -o args= 2>/dev/null)" == *"Launcher $HOME_DIR"* ]]; then
    echo "$pid"
  fi
}

answers() {
  [[ "$(curl -fsS -m 2 "$URL/" 2>/dev/null)" == *'"cluster_name"'* ]]
}

healthy() {
  curl -fsS -m 5 -o /dev/null "$URL/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  until healthy; do
    if [[ -f "$PID_FILE" && -z "$(running_pid)" ]]; then
      rm -f "$PID_FILE"
      log "node process exited; last log lines:"; tail -n 60 "$LOG_FILE" >&2 || true
      die "OpenSearch failed to start"
    fi
    if ((SECONDS >= deadline)); then
      log "not healthy after ${TIMEOUT}s; last log lines:"; tail -n 60 "$LOG_FILE" >&2 || true
      die "OpenSearch did not become ready at $URL"
    fi
    sleep 1
  done
}

# --- commands ----------------------------------------------------------------

cmd_start() {
  ensure_jars
  ensure_classes
  if answers; then
    if [[ -n "$(running_pid)" ]]; then log "already running at $URL"; else log "a node of another checkout answers at $URL; reusing it"; fi
    return 0
  fi
  if [[ -z "$(running_pid)" ]]; then
    mkdir -p "$HOME_DIR" "$(dirname "$LOG_FILE")" "$(dirname "$PID_FILE")"
    echo "=== $(date -Is) starting OpenSearch $VERSION on $URL" >>"$LOG_FILE"
    # shellcheck disable=SC2086  # OPENSEARCH_JAVA_OPTS is a list of options
    nohup "$JAVA" -Xms"$HEAP" -Xmx"$HEAP" \
      -Dfile.encoding=UTF-8 -Djava.awt.headless=true -Djna.nosys=true \
      -Djava.locale.providers=SPI,COMPAT -XX:-OmitStackTraceInFastThrow \
      -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
      -Dio.netty.recycler.maxCapacityPerThread=0 \
      ${OPENSEARCH_JAVA_OPTS:-} \
      -cp "$CLASSES:$LIB/*" Launcher "$HOME_DIR" \
      </dev/null >>"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    log "started pid $(cat "$PID_FILE"), log in ${LOG_FILE#"$ROOT"/}"
  fi
  wait_ready
  log "ready at $URL"
}

cmd_stop() {
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    answers && log "something still answers at $URL but was not started by this script"
    log "not running"
    return 0
  fi
  log "stopping pid $pid ..."
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after 30s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  pid="$(running_pid)"
  if answers && [[ -n "$pid" ]]; then
    echo "running at $URL (pid $pid)"
  elif answers; then
    echo "$URL answers, but was not started by this checkout"
  elif [[ -n "$pid" ]]; then
    echo "starting (pid $pid), not answering yet at $URL"
  else
    echo "not running"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  wait) wait_ready; log "ready at $URL" ;;
  *) echo "usage: $0 start|stop|status|wait" >&2; exit 2 ;;
esac
