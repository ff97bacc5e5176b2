#!/usr/bin/env node
// Sink throughput vs the raw tools, in the same run, on the same machine.
//   npm run build && node bench/sinks/run.mjs [--spans N] [--batch N] [--rounds N] [--out docs/benchmarks-sinks.md]
// Writes (replaces) the "throughput" section of --out, between its begin/end markers; the
// freshness section (bench/sinks/freshness.mjs) is left alone.
// Postgres: createPostgresSink().consume() (json_to_recordset bulk insert, ON CONFLICT DO NOTHING,
//   partitioned table with its indexes) vs `psql \copy` of the same rows into the same table.
// Redis: createRedisSink().consume() (EVALSHA of the write script per ≤250 records: XADD global +
//   per-session, MAXLEN ~) vs `redis-benchmark -c 1 -P <batch>` XADD of an entry with the same
//   fields, one connection. --rounds rounds (default 3), each redis-benchmark, sink sequential,
//   sink 4 in flight, then the sink's pipeline fallback (an ACL user without @scripting), so every
//   ratio has its baseline from the same moment; the report gives the median ratio and the range
//   (the machine is noisy: redis-benchmark alone varies by ±25 % between rounds). How long each
//   script call holds Redis comes from the server: INFO commandstats and LATENCY HISTOGRAM evalsha,
//   before/after deltas (nothing is reset).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';

