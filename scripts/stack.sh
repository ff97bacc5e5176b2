#!/usr/bin/env bash
# Local observability stack for claude-otel-bridge, without Docker:
#   Jaeger (built from Go modules), the OpenTelemetry Collector (built with ocb),
#   Prometheus and Alertmanager (Debian packages), and the sink service
#   (`node dist/cli.js sink`, only if dist/cli.js exists).
#
#   bash scripts/stack.sh up [FLAGS]      # build/locate, start what is not running, health-check, print URLs
#   bash scripts/stack.sh status [FLAGS]  # what runs, and whether it is healthy
#   bash scripts/stack.sh down [FLAGS]    # stop what `up` started (pid files), nothing else
#
# With nothing set, `up` wires the whole fan-out: the sink writes to the PostgreSQL and Redis it
# finds on this machine (`claude-otel sink discover`: 127.0.0.1:5432 or the local socket as the
# current user, database claude_otel, created if absent; 127.0.0.1:6379), or says which it did not
# find and how to point it there.
#
# Flags (all commands take --state-dir and --ports; the others are for up):
#   --state-dir DIR       state (pid files, logs, rendered configs, queues, TSDB); default
#                         $CLAUDE_OTEL_STACK_DIR, else /tmp/claude-otel-stack
#   --ports FILE          KEY=VALUE lines as in otel-collector/ports.env, over the defaults; `up`
#                         keeps the ports it used in DIR/ports.env for later commands
#   --postgres-db NAME    the sink's database when discovered (default claude_otel)
#   --redis-prefix P      the sink's Redis key prefix (default claude-otel:v1)
#   --postgres-url URL / --redis-url URL   use these instead of looking (also
#                         CLAUDE_OTEL_SINK_POSTGRES_URL / CLAUDE_OTEL_SINK_REDIS_URL)
# Ports come from otel-collector/ports.env (the same file docker-compose.yml uses), then
# DIR/ports.env, then the environment, then --ports (the tests use free ports).
# Other knobs:
#   CLAUDE_OTEL_STACK_SERVICES   which services, default "jaeger otelcol prometheus alertmanager sink"
#   OTELCOL_BIN / JAEGER_BIN     use these binaries instead of scripts/build-*.sh
#   PROMETHEUS_BIN / ALERTMANAGER_BIN   default: prometheus / prometheus-alertmanager on PATH
#   CLAUDE_OTEL_STACK_RULES      alert rule file for Prometheus (default prometheus/alerts.yml)
#   PROMETHEUS_SCRAPE_INTERVAL / PROMETHEUS_EVAL_INTERVAL   default 15s
#   ALERT_WEBHOOK_URL            replaces the placeholder URL in alertmanager/alertmanager.yml
#   ALERTMANAGER_GROUP_WAIT      overrides route.group_wait (tests use 1s)
#   CLAUDE_OTEL_STACK_TIMEOUT    seconds to wait for each health check (default 60)
#   CLAUDE_OTEL_SINK_CONFIG      a sink config file of your own: used as is, nothing is discovered
#   CLAUDE_OTEL_SINK_TOKEN       bearer token the collector sends to the sink and the sink requires;
#                                default: the one in $CLAUDE_OTEL_STACK_DIR/sink.token, generated
#                                (mode 600) on the first `up`. Both get the same value, by env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "stack: $*" >&2; }
usage() { echo "usage: $0 up|down|status [--state-dir DIR] [--ports FILE] [--postgres-db NAME] [--redis-prefix P] [--postgres-url URL] [--redis-url URL]" >&2; exit 2; }

