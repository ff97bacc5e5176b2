#!/usr/bin/env bash
# The main job on the embedded default (no collector, no services): installs the node modules if
# needed, builds, then replays a real recorded Claude Code session through the hook path and prints
# the trace as a terminal waterfall.   bash scripts/demo.sh [--keep]   (npm run demo does the same)
set -euo pipefail
cd "$(dirname "$0")/.."
lock=$(sha256sum package-lock.json | cut -c1-64)
if [[ "$(cat node_modules/.installed-lock 2>/dev/null)" != "$lock" ]]; then
  echo "installing node modules (once)..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock" >node_modules/.installed-lock
fi
npm run --silent build >&2
exec node dist/cli.js demo "$@"