const dist = new URL('../../dist/sink/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const { parseSinkConfig } = await load('config.js');
const { createPostgresSink, spanRow } = await load('postgres/sink.js');
const { createRedisSink, spanFields, SCRIPT_CHUNK_RECORDS } = await load('redis/sink.js');
const { normalizeTraces } = await load('records.js');
const { buildSyntheticSession } = await load('synthetic.js');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const TOTAL = Number(arg('spans', '50000'));
const BATCH = Number(arg('batch', '1000'));
const ROUNDS = Number(arg('rounds', '3'));
const OUT = arg('out', new URL('../../docs/benchmarks-sinks.md', import.meta.url).pathname);
const PG_ADMIN = process.env.CLAUDE_OTEL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.CLAUDE_OTEL_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = { info() {}, warn: (m, f) => m.includes('idle client') || console.error('warn', m, f ?? ''), error: (m, f) => console.error('error', m, f ?? '') };

// ---- data: realistic sessions, ~420 spans each, all in the last hour, but not before today (UTC):
// COPY cannot create the daily partition that the sink creates on demand, and a fresh database only
// has today's and the next days' partitions.
const spans = [];
const dayStart = new Date().setUTCHours(0, 0, 0, 0);
while (spans.length < TOTAL) {
  const s = buildSyntheticSession({ extraTools: 400, startMs: Math.max(Date.now() - 3_600_000, dayStart + 1_000) });
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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
  // Interleaved rounds (COPY, sink sequential, sink 4 in flight), each on an empty table; medians
  // of the rates and of the per-round ratios.
  const per = { copy: [], seq: [], par: [] };
  for (let r = 0; r < ROUNDS; r++) {
    await reset();
    const copyMs = await time(() => {
      execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', dbUrl.toString(), '-c', `\\copy spans(${cols.join(',')}) FROM '${file}' WITH (FORMAT csv)`]);
    });
    if ((await count()) !== TOTAL) throw new Error('COPY row count mismatch');
    per.copy.push(rate(TOTAL, copyMs));

    await reset();
    const seqMs = await time(async () => { for (const b of batches) await sink.consume(b); });
    if ((await count()) !== TOTAL) throw new Error('sink row count mismatch');
    per.seq.push(rate(TOTAL, seqMs));

    await reset();
    const parMs = await time(() => inParallel(batches, 4, (b) => sink.consume(b)));
    if ((await count()) !== TOTAL) throw new Error('sink row count mismatch (parallel)');
    per.par.push(rate(TOTAL, parMs));
  }
  pgResults.copy = median(per.copy);
  pgResults.sinkSequential = median(per.seq);
  pgResults.sinkParallel4 = median(per.par);
  pgResults.ratioSeq = median(per.seq.map((v, i) => v / per.copy[i]));
  pgResults.ratioPar = median(per.par.map((v, i) => v / per.copy[i]));

  const replayMs = await time(() => inParallel(batches, 4, (b) => sink.consume(b)));
  if ((await count()) !== TOTAL) throw new Error('replay duplicated rows');
  pgResults.replay = rate(TOTAL, replayMs);
  await sink.shutdown();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
}

// ---- Redis: interleaved rounds (baseline, sink sequential, sink 4 in flight), each on fresh keys.
const prefix = `claude-otel-bench:${process.pid}`;
const redis = createClient({ url: REDIS_URL });
await redis.connect();
const rounds = [];
let evalBefore;
let evalAfter;
/** evalsha calls, total µs, and the cumulative LATENCY HISTOGRAM (bucket upper bound µs → calls). */
async function evalshaStats() {
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
  const h = await redis.sendCommand(['LATENCY', 'HISTOGRAM', 'evalsha']);
  const buckets = new Map();
  const flat = h?.[1]?.[3] ?? [];
  for (let i = 0; i < flat.length; i += 2) buckets.set(Number(flat[i]), Number(flat[i + 1]));
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0), buckets };
}
try {
  const config = parseSinkConfig({ redis: { url: REDIS_URL, globalMaxLen: 1_000_000, sessionMaxLen: 1_000_000 } }).redis;
  const xadds = 2 * TOTAL; // global + per-session stream
  const fields = Object.entries(spanFields(spans[Math.floor(TOTAL / 2)])).flat().map(String);
  const u = new URL(REDIS_URL);
  const clear = async () => {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) if (keys.length) await redis.del(keys);
  };
  const noScriptUser = `claude-otel-bench-noscript-${process.pid}`;
  await redis.sendCommand(['ACL', 'SETUSER', noScriptUser, 'reset', 'on', '>bench', '~*', '&*', '+@all', '-@scripting']);
  const fallbackUrl = new URL(REDIS_URL);
  fallbackUrl.username = noScriptUser;
  fallbackUrl.password = 'bench';
  const fallbackConfig = { ...config, url: fallbackUrl.toString() };
  const quietLog = { ...log, warn: (m, f) => m.startsWith('redis refuses scripts') || log.warn(m, f) };
  const sinkRun = async (p, concurrency, cfg = config) => {
    const sink = createRedisSink(cfg, { log: quietLog, keyPrefix: p });
    await sink.start();
    for (let i = 0; i < 100 && !(await redis.ping()); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    const ms = await time(() => (concurrency === 1 ? (async () => { for (const b of batches) await sink.consume(b); })() : inParallel(batches, concurrency, (b) => sink.consume(b))));
    if ((await redis.xLen(`${p}:spans`)) !== TOTAL) throw new Error('redis entry count mismatch');
    await sink.shutdown();
    return rate(xadds, ms);
  };
  evalBefore = await evalshaStats();
  for (let round = 0; round < ROUNDS; round++) {
    const out = execFileSync('redis-benchmark', [
      '-h', u.hostname, '-p', u.port || '6379', '-c', '1', '-P', String(BATCH), '-n', String(xadds), '--csv',
      'XADD', `${prefix}:rb`, 'MAXLEN', '~', '1000000', '*', ...fields,
    ], { encoding: 'utf8', maxBuffer: 64 << 20 });
    // CSV: "test","rps",6 latency columns; the test name holds the (quoted) command, so match from the end.
    const m = /"([\d.]+)"(?:,"[\d.]+"){6}\s*$/.exec(out.trim());
    if (!m) throw new Error(`cannot parse redis-benchmark output: ${out.slice(-300)}`);
    const benchmark = Math.round(Number(m[1]));
    await clear();
    const seq = await sinkRun(`${prefix}:r${round}s`, 1);
    await clear();
    const par = await sinkRun(`${prefix}:r${round}p`, 4);
    await clear();
    const fb = await sinkRun(`${prefix}:r${round}f`, 1, fallbackConfig);
    await clear();
    rounds.push({ benchmark, seq, par, fb });
    console.error(`redis round ${round}: redis-benchmark ${benchmark}, sink ${seq} (${(seq / benchmark).toFixed(2)}), 4 in flight ${par} (${(par / benchmark).toFixed(2)}), pipeline fallback ${fb} (${(fb / benchmark).toFixed(2)})`);
  }
  evalAfter = await evalshaStats();
  await redis.sendCommand(['ACL', 'DELUSER', noScriptUser]);
} finally {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) if (keys.length) await redis.del(keys);
  await redis.close();
}
const redisResults = {
  benchmark: median(rounds.map((r) => r.benchmark)),
  sinkXadds: median(rounds.map((r) => r.seq)),
  sinkXadds4: median(rounds.map((r) => r.par)),
  ratioSeq: rounds.map((r) => r.seq / r.benchmark),
  ratioPar: rounds.map((r) => r.par / r.benchmark),
  fallback: median(rounds.map((r) => r.fb)),
  ratioFb: rounds.map((r) => r.fb / r.benchmark),
};
// Script calls made during the rounds (other clients' EVALSHA would count too; none expected).
const scriptCalls = evalAfter.calls - evalBefore.calls;
const scriptMeanMs = (evalAfter.usec - evalBefore.usec) / scriptCalls / 1000;
// Histogram buckets are cumulative counts of calls ≤ the bound: the smallest bound holding all new calls.
let scriptMaxBound = Infinity;
for (const [bound, n] of [...evalAfter.buckets].sort((a, b) => a[0] - b[0])) {
  if (n - (evalBefore.buckets.get(bound) ?? 0) >= scriptCalls) { scriptMaxBound = bound; break; }
}
const callsPerBatch = Math.ceil(BATCH / SCRIPT_CHUNK_RECORDS);
const ratioCell = (xs) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {
  /* not a checkout */
}

