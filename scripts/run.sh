#!/usr/bin/env bash
# `make run`: everything from a fresh machine to a running API. Safe to run again.
set -euo pipefail
source "$(dirname "$0")/common.sh"
started=$(date +%s)

"$ROOT/scripts/venv.sh"
"$ROOT/scripts/web.sh" build
"$ROOT/scripts/services.sh" start
say "Aplicando migrações"
(cd "$ROOT" && "$VENV/bin/alembic" upgrade heads >/dev/null)
ENVIRONMENT="${COLETA_ENVIRONMENT:-development}"
if [ "$ENVIRONMENT" = development ]; then
  export COLETA_ADMIN_EMAIL="${COLETA_ADMIN_EMAIL:-admin@coleta.local}"
  export COLETA_ADMIN_PASSWORD="${COLETA_ADMIN_PASSWORD:-coleta-dev-admin}"
fi
say "Garantindo o usuário administrador"
(cd "$ROOT" && "$PY" -m workers users ensure-admin)
say "Criando índices"
(cd "$ROOT" && "$PY" -m workers setup-index --upgrade)
"$ROOT/scripts/app.sh" start

cat <<MSG

Coleta rodando ($(( $(date +%s) - started ))s):
  Aplicativo  http://127.0.0.1:${COLETA_API_PORT:-8000}/
  API         http://127.0.0.1:${COLETA_API_PORT:-8000}/api/v1  (documentação: /docs)
  PostgreSQL  127.0.0.1:$COLETA_PG_PORT  banco coleta, usuário coleta
  Redis       127.0.0.1:$COLETA_REDIS_PORT
  OpenSearch  http://127.0.0.1:$OPENSEARCH_PORT
  Logs        .local/log/   (api.log, worker.log, worker-jobs.log, beat.log, opensearch.log, redis.log)
Parar tudo: make stop
MSG
if [ "$ENVIRONMENT" = development ]; then
  cat <<MSG
Login (desenvolvimento): $COLETA_ADMIN_EMAIL / $COLETA_ADMIN_PASSWORD
  (criado no primeiro \`make run\`; se você trocou a senha, ela continua valendo)
MSG
fi