CMD="${1:-}"; [[ $# -gt 0 ]] && shift
STATE="${CLAUDE_OTEL_STACK_DIR:-/tmp/claude-otel-stack}"
PORTS_FILE=""
DISCOVER_ARGS=()
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 && -n "$2" ]] || { log "$1 needs a value"; usage; }
  case "$1" in
    --state-dir) STATE="$2" ;;
    --ports) PORTS_FILE="$2"; [[ -r "$PORTS_FILE" ]] || { log "cannot read $PORTS_FILE"; exit 2; } ;;
    --postgres-db|--redis-prefix|--postgres-url|--redis-url) DISCOVER_ARGS+=("$1" "$2") ;;
    *) log "unknown flag $1"; usage ;;
  esac
  shift 2
done
SERVICES="${CLAUDE_OTEL_STACK_SERVICES:-jaeger otelcol prometheus alertmanager sink}"
TIMEOUT="${CLAUDE_OTEL_STACK_TIMEOUT:-60}"

# Ports: ports.env < DIR/ports.env (what the last `up` used) < environment < --ports.
declare -A PORT_VALUES=()
read_ports() {
  local key value
  while IFS='=' read -r key value; do
    [[ -z "$key" || "$key" == \#* ]] && continue
    [[ "$key" =~ ^[A-Z_]+_PORT$ && "$value" =~ ^[0-9]+$ ]] || { log "$1: not a port line: $key=$value"; exit 2; }
    PORT_VALUES[$key]="$value"
  done <"$1"
}
read_ports "$ROOT/otel-collector/ports.env"
if [[ -r "$STATE/ports.env" ]]; then read_ports "$STATE/ports.env"; fi
for key in "${!PORT_VALUES[@]}"; do
  if [[ -n "${!key:-}" ]]; then PORT_VALUES[$key]="${!key}"; fi
done
if [[ -n "$PORTS_FILE" ]]; then read_ports "$PORTS_FILE"; fi
for key in "${!PORT_VALUES[@]}"; do export "$key=${PORT_VALUES[$key]}"; done

save_ports() {
  local key
  for key in $(printf '%s\n' "${!PORT_VALUES[@]}" | sort); do echo "$key=${PORT_VALUES[$key]}"; done >"$STATE/ports.env"
}

wanted() { [[ " $SERVICES " == *" $1 "* ]]; }

pidfile() { echo "$STATE/pids/$1.pid"; }

# Running = pid file present, process alive, and its command line still mentions our
# state dir or binary (guards against a recycled pid).
running() {
  local f; f="$(pidfile "$1")"
  [[ -s "$f" ]] || return 1
  local pid; pid="$(cat "$f")"
  [[ -r /proc/$pid/cmdline ]] || return 1
  local marker; marker="$(cat "$f.marker" 2>/dev/null || true)"
  [[ -z "$marker" ]] || tr '\0' ' ' </proc/"$pid"/cmdline | grep -qF -- "$marker"
}

health_url() {
  case "$1" in
    jaeger) echo "http://127.0.0.1:$JAEGER_HEALTH_PORT/status" ;;
    otelcol) echo "http://127.0.0.1:$OTELCOL_HEALTH_PORT/" ;;
    prometheus) echo "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" ;;
    alertmanager) echo "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" ;;
    sink) echo "http://127.0.0.1:$SINK_PORT/healthz" ;;
  esac
}

healthy() { curl -fsS -o /dev/null --max-time 2 "$(health_url "$1")" 2>/dev/null; }

wait_healthy() {
  local name="$1" deadline=$((SECONDS + TIMEOUT))
  until healthy "$name"; do
    if ! running "$name"; then
      log "$name exited; last log lines ($STATE/logs/$name.log):"
      tail -n 30 "$STATE/logs/$name.log" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$name not healthy after ${TIMEOUT}s at $(health_url "$name"); last log lines:"
      tail -n 30 "$STATE/logs/$name.log" >&2 || true
      return 1
    fi
    sleep 0.3
  done
}

# start NAME MARKER CMD... : runs CMD in its own session, logs to $STATE/logs/NAME.log
start() {
  local name="$1" marker="$2"; shift 2
  if running "$name"; then log "$name already running (pid $(cat "$(pidfile "$name")"))"; return 0; fi
  mkdir -p "$STATE/logs" "$STATE/pids"
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
  echo "$marker" >"$(pidfile "$name").marker"
  log "$name started (pid $!)"
}

