#!/usr/bin/env bash
# The staff web app (web/): Node packages from the committed lock, the production build, and
# the browser the tests drive. Each step is skipped when already up to date.
# Usage: web.sh build | browser
set -euo pipefail
source "$(dirname "$0")/common.sh"
WEB="$ROOT/web"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # no browser downloads here: Debian's Chromium is used

check_node() {
  command -v node >/dev/null && command -v npm >/dev/null || die "Node.js ≥ 20.19 e npm são necessários para o aplicativo web (web/)."
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js $(node -v) é antigo demais: o aplicativo web precisa de ≥ 20.19."
}

# npm ci only when package-lock.json changed since the last install (the lock's hash is the stamp).
install_packages() {
  check_node
  local stamp="$WEB/node_modules/.lock-sha256" want
  want="$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Instalando pacotes Node do aplicativo web (npm ci)"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

# The hash of everything the build reads; the build is redone only when it changes.
sources_hash() {
  (cd "$WEB" && find src public index.html package-lock.json vite.config.ts tsconfig.json -type f -print0 \
    | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

build() {
  install_packages
  local stamp="$WEB/dist/.sources-sha256" want
  want="$(sources_hash)"
  if [ ! -f "$WEB/dist/index.html" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Compilando o aplicativo web"
    (cd "$WEB" && npm run --silent build >/dev/null)
    echo "$want" >"$stamp"
  fi
}

browser() {
  [ -x /usr/bin/chromium ] || apt_install chromium
  # Fonts with the Portuguese accents for the screenshots and the layout the tests see.
  fc-list 2>/dev/null | grep -qi dejavu || apt_install fonts-dejavu-core
}

case "${1:-build}" in
  build) build ;;
  browser) browser ;;
  *) die "uso: web.sh build|browser" ;;
esac
