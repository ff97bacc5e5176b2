/**
 * Processes of the team deployment (issue 13) on loopback, for the infra and e2e tests: gateway and
 * backend collectors (otel-collector/gateway.yaml, backend.yaml; the real binary), sink processes
 * (`node dist/cli.js sink`), Jaeger, and a round-robin TCP balancer standing in for the Kubernetes
 * Service in front of the sinks. Each process can be stopped with a signal and started again with
 * the same ports and state directory.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** The cached binary a build script would print, or undefined when it was not built (nothing is built here). */
export function cachedBinary(script: 'build-collector.sh' | 'build-jaeger.sh'): string | undefined {
  const r = spawnSync('bash', [join(ROOT, 'scripts', script), '--path'], { encoding: 'utf8' });
  const path = r.stdout.trim().split('\n').pop() ?? '';
  return r.status === 0 && existsSync(path) ? path : undefined;
}

/** The binary, built by the script when missing (the script serializes builds with a lock). */
export function buildBinary(script: 'build-collector.sh' | 'build-jaeger.sh'): string {
  const r = spawnSync('bash', [join(ROOT, 'scripts', script)], { encoding: 'utf8', timeout: 40 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const path = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !existsSync(path)) throw new Error(`scripts/${script} produced no binary (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  return path;
}

export interface TestTls {
  ca: string;
  cert: string;
  key: string;
  /** The backend env and gateway env that use them. */
  backendEnv: Record<string, string>;
  gatewayEnv: Record<string, string>;
}

/** A throwaway CA and a server certificate for 127.0.0.1 (openssl), for the gateway → backend hop. */
export function testTls(dir: string): TestTls {
  mkdirSync(dir, { recursive: true });
  const ca = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  const csr = join(dir, 'tls.csr');
  const ext = join(dir, 'san.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', ca, '-days', '2', '-subj', '/CN=claude-otel test CA']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1']);
  run(['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return {
    ca, cert, key,
    backendEnv: { OTELCOL_BACKEND_TLS_CERT: cert, OTELCOL_BACKEND_TLS_KEY: key },
    gatewayEnv: { OTELCOL_BACKEND_CA_FILE: ca },
  };
}

export interface Proc {
  name: string;
  /** Starts (again) with the same arguments, environment and state. Resolves once healthy. */
  start(): Promise<void>;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  log(): string;
  alive(): boolean;
  pid(): number | undefined;
}

async function waitHealthy(name: string, url: string, child: () => ChildProcess | undefined, log: () => string, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = child();
    if (!c || c.exitCode !== null) throw new Error(`${name} exited before it was healthy:\n${log().slice(-4000)}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${name} not healthy after ${timeoutMs} ms:\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function processOf(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, healthUrl: string): Proc {
  let child: ChildProcess | undefined;
  let text = '';
  return {
    name,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) throw new Error(`${name} already running`);
      text += `--- start ${new Date().toISOString()}\n`;
      child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const keep = (d: Buffer) => (text = (text + d.toString()).slice(-400_000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      await waitHealthy(name, healthUrl, () => child, () => text);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill(signal);
      const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
    log: () => text,
    alive: () => !!child && child.exitCode === null && child.signalCode === null,
    pid: () => child?.pid,
  };
}

export interface Collector extends Proc {
  /** OTLP/HTTP (gateway) or OTLP/gRPC (backend) port. */
  port: number;
  metricsPort: number;
  prometheusPort: number;
  storageDir: string;
}

export async function collector(
  bin: string,
  role: 'gateway' | 'backend',
  name: string,
  stateDir: string,
  env: Record<string, string>,
): Promise<Collector> {
  const port = await freePort();
  const healthPort = await freePort();
  const metricsPort = await freePort();
  const prometheusPort = await freePort();
  const storageDir = join(stateDir, name);
  mkdirSync(storageDir, { recursive: true });
  const fullEnv = {
    OTELCOL_LISTEN_HOST: '127.0.0.1',
    OTELCOL_STORAGE_DIR: storageDir,
    OTELCOL_HEALTH_PORT: String(healthPort),
    OTELCOL_METRICS_PORT: String(metricsPort),
    OTELCOL_PROMETHEUS_PORT: String(prometheusPort),
    [role === 'gateway' ? 'OTELCOL_OTLP_HTTP_PORT' : 'OTELCOL_OTLP_GRPC_PORT']: String(port),
    ...env,
  };
  const config = join(ROOT, 'otel-collector', `${role}.yaml`);
  const proc = processOf(name, bin, ['--config', config], fullEnv, `http://127.0.0.1:${healthPort}/`);
  return { ...proc, port, metricsPort, prometheusPort, storageDir };
}

export interface SinkProc extends Proc {
  port: number;
}

/** A `claude-otel sink` process from dist/cli.js with its config in a file. */
export async function sinkProcess(name: string, stateDir: string, config: Record<string, unknown>): Promise<SinkProc> {
  const port = await freePort();
  const file = join(stateDir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ ...config, listen: { host: '127.0.0.1', port } }), { mode: 0o600 });
  const proc = processOf(name, process.execPath, [join(ROOT, 'dist', 'cli.js'), 'sink', '--config', file], {}, `http://127.0.0.1:${port}/healthz`);
  return { ...proc, port };
}

export async function jaegerProcess(bin: string): Promise<Proc & { grpcPort: number; queryPort: number }> {
  const ports = {
    JAEGER_OTLP_GRPC_PORT: await freePort(),
    JAEGER_OTLP_HTTP_PORT: await freePort(),
    JAEGER_QUERY_HTTP_PORT: await freePort(),
    JAEGER_QUERY_GRPC_PORT: await freePort(),
    JAEGER_HEALTH_PORT: await freePort(),
    JAEGER_METRICS_PORT: await freePort(),
  };
  const env = { JAEGER_LISTEN_HOST: '127.0.0.1', ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  const proc = processOf('jaeger', bin, ['--config', join(ROOT, 'jaeger/config.yaml')], env, `http://127.0.0.1:${ports.JAEGER_HEALTH_PORT}/status`);
  return { ...proc, grpcPort: ports.JAEGER_OTLP_GRPC_PORT, queryPort: ports.JAEGER_QUERY_HTTP_PORT };
}

export interface Balancer {
  port: number;
  connections: number[];
  close(): Promise<void>;
}

/**
 * Round-robin TCP balancer over `upstreams` (what a Kubernetes Service does for the sink pods): a
 * connection goes to the next upstream that accepts it; a refused upstream is skipped, the way a
 * Service drops a pod that is not ready.
 */
export async function startBalancer(upstreams: number[]): Promise<Balancer> {
  let next = 0;
  const connections = upstreams.map(() => 0);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.pause();
    const tryFrom = (tries: number) => {
      if (tries >= upstreams.length) return client.destroy();
      const i = next++ % upstreams.length;
      const up = connect(upstreams[i]!, '127.0.0.1');
      let connected = false;
      up.once('connect', () => {
        connected = true;
        connections[i]!++;
        sockets.add(up);
        up.on('close', () => sockets.delete(up));
        client.pipe(up).pipe(client);
        client.resume();
        up.on('error', () => client.destroy());
        client.on('error', () => up.destroy());
        up.on('close', () => client.destroy());
        client.on('close', () => up.destroy());
      });
      up.once('error', () => {
        if (!connected) tryFrom(tries + 1);
      });
    };
    tryFrom(0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Sum of every series of a Prometheus counter in an exposition text. */
export function counterSum(text: string, name: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (match && !line.includes(match)) continue;
    sum += Number(line.trim().split(' ').pop());
  }
  return sum;
}

/**
 * A counter summed over restarts, as Prometheus' increase() sees it: scraped every `everyMs`; a
 * value lower than the previous one is a reset, and `restarted(url)` (called by the test when it
 * restarts that process) makes the next value count from zero however high it already is.
 */
export function counterTracker(urls: () => string[], name: string, everyMs = 300) {
  const last = new Map<string, number>();
  let total = 0;
  let stopped = false;
  let loop: Promise<void> | undefined;
  const scrape = async () => {
    for (const url of urls()) {
      let text: string;
      try {
        text = await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).text();
      } catch {
        continue; // down (restarting): nothing to see
      }
      const v = counterSum(text, name);
      const prev = last.get(url) ?? 0;
      total += v >= prev ? v - prev : v;
      last.set(url, v);
    }
  };
  return {
    start() {
      loop = (async () => {
        while (!stopped) {
          await scrape();
          await new Promise((r) => setTimeout(r, everyMs));
        }
      })();
    },
    scrape,
    restarted(url: string) {
      last.set(url, 0);
    },
    total: () => total,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