need_bin() {
  command -v "$1" >/dev/null 2>&1 || {
    log "$1 not found: run 'bash scripts/install-deps.sh' (Debian packages prometheus, prometheus-alertmanager)"
    exit 1
  }
}

render_prometheus() {
  local rules="${CLAUDE_OTEL_STACK_RULES:-$ROOT/prometheus/alerts.yml}"
  mkdir -p "$STATE/prometheus"
  cp "$rules" "$STATE/prometheus/alerts.yml"
  cp "$ROOT/prometheus/model-calls-alerts.yml" "$STATE/prometheus/" # model calls, tokens, cost (issue 11)
  sed -e "s#\"127.0.0.1:9093\"#\"127.0.0.1:$ALERTMANAGER_PORT\"#" \
      -e "s#\"127.0.0.1:8889\"#\"127.0.0.1:$OTELCOL_PROMETHEUS_PORT\"#" \
      -e "s#\"127.0.0.1:8888\"#\"127.0.0.1:$OTELCOL_METRICS_PORT\"#" \
      -e "s#\"127.0.0.1:4319\"#\"127.0.0.1:$AGENT_METRICS_PORT\"#" \
      -e "s#\"127.0.0.1:4400\"#\"127.0.0.1:$SINK_PORT\"#" \
      -e "s#^\(  scrape_interval:\).*#\1 ${PROMETHEUS_SCRAPE_INTERVAL:-15s}#" \
      -e "s#^\(  evaluation_interval:\).*#\1 ${PROMETHEUS_EVAL_INTERVAL:-15s}#" \
      "$ROOT/prometheus/prometheus.yml" >"$STATE/prometheus/prometheus.yml"
}

render_alertmanager() {
  mkdir -p "$STATE/alertmanager"
  local url="${ALERT_WEBHOOK_URL:-http://127.0.0.1:5001/claude-otel-alerts}"
  sed -e "s#http://127.0.0.1:5001/claude-otel-alerts#$url#" \
      ${ALERTMANAGER_GROUP_WAIT:+-e "s#^\(  group_wait:\).*#\1 $ALERTMANAGER_GROUP_WAIT#"} \
      "$ROOT/alertmanager/alertmanager.yml" >"$STATE/alertmanager/alertmanager.yml"
}

# The sink's bearer token: from the environment, else the stack's own file (made once, mode 600).
sink_token() {
  if [[ -n "${CLAUDE_OTEL_SINK_TOKEN:-}" ]]; then export CLAUDE_OTEL_SINK_TOKEN; return 0; fi
  local f="$STATE/sink.token"
  if [[ ! -s "$f" ]]; then
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$f.tmp" && mv "$f.tmp" "$f")
    log "generated a sink token in $f"
  fi
  CLAUDE_OTEL_SINK_TOKEN="$(cat "$f")"
  # Exported, not put on a command line (argv is readable by every local user): the collector
  # and the sink inherit it.
  export CLAUDE_OTEL_SINK_TOKEN
}

# The CLI the sink runs from: the checkout's build, else the bundled plugin (a clone without a build).
sink_cli() {
  if [[ -f "$ROOT/dist/cli.js" ]]; then echo "$ROOT/dist/cli.js"
  elif [[ -f "$ROOT/plugin/claude-otel/dist/cli.js" ]]; then echo "$ROOT/plugin/claude-otel/dist/cli.js"
  fi
}

