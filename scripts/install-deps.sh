#!/usr/bin/env bash
# Install the Debian packages the local observability stack and the infra tests
# need: Prometheus (prometheus, promtool) and Alertmanager (prometheus-alertmanager,
# amtool), and Debian's Chromium for the web view's browser tests (test/e2e/ui.test.ts
# drives /usr/bin/chromium with playwright-core; no browser download). Idempotent and quiet: does nothing when the tools are already there.
#
#   sudo bash scripts/install-deps.sh     (root on CI / the dev machines)
#
# The collector and Jaeger are NOT installed from packages: they are built from Go
# modules by scripts/build-collector.sh and scripts/build-jaeger.sh.
set -euo pipefail

need=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
[[ -x /usr/bin/chromium ]] || need+=(chromium)

if [[ ${#need[@]} -eq 0 ]]; then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

echo "install-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The packages ship init scripts; there is no init system to start them here and
# the stack starts its own instances, so keep the package scripts from starting
# daemons (exit 101 = "action not allowed" for invoke-rc.d).
created_policy=0
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if [[ $created_policy -eq 1 ]]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

# Kill any daemon a postinst may have started anyway (only the packaged ones,
# matched by their exact pid files/paths, never by a broad name).
for p in /run/prometheus/prometheus.pid /run/prometheus/prometheus-alertmanager.pid; do
  if [[ -s $p ]]; then $SUDO kill "$(cat "$p")" 2>/dev/null || true; fi
done

command -v promtool >/dev/null && command -v amtool >/dev/null && [[ -x /usr/bin/chromium ]] || {
  echo "install-deps: promtool/amtool/chromium still missing after install" >&2
  exit 1
}
