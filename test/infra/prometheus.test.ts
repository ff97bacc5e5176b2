/**
 * Prometheus and Alertmanager configs with the real tools (Debian packages
 * prometheus, prometheus-alertmanager; `bash scripts/install-deps.sh`):
 * promtool check config / check rules / test rules, amtool check-config.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

function tool(name: string, args: string[]) {
  const r = spawnSync(name, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`${name} is not installed: run 'bash scripts/install-deps.sh' (Debian prometheus / prometheus-alertmanager)`);
  }
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe('prometheus and alertmanager configs', () => {
  it('promtool check config prometheus/prometheus.yml (and its rule files)', () => {
    const r = tool('promtool', ['check', 'config', 'prometheus/prometheus.yml']);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.ok).toBe(true);
  });

  it('promtool check rules prometheus/alerts.yml', () => {
    const r = tool('promtool', ['check', 'rules', 'prometheus/alerts.yml']);
    expect(r.ok, r.out).toBe(true);
  });

  it('promtool test rules: every rule fires and stays silent in the unit tests', () => {
    const r = tool('promtool', ['test', 'rules', 'prometheus/alerts.test.yml']);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.ok, r.out).toBe(true);
  });

  it('every alert rule has a firing and a non-firing unit test', () => {
    const rules = (parse(readFileSync(join(ROOT, 'prometheus/alerts.yml'), 'utf8')) as {
      groups: { rules: { alert: string }[] }[];
    }).groups.flatMap((g) => g.rules.map((r) => r.alert));
    const tests = (parse(readFileSync(join(ROOT, 'prometheus/alerts.test.yml'), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
    }).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of rules) {
      const mine = tests.filter((t) => t.alertname === alert);
      expect(mine.some((t) => (t.exp_alerts ?? []).length > 0), `${alert} firing`).toBe(true);
      expect(mine.some((t) => (t.exp_alerts ?? []).length === 0), `${alert} not firing`).toBe(true);
    }
    expect(rules).toEqual(
      expect.arrayContaining([
        'ClaudeToolErrorRateHigh', 'ClaudeToolLatencyP95High', 'ClaudeTurnLatencyHigh', 'ClaudeSessionsEndingInErrors',
        'ClaudeOtelExportFailing', 'ClaudeOtelEventsRejected', 'ClaudeOtelSpoolBacklog',
        'OtelcolExporterSendFailed', 'OtelcolExporterQueueFilling', 'SpanMetricsAbsent',
      ]),
    );
  });

  it('promtool test rules fails when a threshold is changed (the tests bite)', () => {
    const r = spawnSync(
      'bash',
      ['-c', `d=$(mktemp -d) && sed 's/) > 0.2$/) > 0.5/' prometheus/alerts.yml > "$d/alerts.yml" && cp prometheus/alerts.test.yml "$d/" && promtool test rules "$d/alerts.test.yml"; rc=$?; rm -rf "$d"; exit $rc`],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/ClaudeToolErrorRateHigh/);
  });

  it('amtool check-config alertmanager/alertmanager.yml', () => {
    const r = tool('amtool', ['check-config', 'alertmanager/alertmanager.yml']);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.ok).toBe(true);
  });
});