# Where the sink writes: CLAUDE_OTEL_SINK_CONFIG if set, else what `sink discover` finds on this
# machine (DIR/sink.json; what it found or missed is in DIR/sink.discovery, printed by the summary).
sink_config() {
  if [[ -n "${CLAUDE_OTEL_SINK_CONFIG:-}" ]]; then
    echo "config $CLAUDE_OTEL_SINK_CONFIG (CLAUDE_OTEL_SINK_CONFIG; nothing discovered)" >"$STATE/sink.discovery"
    echo "$CLAUDE_OTEL_SINK_CONFIG" >"$STATE/sink.config-path"
    return 0
  fi
  if ! node "$1" sink discover --write "$STATE/sink.json" ${DISCOVER_ARGS[@]+"${DISCOVER_ARGS[@]}"} >"$STATE/sink.discovery.tmp"; then
    log "sink discover failed:"; cat "$STATE/sink.discovery.tmp" >&2; exit 1
  fi
  mv "$STATE/sink.discovery.tmp" "$STATE/sink.discovery"
  echo "$STATE/sink.json" >"$STATE/sink.config-path"
  sed 's/^/stack: sink /' "$STATE/sink.discovery" >&2
}

up() {
  mkdir -p "$STATE"
  save_ports
  if wanted otelcol || wanted sink; then sink_token; fi
  local started=()
  if wanted jaeger; then
    local jbin="${JAEGER_BIN:-$(bash "$ROOT/scripts/build-jaeger.sh")}"
    [[ -x "$jbin" ]] || { log "jaeger binary missing: $jbin"; exit 1; }
    start jaeger "$ROOT/jaeger/config.yaml" env JAEGER_LISTEN_HOST=127.0.0.1 \
      "$jbin" --config "$ROOT/jaeger/config.yaml"
    started+=(jaeger)
  fi
  if wanted otelcol; then
    local obin="${OTELCOL_BIN:-$(bash "$ROOT/scripts/build-collector.sh")}"
    [[ -x "$obin" ]] || { log "collector binary missing: $obin"; exit 1; }
    mkdir -p "$STATE/otelcol/storage"
    start otelcol "$ROOT/otel-collector/config.yaml" env \
      OTELCOL_LISTEN_HOST=127.0.0.1 \
      OTELCOL_STORAGE_DIR="$STATE/otelcol/storage" \
      OTELCOL_JAEGER_ENDPOINT="127.0.0.1:$JAEGER_OTLP_GRPC_PORT" \
      OTELCOL_SINK_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
      "$obin" --config "$ROOT/otel-collector/config.yaml"
    started+=(otelcol)
  fi
  if wanted prometheus; then
    local pbin="${PROMETHEUS_BIN:-prometheus}"; need_bin "$pbin"
    running prometheus || render_prometheus
    start prometheus "$STATE/prometheus/prometheus.yml" "$pbin" \
      --config.file="$STATE/prometheus/prometheus.yml" \
      --storage.tsdb.path="$STATE/prometheus/data" \
      --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
      --web.enable-lifecycle
    started+=(prometheus)
  fi
  if wanted alertmanager; then
    local abin="${ALERTMANAGER_BIN:-prometheus-alertmanager}"; need_bin "$abin"
    running alertmanager || render_alertmanager
    start alertmanager "$STATE/alertmanager/alertmanager.yml" "$abin" \
      --config.file="$STATE/alertmanager/alertmanager.yml" \
      --storage.path="$STATE/alertmanager/data" \
      --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" \
      --cluster.listen-address=
    started+=(alertmanager)
  fi
  if wanted sink; then
    local cli; cli="$(sink_cli)"
    if [[ -n "$cli" ]]; then
      running sink || sink_config "$cli"
      start sink "$cli" env CLAUDE_OTEL_SINK_HOST=127.0.0.1 CLAUDE_OTEL_SINK_PORT="$SINK_PORT" \
        node "$cli" sink --config "$(cat "$STATE/sink.config-path")"
      started+=(sink)
    else
      log "sink skipped: neither $ROOT/dist/cli.js (npm run build) nor the plugin bundle $ROOT/plugin/claude-otel/dist/cli.js is there"
    fi
  fi
  local s
  for s in "${started[@]}"; do wait_healthy "$s"; done
  summary
}

