/**
 * Team tier throughput: spans/s from OTLP/HTTP posts at the gateways to rows in PostgreSQL, through
 * gateway.yaml → backend.yaml → `claude-otel sink`, with 1 or 2 replicas at each tier, and the
 * collectors' CPU seconds per 1,000 spans (utime+stime from /proc), and the freshness under that
 * load: per session, from the start of its POST at a gateway to the last of its spans written in
 * PostgreSQL (`ingested_at`, the row's transaction time; same clock), p50 / p95 / max over the
 * sessions. The load: synthetic sessions (src/sink/synthetic.ts, ~70 spans each) posted by
 * `--posters` concurrent clients.
 *
 *   npx vite-node bench/team/run.ts [--spans 30000] [--posters 8] [--replicas 1,2]
 *
 * Needs dist/ (npm run build), the collector (scripts/build-collector.sh), PostgreSQL on
 * 127.0.0.1:5432. Jaeger is not part of it (the backends' Jaeger exporter points nowhere and its
 * queue only grows): this measures the path to the store of record.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSyntheticSession } from '../../src/sink/synthetic.js';
import { createTestDatabase } from '../../test/sink/support/pg.js';
import { type Collector, type Proc, buildBinary, collector, sinkProcess, startBalancer, testTls } from '../../test/support/team-stack.js';

const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '30000' },
    posters: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '1,2' },
  },
});
const log = (m: string) => process.stderr.write(`[team-bench] ${m}\n`);
const ticks = () => 100; // USER_HZ on Linux
const cpuSeconds = (p: Proc) => {
  const pid = p.pid();
  if (!pid) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks();
};

async function round(n: number, spansWanted: number, posters: number) {
  const otelcol = buildBinary('build-collector.sh');
  const state = mkdtempSync(join(tmpdir(), 'cob-team-bench-'));
  const db = await createTestDatabase(`teambench${n}`);
  const sinkToken = randomBytes(24).toString('hex');
  const token = randomBytes(24).toString('hex');
  const procs: Proc[] = [];
  try {
    const sinks = [];
    for (let i = 0; i < n; i++) sinks.push(await sinkProcess(`sink-${i}`, state, { auth: { token: sinkToken }, postgres: { url: db.url, poolSize: 6 }, maxInFlight: 256 }));
    for (const s of sinks) await s.start();
    procs.push(...sinks);
    const balancer = await startBalancer(sinks.map((s) => s.port));
    const tls = testTls(join(state, 'tls'));
    const backends: Collector[] = [];
    for (let i = 0; i < n; i++) {
      backends.push(await collector(otelcol, 'backend', `backend-${i}`, state, {
        ...tls.backendEnv, OTELCOL_BACKEND_PASSWORD: 'bench', OTELCOL_SINK_ENDPOINT: `http://127.0.0.1:${balancer.port}`,
        CLAUDE_OTEL_SINK_TOKEN: sinkToken, OTELCOL_JAEGER_ENDPOINT: '127.0.0.1:9', OTELCOL_SAMPLING_PERCENTAGE: '10',
      }));
    }
    for (const b of backends) await b.start();
    procs.push(...backends);
    const tokenFile = join(state, 'token');
    writeFileSync(tokenFile, token);
    const gateways: Collector[] = [];
    for (let i = 0; i < n; i++) {
      gateways.push(await collector(otelcol, 'gateway', `gateway-${i}`, state, {
        ...tls.gatewayEnv, OTELCOL_GATEWAY_TOKEN_FILE: tokenFile, OTELCOL_BACKEND_PASSWORD: 'bench',
        OTELCOL_BACKEND_1: `127.0.0.1:${backends[0]!.port}`, OTELCOL_BACKEND_2: `127.0.0.1:${backends[n - 1]!.port}`,
      }));
    }
    for (const g of gateways) await g.start();
    procs.push(...gateways);

    const bodies: string[] = [];
    const traceIds: string[] = [];
    let spans = 0;
    while (spans < spansWanted) {
      const s = buildSyntheticSession({ extraTools: 60, startMs: Date.now() - 600_000 });
      bodies.push(JSON.stringify(s.traces));
      traceIds.push(s.spans[0]!.traceId);
      spans += s.spans.length;
    }
    const postStartMs: number[] = [];
    const cpu0 = procs.map(cpuSeconds);
    const t0 = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: posters }, async (_, k) => {
      for (;;) {
        const i = next++;
        if (i >= bodies.length) return;
        const g = gateways[(i + k) % gateways.length]!;
        postStartMs[i] = Date.now();
        for (;;) {
          const r = await fetch(`http://127.0.0.1:${g.port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: bodies[i] });
          await r.arrayBuffer();
          if (r.ok) break;
          await new Promise((res) => setTimeout(res, 50));
        }
      }
    }));
    const posted = Date.now();
    for (;;) {
      const have = Number((await db.pool.query('SELECT count(*) AS n FROM spans')).rows[0].n);
      if (have >= spans) break;
      if (Date.now() - posted > 600_000) throw new Error(`only ${have}/${spans} spans after 10 min`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (Date.now() - t0) / 1000;
    const cpu = procs.map((p, i) => cpuSeconds(p) - cpu0[i]!);
    const written = new Map<string, number>();
    for (const row of (await db.pool.query('SELECT trace_id, extract(epoch FROM max(ingested_at)) * 1000 AS ms FROM spans GROUP BY trace_id')).rows) {
      written.set(row.trace_id as string, Number(row.ms));
    }
    const fresh = traceIds.map((id, i) => written.get(id)! - postStartMs[i]!).sort((a, b) => a - b);
    if (fresh.some((ms) => Number.isNaN(ms))) throw new Error('a session is missing from PostgreSQL');
    const at = (q: number) => Math.round(fresh[Math.min(fresh.length - 1, Math.floor(q * fresh.length))]!);
    const sum = (from: number, k: number) => cpu.slice(from, from + k).reduce((a, b) => a + b, 0);
    const result = {
      replicas: n,
      spans,
      seconds: Math.round(seconds * 10) / 10,
      spansPerSecond: Math.round(spans / seconds),
      postSeconds: Math.round((posted - t0) / 100) / 10,
      freshnessMs: { sessions: fresh.length, p50: at(0.5), p95: at(0.95), max: Math.round(fresh[fresh.length - 1]!) },
      cpuSecondsPer1000Spans: {
        sink: Math.round((sum(0, n) / spans) * 1000 * 1000) / 1000,
        backend: Math.round((sum(n, n) / spans) * 1000 * 1000) / 1000,
        gateway: Math.round((sum(2 * n, n) / spans) * 1000 * 1000) / 1000,
      },
    };
    await balancer.close();
    return result;
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => {});
    await db.drop();
    rmSync(state, { recursive: true, force: true });
  }
}

const results = [];
for (const n of args.replicas.split(',').map(Number)) {
  log(`round with ${n} replica(s) per tier`);
  const r = await round(n, Number(args.spans), Number(args.posters));
  log(JSON.stringify(r));
  results.push(r);
}
process.stdout.write(`${JSON.stringify({ nproc: (await import('node:os')).cpus().length, results }, null, 2)}\n`);
