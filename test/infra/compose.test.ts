/**
 * docker-compose.yml (for users) and scripts/stack.sh (local, tests) must run the
 * same services with the same config files and ports. The single source of ports is
 * otel-collector/ports.env: stack.sh reads it, compose passes it as env_file, and this
 * test checks every other place a port is written down against it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Service {
  image: string;
  command?: string[] | string;
  network_mode?: string;
  env_file?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const ports: Record<string, string> = Object.fromEntries(
  read('otel-collector/ports.env')
    .split('\n')
    .filter((l) => /^[A-Z_]+=\d+$/.test(l))
    .map((l) => l.split('=') as [string, string]),
);
const stackSh = read('scripts/stack.sh');

/** compose service -> stack.sh service name (postgres/redis: the machine's own, used by the sink). */
const STACK_NAME: Record<string, string> = {
  'otel-collector': 'otelcol',
  jaeger: 'jaeger',
  prometheus: 'prometheus',
  alertmanager: 'alertmanager',
  sink: 'sink',
};
/** Config files both must use: repo path -> the compose service mounting it. */
const CONFIG_FILES: Record<string, string> = {
  'otel-collector/config.yaml': 'otel-collector',
  'jaeger/config.yaml': 'jaeger',
  'prometheus/prometheus.yml': 'prometheus',
  'prometheus/alerts.yml': 'prometheus',
  'alertmanager/alertmanager.yml': 'alertmanager',
};

