/**
 * A real OpenTelemetry Collector (scripts/build-collector.sh) as a gateway for export tests: an
 * OTLP/HTTP receiver configured by the test (TLS, client CA, authenticator) whose traces go to a
 * file exporter; `spans()` reads what it wrote. Also a test CA made with openssl.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The collector binary: OTELCOL_BIN if set (e.g. a build with more components), else this branch's build. */
export function collectorBinary(): string {
  if (process.env.OTELCOL_BIN) return process.env.OTELCOL_BIN;
  const run = spawnSync('bash', [join(ROOT, 'scripts/build-collector.sh')], { encoding: 'utf8', timeout: 3_600_000 });
  if (run.status !== 0) throw new Error(`build-collector.sh failed: ${run.stderr.slice(-2000)}`);
  return run.stdout.trim().split('\n').pop()!;
}

/** Component names the binary was built with (`otelcol components`). */
export function builtComponents(bin: string): string {
  return execFileSync(bin, ['components'], { encoding: 'utf8' });
}

export interface GatewayOptions {
  port: number;
  /** YAML lines under `receivers.otlp.protocols.http` besides the endpoint (indented by the caller's 8 spaces). */
  http?: string[];
  /** Extra top-level `extensions:` entries and their names for `service.extensions`. */
  extensions?: { yaml: string[]; names: string[] };
}

export interface Gateway {
  url: string;
  /** Spans the collector wrote, by span id (hex), each with how often it arrived. */
  spans(): { spanId: string; name: string; attributes: Record<string, unknown> }[];
  stop(): Promise<void>;
  log(): string;
}

const waitPort = async (port: number, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`collector did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

type Kv = { key: string; value: Record<string, unknown> };

export async function startGateway(bin: string, options: GatewayOptions, dir = mkdtempSync(join(tmpdir(), 'cob-gateway-'))): Promise<Gateway> {
  const out = join(dir, 'traces.jsonl');
  const yaml = [
    ...(options.extensions ? ['extensions:', ...options.extensions.yaml] : []),
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 127.0.0.1:${options.port}`,
    ...(options.http ?? []),
    'exporters:',
    '  file:',
    `    path: ${out}`,
    '    flush_interval: 100ms',
    'service:',
    ...(options.extensions ? [`  extensions: [${options.extensions.names.join(', ')}]`] : []),
    '  telemetry:',
    '    metrics:',
    '      level: none',
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      exporters: [file]',
  ].join('\n');
  const config = join(dir, `gateway-${options.port}.yaml`);
  writeFileSync(config, `${yaml}\n`);
  let log = '';
  const child: ChildProcess = spawn(bin, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await waitPort(options.port, 20_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}: ${log.slice(-2000)}`);
  }
  return {
    url: `127.0.0.1:${options.port}`,
    log: () => log,
    spans() {
      if (!existsSync(out)) return [];
      const spans: { spanId: string; name: string; attributes: Record<string, unknown> }[] = [];
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const req = JSON.parse(line) as { resourceSpans?: { scopeSpans?: { spans?: { spanId: string; name: string; attributes?: Kv[] }[] }[] }[] };
        for (const rs of req.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({ spanId: s.spanId, name: s.name, attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]])) });
            }
          }
        }
      }
      return spans;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
export function makeTestCa(dir = mkdtempSync(join(tmpdir(), 'cob-ca-'))) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const p = (name: string) => join(dir, name);
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=claude-otel test CA');
  writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'developer-laptop']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  return { dir, ca: p('ca.pem'), serverCert: p('server.pem'), serverKey: p('server.key'), clientCert: p('client.pem'), clientKey: p('client.key') };
}
