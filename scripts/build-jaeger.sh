#!/usr/bin/env bash
# Build Jaeger (v2, the `jaeger` all-in-one binary of github.com/jaegertracing/jaeger)
# from Go modules only, for the local stack and the infra tests.
#
#   bash scripts/build-jaeger.sh        # builds if needed, prints the binary path
#   bash scripts/build-jaeger.sh --path # prints the path it would use, builds nothing
#
# The binary lands OUTSIDE the repository, in
#   ${CLAUDE_OTEL_CACHE:-$HOME/.cache/claude-otel-bridge}/jaeger-<version>-<hash>/jaeger
# A build from Go modules has no UI assets (they are built with npm upstream and
# embedded only with `-tags ui`); the query HTTP API (/api/traces, /api/services)
# on port 16686 works all the same. Run it with jaeger/config.yaml (in-memory
# storage, OTLP on 14317/14318 so it does not clash with the collector).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAEGER_VERSION="${JAEGER_VERSION:-v1.76.0}"
CACHE="${CLAUDE_OTEL_CACHE:-$HOME/.cache/claude-otel-bridge}"

hash="$( { echo "jaeger=$JAEGER_VERSION"; go env GOVERSION 2>/dev/null || true; } | sha256sum | cut -c1-12)"
OUT_DIR="$CACHE/jaeger-$JAEGER_VERSION-$hash"
BIN="$OUT_DIR/jaeger"

if [[ "${1:-}" == "--path" ]]; then echo "$BIN"; exit 0; fi
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

command -v go >/dev/null || { echo "build-jaeger: go is not installed" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$CACHE/.jaeger.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export GOMAXPROCS="${GOMAXPROCS:-$(nproc)}"

WORK="$OUT_DIR.work"
rm -rf "$WORK"
mkdir -p "$WORK"
start=$(date +%s)
echo "build-jaeger: building github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION (log: $WORK/build.log)" >&2
(
  cd "$WORK"
  go mod init claude-otel-bridge/jaeger-build
  go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$WORK/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
) >"$WORK/build.log" 2>&1 || {
  tail -n 40 "$WORK/build.log" >&2
  echo "build-jaeger: FAILED, see $WORK/build.log" >&2
  exit 1
}
mkdir -p "$OUT_DIR"
mv "$WORK/jaeger" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
cp "$WORK/build.log" "$OUT_DIR/build.log"
rm -rf "$WORK"
echo "build-jaeger: built in $(( $(date +%s) - start ))s" >&2
echo "$BIN"
