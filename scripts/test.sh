#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need (Debian packages,
# node modules, the collector and Jaeger built from Go modules into a cache outside the repo),
# starts PostgreSQL and Redis if they are down (and stops only what it started), then runs vitest.
#   bash scripts/test.sh [vitest args...]        (npm test does the same)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }
started=()
cleanup() {
  for svc in "${started[@]}"; do
    case $svc in
      postgres) pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main stop || true ;;
      redis) redis-cli -h 127.0.0.1 shutdown nosave || true ;;
    esac
  done
}
trap cleanup EXIT

log "Debian packages (prometheus, promtool, alertmanager)"
bash scripts/install-deps.sh

log "node modules"
lock=$(sha256sum package-lock.json | cut -c1-64)
if [[ "$(cat node_modules/.installed-lock 2>/dev/null)" != "$lock" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock" >node_modules/.installed-lock
fi

log "collector and Jaeger (Go builds, cached in ${CLAUDE_OTEL_CACHE:-$HOME/.cache/claude-otel-bridge})"
export OTELCOL_BIN JAEGER_BIN
OTELCOL_BIN=$(bash scripts/build-collector.sh)
JAEGER_BIN=$(bash scripts/build-jaeger.sh)

log "services"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  started+=(postgres)
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  started+=(redis)
fi
for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.2; done

log "build"
npm run --silent build

log "tests"
npx vitest run "$@"
