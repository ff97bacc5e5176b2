#!/usr/bin/env node
// Sink throughput vs the raw tools, in the same run, on the same machine.
//   npm run build && node bench/sinks/run.mjs [--spans N] [--batch N] [--out docs/benchmarks-sinks.md]
// Postgres: createPostgresSink().consume() (json_to_recordset bulk insert, ON CONFLICT DO NOTHING,
//   partitioned table with its indexes) vs `psql \copy` of the same rows into the same table.
// Redis: createRedisSink().consume() (MULTI of XADD global + per-session, MAXLEN ~) vs
//   `redis-benchmark -c 1 -P <batch>` XADD of an entry with the same fields, one connection.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';

const dist = new URL('../../dist/sink/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const { parseSinkConfig } = await load('config.js');
const { createPostgresSink, spanRow } = await load('postgres/sink.js');
const { createRedisSink, spanFields } = await load('redis/sink.js');
const { normalizeTraces } = await load('records.js');
const { buildSyntheticSession } = await load('synthetic.js');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const TOTAL = Number(arg('spans', '50000'));
const BATCH = Number(arg('batch', '1000'));
const OUT = arg('out', new URL('../../docs/benchmarks-sinks.md', import.meta.url).pathname);
const PG_ADMIN = process.env.CLAUDE_OTEL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CLAUDE_OTEL_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = { info() {}, warn: (m, f) => m.includes('idle client') || console.error('warn', m, f ?? ''), error: (m, f) => console.error('error', m, f ?? '') };

// ---- data: realistic sessions, ~420 spans each, all in the last hour.
const spans = [];
while (spans.length < TOTAL) {
  const s = buildSyntheticSession({ extraTools: 400, startMs: Date.now() - 3_600_000 });
  spans.push(...normalizeTraces(s.traces).records);
}
spans.length = TOTAL;
const batches = [];
for (let i = 0; i < spans.length; i += BATCH) batches.push({ spans: spans.slice(i, i + BATCH), logs: [] });
const rate = (n, ms) => Math.round((n / ms) * 1000);
const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
async function inParallel(items, concurrency, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

// ---- Postgres
const dbName = `bench_sinks_${process.pid}`;
const admin = new pg.Client({ connectionString: PG_ADMIN });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const dbUrl = new URL(PG_ADMIN);
dbUrl.pathname = `/${dbName}`;
const pgResults = {};
try {
  const config = parseSinkConfig({ postgres: { url: dbUrl.toString(), poolSize: 4 } }).postgres;
  const sink = createPostgresSink(config, { log });
  await sink.start();
  const pool = sink.pool;
  const reset = () => pool.query('TRUNCATE spans');
  const count = async () => (await pool.query('SELECT count(*)::int AS n FROM spans')).rows[0].n;

  // Raw COPY of the same rows (CSV prepared beforehand, not timed).
  const cols = Object.keys(spanRow(spans[0]));
  const csvField = (v) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `"${s.replaceAll('"', '""')}"`;
  };
  const csv = spans.map((s) => { const r = spanRow(s); return cols.map((c) => csvField(r[c])).join(','); }).join('\n');
  const file = join(mkdtempSync(join(tmpdir(), 'sink-bench-')), 'spans.csv');
  writeFileSync(file, `${csv}\n`);
  await reset();
  const copyMs = await time(() => {
    execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', dbUrl.toString(), '-c', `\\copy spans(${cols.join(',')}) FROM '${file}' WITH (FORMAT csv)`]);
  });
  if ((await count()) !== TOTAL) throw new Error('COPY row count mismatch');
  pgResults.copy = rate(TOTAL, copyMs);

  await reset();
  const seqMs = await time(async () => { for (const b of batches) await sink.consume(b); });
  if ((await count()) !== TOTAL) throw new Error('sink row count mismatch');
  pgResults.sinkSequential = rate(TOTAL, seqMs);

  await reset();
  const parMs = await time(() => inParallel(batches, 4, (b) => sink.consume(b)));
  if ((await count()) !== TOTAL) throw new Error('sink row count mismatch (parallel)');
  pgResults.sinkParallel4 = rate(TOTAL, parMs);

  const replayMs = await time(() => inParallel(batches, 4, (b) => sink.consume(b)));
  if ((await count()) !== TOTAL) throw new Error('replay duplicated rows');
  pgResults.replay = rate(TOTAL, replayMs);
  await sink.shutdown();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}

// ---- Redis
const prefix = `claude-otel-bench:${process.pid}`;
const redis = createClient({ url: REDIS_URL });
await redis.connect();
const redisResults = {};
try {
  const config = parseSinkConfig({ redis: { url: REDIS_URL, globalMaxLen: 1_000_000, sessionMaxLen: 1_000_000 } }).redis;
  const sink = createRedisSink(config, { log, keyPrefix: prefix });
  await sink.start();
  for (let i = 0; i < 50 && !(await redis.ping()); i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  const xadds = 2 * TOTAL; // global + per-session stream
  const ms = await time(async () => { for (const b of batches) await sink.consume(b); });
  if ((await redis.xLen(`${prefix}:spans`)) !== TOTAL) throw new Error('redis entry count mismatch');
  redisResults.sinkXadds = rate(xadds, ms);
  redisResults.sinkSpans = rate(TOTAL, ms);
  // The same batches again through a second sink with its own key prefix (fresh batch markers).
  const sink4 = createRedisSink(config, { log, keyPrefix: `${prefix}:p4` });
  await sink4.start();
  await new Promise((r) => setTimeout(r, 200));
  const ms4 = await time(() => inParallel(batches, 4, (b) => sink4.consume(b)));
  if ((await redis.xLen(`${prefix}:p4:spans`)) !== TOTAL) throw new Error('redis entry count mismatch (parallel)');
  await sink4.shutdown();
  redisResults.sinkXadds4 = rate(xadds, ms4);
  redisResults.sinkSpans4 = rate(TOTAL, ms4);
  await sink.shutdown();

  const fields = Object.entries(spanFields(spans[Math.floor(TOTAL / 2)])).flat();
  const u = new URL(REDIS_URL);
  const out = execFileSync('redis-benchmark', [
    '-h', u.hostname, '-p', u.port || '6379', '-c', '1', '-P', String(BATCH), '-n', String(xadds), '--csv',
    'XADD', `${prefix}:rb`, 'MAXLEN', '~', '1000000', '*', ...fields,
  ], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // CSV: "test","rps",6 latency columns; the test name holds the (quoted) command, so match from the end.
  const m = /"([\d.]+)"(?:,"[\d.]+"){6}\s*$/.exec(out.trim());
  if (!m) throw new Error(`cannot parse redis-benchmark output: ${out.slice(-300)}`);
  redisResults.benchmark = Math.round(Number(m[1]));
} finally {
  for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
  await redis.close();
}

const ratio = (a, b) => (a / b).toFixed(2);
const report = `# Sink benchmarks

Generated by \`node bench/sinks/run.mjs --spans ${TOTAL} --batch ${BATCH}\` (after \`npm run build\`) on
${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.
Spans come from the synthetic session generator (\`src/sink/synthetic.ts\`, ~420 spans per session,
~1.2 KB of JSON attributes each). Postgres and Redis are local; both sides of each comparison run
in the same process run against the same server.

## Postgres (spans/s into the partitioned \`spans\` table with its indexes)
| path | spans/s | vs COPY |
| --- | ---: | ---: |
| \`psql \\copy\` (CSV, one stream, rows pre-rendered) | ${pgResults.copy} | 1.00 |
| sink \`consume\`, batches of ${BATCH}, sequential | ${pgResults.sinkSequential} | ${ratio(pgResults.sinkSequential, pgResults.copy)} |
| sink \`consume\`, batches of ${BATCH}, 4 in flight | ${pgResults.sinkParallel4} | ${ratio(pgResults.sinkParallel4, pgResults.copy)} |
| replay of the same batches (all ON CONFLICT DO NOTHING) | ${pgResults.replay} | ${ratio(pgResults.replay, pgResults.copy)} |

Target: sink ≥ 0.5 × COPY. The sink's figure includes normalisation to rows, JSON encoding of the
batch and \`json_to_recordset\` on the server; COPY's excludes rendering the CSV.

## Redis (XADD/s, one connection)
| path | XADD/s | spans/s | vs redis-benchmark |
| --- | ---: | ---: | ---: |
| \`redis-benchmark -c 1 -P ${BATCH}\` XADD with the same fields, MAXLEN ~ | ${redisResults.benchmark} | – | 1.00 |
| sink \`consume\`, batches of ${BATCH}, sequential | ${redisResults.sinkXadds} | ${redisResults.sinkSpans} | ${ratio(redisResults.sinkXadds, redisResults.benchmark)} |
| sink \`consume\`, batches of ${BATCH}, 4 in flight (one connection) | ${redisResults.sinkXadds4} | ${redisResults.sinkSpans4} | ${ratio(redisResults.sinkXadds4, redisResults.benchmark)} |

A sink batch is one pipelined round trip: EXISTS on the batch marker, then XADD to the global and
the per-session stream per span (MAXLEN ~), EXPIRE per session and SET of the marker. The sink's
figure includes building the entries (flat fields + compact JSON); redis-benchmark repeats one
pre-encoded command, so the ratio mostly measures the client's encoding cost.

Target: sink ≥ 0.5 × redis-benchmark. Each span is two XADDs (global and session stream).
`;
writeFileSync(OUT, report);
console.log(report);
