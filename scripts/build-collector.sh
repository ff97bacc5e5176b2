#!/usr/bin/env bash
# Build the claude-otel-bridge OpenTelemetry Collector distribution from
# otel-collector/builder-config.yaml with the official Collector Builder (ocb),
# from Go modules only (nothing prebuilt is downloaded).
#
#   bash scripts/build-collector.sh        # builds if needed, prints the binary path
#   bash scripts/build-collector.sh --path # prints the path it would use, builds nothing
#
# The binary lands OUTSIDE the repository, in
#   ${CLAUDE_OTEL_CACHE:-$HOME/.cache/claude-otel-bridge}/otelcol-<hash>/otelcol
# where <hash> is derived from the manifest and the builder version, so an unchanged
# manifest reuses the previous build. Progress goes to stderr, the path to stdout.
#
# Environment: CLAUDE_OTEL_CACHE (cache root), GOMAXPROCS / GOFLAGS (passed to go;
# on the 2-core CI machine the defaults use both cores), OCB_VERSION (builder
# version, must match the component versions in the manifest).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MANIFEST="$ROOT/otel-collector/builder-config.yaml"
OCB_VERSION="${OCB_VERSION:-v0.152.0}"
CACHE="${CLAUDE_OTEL_CACHE:-$HOME/.cache/claude-otel-bridge}"

hash="$( { cat "$MANIFEST"; echo "builder=$OCB_VERSION"; go env GOVERSION 2>/dev/null || true; } | sha256sum | cut -c1-16)"
OUT_DIR="$CACHE/otelcol-$hash"
BIN="$OUT_DIR/otelcol"

if [[ "${1:-}" == "--path" ]]; then echo "$BIN"; exit 0; fi

if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "build-collector: go is not installed" >&2; exit 1; }
mkdir -p "$CACHE"

# One build at a time per cache (tests and a developer may race).
exec 9>"$CACHE/.otelcol.lock"
flock 9
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi

export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export GOMAXPROCS="${GOMAXPROCS:-$(nproc)}"

BUILDER="$CACHE/tools/builder-$OCB_VERSION/builder"
if [[ ! -x "$BUILDER" ]]; then
  echo "build-collector: installing go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
  GOBIN="$(dirname "$BUILDER")" go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
fi

WORK="$OUT_DIR.work"
rm -rf "$WORK"
mkdir -p "$WORK"
# Same manifest, output_path pointed at the work dir (the manifest itself stays
# location independent).
sed -E "s#^([[:space:]]*)output_path:.*#\1output_path: $WORK/src#" "$MANIFEST" >"$WORK/manifest.yaml"

start=$(date +%s)
echo "build-collector: building (this takes several minutes on 2 cores; log: $WORK/build.log)" >&2
# ocb generates the distribution's sources (main.go, components.go, go.mod). We then
# resolve modules with `go mod tidy -e` instead of letting ocb run a strict tidy: a
# strict tidy also fetches the TEST dependencies of every dependency (e.g.
# collector/extension/zpagesextension, .../telemetrytest), some of which the module
# proxy reachable here does not serve; the binary itself does not need them.
if ! {
  "$BUILDER" --config "$WORK/manifest.yaml" --skip-get-modules --skip-compilation &&
  (cd "$WORK/src" && go mod tidy -e &&
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o otelcol .)
} >"$WORK/build.log" 2>&1; then
  tail -n 40 "$WORK/build.log" >&2
  echo "build-collector: FAILED, see $WORK/build.log" >&2
  exit 1
fi
mkdir -p "$OUT_DIR"
cp "$WORK/src/otelcol" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
cp "$WORK/build.log" "$OUT_DIR/build.log"
cp "$MANIFEST" "$OUT_DIR/builder-config.yaml"
rm -rf "$WORK"
echo "build-collector: built in $(( $(date +%s) - start ))s" >&2
echo "$BIN"