const list = (v: string[] | string | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const cmd = (s: Service) => list(s.command).join(' ');

describe('docker-compose.yml agrees with scripts/stack.sh', () => {
  it('ports.env holds every port', () => {
    for (const k of [
      'OTELCOL_OTLP_GRPC_PORT', 'OTELCOL_OTLP_HTTP_PORT', 'OTELCOL_HEALTH_PORT', 'OTELCOL_METRICS_PORT',
      'OTELCOL_PROMETHEUS_PORT', 'JAEGER_OTLP_GRPC_PORT', 'JAEGER_OTLP_HTTP_PORT', 'JAEGER_QUERY_HTTP_PORT',
      'JAEGER_QUERY_GRPC_PORT', 'JAEGER_HEALTH_PORT', 'JAEGER_METRICS_PORT', 'PROMETHEUS_PORT',
      'ALERTMANAGER_PORT', 'AGENT_METRICS_PORT', 'SINK_PORT',
    ]) expect(ports[k], k).toMatch(/^\d+$/);
    expect(new Set(Object.values(ports)).size, 'ports are distinct').toBe(Object.values(ports).length);
    expect(ports.OTELCOL_OTLP_GRPC_PORT).toBe('4317');
    expect(ports.OTELCOL_OTLP_HTTP_PORT).toBe('4318');
    expect(ports.AGENT_METRICS_PORT).toBe('4319');
    expect(ports.SINK_PORT).toBe('4400');
  });

  it('stack.sh reads its ports from ports.env', () => {
    expect(stackSh).toContain('otel-collector/ports.env');
  });

  it('runs the same services', () => {
    const stackServices = /CLAUDE_OTEL_STACK_SERVICES:-([a-z ]+)\}/.exec(stackSh)?.[1]?.split(' ') ?? [];
    expect(stackServices.sort()).toEqual(Object.values(STACK_NAME).sort());
    expect(Object.keys(compose.services).sort()).toEqual([...Object.keys(STACK_NAME), 'postgres', 'redis'].sort());
    expect(Object.keys(compose.services.sink!.depends_on ?? {}).sort()).toEqual(['postgres', 'redis']);
  });

  it('every service shares the host network (so the configs can say 127.0.0.1)', () => {
    for (const [name, s] of Object.entries(compose.services)) expect(s.network_mode, name).toBe('host');
  });

  it('mounts the very files stack.sh uses, where the command reads them', () => {
    for (const [file, service] of Object.entries(CONFIG_FILES)) {
      expect(stackSh, `stack.sh uses ${file}`).toContain(`$ROOT/${file}`);
      const s = compose.services[service]!;
      const mount = list(s.volumes).find((v) => v.startsWith(`./${file}:`));
      expect(mount, `${service} mounts ${file}`).toBeDefined();
      const target = mount!.split(':')[1]!;
      if (file !== 'prometheus/alerts.yml') expect(cmd(s), `${service} reads ${target}`).toContain(target);
    }
    // alerts.yml sits beside prometheus.yml, which loads it by relative name.
    const prom = compose.services.prometheus!;
    const dir = (f: string) => list(prom.volumes).find((v) => v.startsWith(`./prometheus/${f}:`))!.split(':')[1]!.replace(/\/[^/]+$/, '');
    expect(dir('alerts.yml')).toBe(dir('prometheus.yml'));
    expect(read('prometheus/prometheus.yml')).toMatch(/rule_files:\s*\n\s*- alerts\.yml/);
  });

  it('uses the same versions as the local builds', () => {
    const dist = (parse(read('otel-collector/builder-config.yaml')) as { dist: { version: string } }).dist.version;
    expect(compose.services['otel-collector']!.image).toBe(`otel/opentelemetry-collector-contrib:${dist}`);
    expect(read('scripts/build-collector.sh')).toContain(`OCB_VERSION:-v${dist}`);
    // Jaeger tags v1.N.0 and v2.(N-63).0 together: v1.76.0 = v2.13.0.
    const v1 = /JAEGER_VERSION:-v1\.(\d+)\.(\d+)/.exec(read('scripts/build-jaeger.sh'))!;
    expect(compose.services.jaeger!.image).toBe(`jaegertracing/jaeger:2.${Number(v1[1]) - 63}.${v1[2]}`);
  });

  it('passes ports.env to the collector and Jaeger, and the same ports everywhere else', () => {
    for (const s of ['otel-collector', 'jaeger']) expect(list(compose.services[s]!.env_file)).toContain('otel-collector/ports.env');
    const col = compose.services['otel-collector']!.environment!;
    expect(col.OTELCOL_JAEGER_ENDPOINT).toBe(`127.0.0.1:${ports.JAEGER_OTLP_GRPC_PORT}`);
    expect(col.OTELCOL_SINK_ENDPOINT).toBe(`http://127.0.0.1:${ports.SINK_PORT}`);
    expect(cmd(compose.services.prometheus!)).toContain(`--web.listen-address=127.0.0.1:${ports.PROMETHEUS_PORT}`);
    expect(cmd(compose.services.alertmanager!)).toContain(`--web.listen-address=127.0.0.1:${ports.ALERTMANAGER_PORT}`);
    expect(String(compose.services.sink!.environment!.CLAUDE_OTEL_SINK_PORT)).toBe(ports.SINK_PORT);
    // stack.sh passes the same wiring.
    expect(stackSh).toContain('OTELCOL_JAEGER_ENDPOINT="127.0.0.1:$JAEGER_OTLP_GRPC_PORT"');
    expect(stackSh).toContain('OTELCOL_SINK_ENDPOINT="http://127.0.0.1:$SINK_PORT"');
    expect(stackSh).toContain('--web.listen-address="127.0.0.1:$PROMETHEUS_PORT"');
    expect(stackSh).toContain('--web.listen-address="127.0.0.1:$ALERTMANAGER_PORT"');
  });

  it('gives the collector and the sink the same bearer token, required, never a literal', () => {
    const required = '${CLAUDE_OTEL_SINK_TOKEN:?';
    expect(compose.services['otel-collector']!.environment!.CLAUDE_OTEL_SINK_TOKEN).toMatch(/^\$\{CLAUDE_OTEL_SINK_TOKEN:\?/);
    expect(compose.services['otel-collector']!.environment!.CLAUDE_OTEL_SINK_TOKEN).toBe(compose.services.sink!.environment!.CLAUDE_OTEL_SINK_TOKEN);
    expect(compose.services.sink!.environment!.CLAUDE_OTEL_SINK_TOKEN!.startsWith(required)).toBe(true);
    // The collector sends it to the sink; stack.sh exports one value to both.
    expect(read('otel-collector/config.yaml')).toContain('Authorization: "Bearer ${env:CLAUDE_OTEL_SINK_TOKEN}"');
    expect(stackSh).toMatch(/export CLAUDE_OTEL_SINK_TOKEN/);
  });

  it("the configs' port defaults equal ports.env", () => {
    for (const file of ['otel-collector/config.yaml', 'jaeger/config.yaml']) {
      const defaults = [...read(file).matchAll(/\$\{env:([A-Z_]+_PORT):-(\d+)\}/g)];
      expect(defaults.length, file).toBeGreaterThan(3);
      for (const [, name, value] of defaults) expect(value, `${file} ${name}`).toBe(ports[name!]);
    }
    const col = read('otel-collector/config.yaml');
    expect(col).toContain(`\${env:OTELCOL_JAEGER_ENDPOINT:-127.0.0.1:${ports.JAEGER_OTLP_GRPC_PORT}}`);
    expect(col).toContain(`\${env:OTELCOL_SINK_ENDPOINT:-http://127.0.0.1:${ports.SINK_PORT}}`);
  });

  it('prometheus.yml scrapes and alerts on the ports of ports.env', () => {
    const prom = parse(read('prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    const want: Record<string, string> = {
      'otelcol-spanmetrics': ports.OTELCOL_PROMETHEUS_PORT!,
      otelcol: ports.OTELCOL_METRICS_PORT!,
      'claude-otel-agent': ports.AGENT_METRICS_PORT!,
      'claude-otel-sink': ports.SINK_PORT!,
    };
    expect(prom.scrape_configs.map((s) => s.job_name).sort()).toEqual(Object.keys(want).sort());
    for (const s of prom.scrape_configs) expect(s.static_configs[0]!.targets, s.job_name).toEqual([`127.0.0.1:${want[s.job_name]}`]);
    expect(prom.alerting.alertmanagers[0]!.static_configs[0]!.targets).toEqual([`127.0.0.1:${ports.ALERTMANAGER_PORT}`]);
    // stack.sh rewrites exactly these literals when ports are overridden.
    for (const p of Object.values(want).concat(ports.ALERTMANAGER_PORT!)) expect(stackSh).toContain(`\\"127.0.0.1:${p}\\"`);
  });

  it('docs/collector.md tables every port', () => {
    const doc = read('docs/collector.md');
    for (const [k, v] of Object.entries(ports)) expect(doc, `${k}=${v}`).toMatch(new RegExp(`\\b${v}\\b`));
  });
});