# The web view's flags for the sink's destinations (read from the sink's config file).
ui_hint() {
  local cfg; cfg="$(cat "$STATE/sink.config-path" 2>/dev/null || true)"
  [[ -n "$cfg" && -r "$cfg" ]] || return 0
  node -e '
    let c; try { c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { process.exit(0); }
    if (!c.postgres?.url) process.exit(0);
    const q = (s) => (/^[A-Za-z0-9_@%+=:,.\/-]+$/.test(s) ? s : JSON.stringify(s));
    const redis = c.redis?.url ? ` --redis ${q(c.redis.url)}${c.redis.keyPrefix ? ` --redis-prefix ${q(c.redis.keyPrefix)}` : ""}` : "";
    console.log(`--source team --postgres ${q(c.postgres.url)}${redis}`);
  ' "$cfg" 2>/dev/null || true
}

summary() {
  local cli team ui
  cli="$(sink_cli)"
  if command -v claude-otel >/dev/null 2>&1; then ui="claude-otel ui"; else ui="node ${cli:-dist/cli.js} ui"; fi
  team="$(ui_hint)"
  cat <<EOF
claude-otel-bridge stack (state: $STATE)
  collector   OTLP gRPC 127.0.0.1:$OTELCOL_OTLP_GRPC_PORT  OTLP HTTP http://127.0.0.1:$OTELCOL_OTLP_HTTP_PORT
              health http://127.0.0.1:$OTELCOL_HEALTH_PORT/  span metrics http://127.0.0.1:$OTELCOL_PROMETHEUS_PORT/metrics  own metrics http://127.0.0.1:$OTELCOL_METRICS_PORT/metrics
  jaeger      traces http://127.0.0.1:$JAEGER_QUERY_HTTP_PORT/api/traces?service=claude-code  (a build from Go modules has no UI; the compose image has it)
              OTLP in 127.0.0.1:$JAEGER_OTLP_GRPC_PORT (gRPC) / $JAEGER_OTLP_HTTP_PORT (HTTP)
  prometheus  http://127.0.0.1:$PROMETHEUS_PORT/  (alerts: /alerts)
  alertmanager http://127.0.0.1:$ALERTMANAGER_PORT/
  sink        http://127.0.0.1:$SINK_PORT/healthz  (token: \$CLAUDE_OTEL_SINK_TOKEN or $STATE/sink.token)
EOF
  if wanted sink && [[ -r "$STATE/sink.discovery" ]]; then sed 's/^/              /' "$STATE/sink.discovery"; fi
  cat <<EOF
  logs        $STATE/logs/
  web view    $ui --jaeger-url http://127.0.0.1:$JAEGER_QUERY_HTTP_PORT   (your sessions, from the local store)
EOF
  if wanted sink && [[ -n "$team" ]]; then echo "              $ui $team   (everyone's, from the sink)"; fi
  cat <<EOF
  send here   the agent exports to the collector with export.otlpEndpoint = http://127.0.0.1:$OTELCOL_OTLP_HTTP_PORT
              in \$CLAUDE_OTEL_HOME/config.json (default ~/.claude-otel), or OTEL_EXPORTER_OTLP_ENDPOINT for \`claude-otel agent\`
EOF
}

status() {
  local s rc=0
  for s in jaeger otelcol prometheus alertmanager sink; do
    if running "$s"; then
      if healthy "$s"; then echo "$s: running, healthy (pid $(cat "$(pidfile "$s")"))"
      else echo "$s: running, NOT healthy (pid $(cat "$(pidfile "$s")"))"; rc=1; fi
    else
      echo "$s: stopped"
    fi
  done
  return $rc
}

down() {
  local s pid
  for s in sink alertmanager prometheus otelcol jaeger; do
    if running "$s"; then
      pid="$(cat "$(pidfile "$s")")"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
      log "$s stopped (pid $pid)"
    fi
    rm -f "$(pidfile "$s")" "$(pidfile "$s").marker"
  done
}

case "$CMD" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) usage ;;
esac
