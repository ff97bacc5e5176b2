#!/usr/bin/env bash
# Hook-cost and agent-load benchmarks; writes docs/benchmarks-hooks.md.
#   bash scripts/bench.sh            # full: 9 rounds × 6 configurations, 100k-event load ×2 + a profiled round
#   bash scripts/bench.sh --quick    # smoke: 1 round, 20k events, no profile (the doc says so)
# Knobs (env): HOOK_TOOLS (30) HOOK_ROUNDS (9) LOAD_EVENTS (100000) LOAD_SECONDS (30) LOAD_CONCURRENCY (32)
#              LOAD_ROUNDS (2) LOAD_PROFILE (production) BENCH_OUT (.tmp/bench) BENCH_DOC (docs/benchmarks-hooks.md)
#              LOAD_TRANSCRIPTS (0; 1 = agent-load --transcripts: a third target per round, the agent reading real
#              transcripts, and the profiled round reads them too)
# Every figure is also a ratio to a baseline measured in the same run (the machine is shared and noisy).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
out=${BENCH_OUT:-.tmp/bench}
doc=${BENCH_DOC:-docs/benchmarks-hooks.md}
mkdir -p "$out"

tsc="node node_modules/typescript/bin/tsc"
echo "== build" >&2
$tsc -p tsconfig.build.json
# tsc emits even when a file elsewhere in the tree has a type error; the bench needs only its own files
$tsc -p bench/hook-cost/tsconfig.json || true
for f in .tmp/build/bench/hook-cost/run.js .tmp/build/bench/agent-load/run.js .tmp/build/bench/hook-cost/report.js; do
  [ -f "$f" ] || { echo "bench: $f was not built" >&2; exit 1; }
done

if [ "$quick" = 1 ]; then
  hook_args=(--tools "${HOOK_TOOLS:-20}" --rounds 1 --samples 40 --cold 2)
  load_args=(--events 20000 --seconds 10 --rounds 1)
else
  hook_args=(--tools "${HOOK_TOOLS:-30}" --rounds "${HOOK_ROUNDS:-9}" --samples 300 --cold 5)
  load_args=(--events "${LOAD_EVENTS:-100000}" --seconds "${LOAD_SECONDS:-30}" --rounds "${LOAD_ROUNDS:-2}" --cpu-prof)
fi
load_args+=(--concurrency "${LOAD_CONCURRENCY:-32}" --profile "${LOAD_PROFILE:-production}")
if [ "${LOAD_TRANSCRIPTS:-0}" = 1 ]; then load_args+=(--transcripts); fi

echo "== hook cost (real Claude Code CLI, scripted model)" >&2
node .tmp/build/bench/hook-cost/run.js "${hook_args[@]}" --out "$out/hook-cost.json" >/dev/null
echo "== agent load" >&2
node .tmp/build/bench/agent-load/run.js "${load_args[@]}" --out "$out/agent-load.json" >/dev/null
echo "== report" >&2
node .tmp/build/bench/hook-cost/report.js --hook "$out/hook-cost.json" --load "$out/agent-load.json" --out "$doc" \
  --command "bash scripts/bench.sh${1:+ $1}"
echo "wrote $doc (raw: $out/hook-cost.json, $out/agent-load.json)" >&2