const ratio = (a, b) => (a / b).toFixed(2);
const section = `<!-- throughput:begin (bench/sinks/run.mjs) -->
## Throughput

Generated by \`node bench/sinks/run.mjs --spans ${TOTAL} --batch ${BATCH} --rounds ${ROUNDS}\` (after \`npm run build\`) on
${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, commit ${commit}.
Spans come from the synthetic session generator (\`src/sink/synthetic.ts\`, ~420 spans per session,
~1.2 KB of JSON attributes each). Postgres and Redis are local; both sides of each comparison run
in the same process run against the same server.

### Postgres (spans/s into the partitioned \`spans\` table with its indexes; ${ROUNDS} interleaved rounds: medians, ratio = median of the per-round ratios)
| path | spans/s | vs COPY |
| --- | ---: | ---: |
| \`psql \\copy\` (CSV, one stream, rows pre-rendered) | ${pgResults.copy} | 1.00 |
| sink \`consume\`, batches of ${BATCH}, sequential | ${pgResults.sinkSequential} | ${pgResults.ratioSeq.toFixed(2)} |
| sink \`consume\`, batches of ${BATCH}, 4 in flight | ${pgResults.sinkParallel4} | ${pgResults.ratioPar.toFixed(2)} |
| replay of the same batches (all ON CONFLICT DO NOTHING) | ${pgResults.replay} | ${ratio(pgResults.replay, pgResults.copy)} |

Target: sink ≥ 0.5 × COPY. The sink's figure includes normalisation to rows, JSON encoding of the
batch and \`json_to_recordset\` on the server; COPY's excludes rendering the CSV.

### Redis (XADD/s, one connection; ${ROUNDS} interleaved rounds)
| path | XADD/s (median) | spans/s | vs redis-benchmark, median of per-round ratios (range) |
| --- | ---: | ---: | ---: |
| \`redis-benchmark -c 1 -P ${BATCH}\` XADD with the same fields, MAXLEN ~ | ${redisResults.benchmark} | – | 1.00 |
| sink \`consume\`, batches of ${BATCH}, sequential | ${redisResults.sinkXadds} | ${Math.round(redisResults.sinkXadds / 2)} | ${ratioCell(redisResults.ratioSeq)} |
| sink \`consume\`, batches of ${BATCH}, 4 in flight (one connection) | ${redisResults.sinkXadds4} | ${Math.round(redisResults.sinkXadds4 / 2)} | ${ratioCell(redisResults.ratioPar)} |
| pipeline fallback (scripts refused by ACL), batches of ${BATCH}, sequential | ${redisResults.fallback} | ${Math.round(redisResults.fallback / 2)} | ${ratioCell(redisResults.ratioFb)} |

A sink batch is ${callsPerBatch} EVALSHA calls of the write script (≤ ${SCRIPT_CHUNK_RECORDS} records each), pipelined on the one
connection, plus a SET of the batch marker: per record XADD to the global and the per-session stream
(MAXLEN ~), EXPIRE per session. Each script call blocks Redis while it runs: over these rounds
${scriptCalls} calls took **${scriptMeanMs.toFixed(2)} ms on average, none longer than ${scriptMaxBound >= 1000 ? `${(scriptMaxBound / 1000).toFixed(1)} ms` : `${scriptMaxBound} µs`}** (Redis's own
\`INFO commandstats\` and \`LATENCY HISTOGRAM evalsha\`, power-of-two buckets; the machine is shared).
The fallback is the previous path: EXISTS on the marker, then one pipeline of XADDs, EXPIREs and
the SET. The sink's figures include building the entries (flat fields + compact JSON);
redis-benchmark repeats one pre-encoded command.

Target: sink ≥ 0.5 × redis-benchmark. Each span is two XADDs (global and session stream).
<!-- throughput:end -->`;
writeSection(OUT, 'throughput', section);
console.log(section);

/** Replaces the `name` section (between its begin/end markers) of the file, or appends it. */
function writeSection(file, name, text) {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Sink benchmarks\n';
  const re = new RegExp(`<!-- ${name}:begin[^]*?<!-- ${name}:end -->`);
  writeFileSync(file, re.test(old) ? old.replace(re, () => text) : `${old.trimEnd()}\n\n${text}\n`);
}
