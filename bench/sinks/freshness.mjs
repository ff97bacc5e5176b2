#!/usr/bin/env node
// Freshness: how long after Claude Code's PostToolUse hook a tool span is readable in Redis and
// Postgres, through the real pipeline: hook event → agent (`node dist/cli.js agent`, its own
// process) → OpenTelemetry Collector (scripts/stack.sh, otel-collector/config.yaml, with Jaeger) →
// sink (its own process, bench/sinks/sink-process.mjs) → Redis Streams / Postgres.
//
//   npm run build && node bench/sinks/freshness.mjs [--seconds 25] [--workers 4] [--tools 5]
//        [--turns 2] [--profiles development,testing,production] [--floor 60]
//        [--collector-batch-timeout 200ms] [--json FILE] [--out docs/benchmarks-sinks.md]
//
// Load: --workers concurrent sessions, each a complete Claude Code session (SessionStart, then
// --turns × (UserPromptSubmit, --tools × (PreToolUse, tool runs 20–300 ms, PostToolUse, 100–500 ms
// think time), Stop), SessionEnd) built from the real payloads in bench/agent-load/events/. About
// 9 tool spans/s and 20 hook events/s with the defaults. Each profile gets a fresh agent and runs
// for --seconds (workers finish the session they are in).
//
// Measured per tool span, from just before its PostToolUse POST leaves the load generator:
//   redis: its entry arrives on the global spans stream (XREAD BLOCK; the sink writes the global and
//          the per-session entry in the same pipeline, global first);
//   pg:    its row is visible in `spans` (polled by primary key every 2 ms while anything is pending,
//          so the figure is at most ~one query round trip + 2 ms late).
// The span ids are known in advance: the agent derives them (src/model/ids.ts).
//
// Baseline in the same run (the floor): the OTLP JSON the collector actually sends (captured from
// its file tap during a warm-up, ids rewritten to fresh ones) POSTed straight to the same sink, one
// batch at a time, timed with the same watchers. Freshness/floor says how much of the delay is the
// pipeline's batching rather than the sink's write.
//
// --collector-batch-timeout X runs the collector with `--set=processors::batch::timeout=X` (through an
// OTELCOL_BIN wrapper; otel-collector/config.yaml is not modified) to show what a change would give.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  ROOT, commandLine, commitOf, createScope, flushDelays, hookTemplates, rand, scratchStores, sleep, startAgent, startSink,
  startStack, stats, writeSection,
} from '../lib/pipeline.mjs';

const { spanIdFor, spanKeys, traceIdFor } = await import(join(ROOT, 'dist/model/ids.js'));
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '25' },
    workers: { type: 'string', default: '4' },
    tools: { type: 'string', default: '5' },
    turns: { type: 'string', default: '2' },
    profiles: { type: 'string', default: 'development,testing,production' },
    floor: { type: 'string', default: '60' },
    'collector-batch-timeout': { type: 'string' },
    json: { type: 'string' },
    out: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const WORKERS = Number(args.workers);
const TOOLS = Number(args.tools);
const TURNS = Number(args.turns);
const PROFILES = args.profiles.split(',').map((s) => s.trim()).filter(Boolean);
const FLOOR_N = Number(args.floor);
const BATCH_TIMEOUT = args['collector-batch-timeout'];
const FLUSH_DELAY = await flushDelays();

const say = (m) => process.stderr.write(`[freshness] ${m}\n`);
const now = () => performance.now();
const fill = hookTemplates(join(ROOT, 'bench', 'agent-load', 'events'), ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd']);

// ---------------------------------------------------------------- what we start, undone at the end
const scope = createScope(say);
const work = mkdtempSync(join(tmpdir(), 'sink-freshness-'));
scope.defer(async () => rmSync(work, { recursive: true, force: true }));
const { dbUrl, prefix, redis } = await scratchStores(scope, 'freshness');

let result;
try {
  result = await main();
} finally {
  await scope.close();
}
report(result);

async function main() {
  const sink = await startSink(scope, { work, dbUrl, prefix });
  const sinkUrl = sink.url;
  say(`sink ${sinkUrl}`);

  // ---- collector + Jaeger on free ports; --collector-batch-timeout through an OTELCOL_BIN wrapper
  const stackEnv = {};
  if (BATCH_TIMEOUT) {
    const real = execFileSync('bash', [join(ROOT, 'scripts/build-collector.sh')], { encoding: 'utf8' }).trim();
    const wrapper = join(work, 'otelcol-wrapper.sh');
    writeFileSync(wrapper, `#!/bin/sh\nexec '${real}' "$@" '--set=processors::batch::timeout=${BATCH_TIMEOUT}'\n`);
    chmodSync(wrapper, 0o755);
    stackEnv.OTELCOL_BIN = wrapper;
  }
  const { dir: stackDir, otlpEndpoint } = await startStack(scope, { work, sink, env: stackEnv });
  say(`collector ${otlpEndpoint}${BATCH_TIMEOUT ? ` (batch timeout ${BATCH_TIMEOUT})` : ''}`);

  // ---- watchers
  const pending = new Map(); // `${traceId}/${spanId}` → { t0, redis?, pg? }
  const track = (traceId, spanId, t0) => {
    const e = { t0, redis: undefined, pg: undefined, traceId, spanId };
    pending.set(`${traceId}/${spanId}`, e);
    return e;
  };
  let watching = true;
  const reader = redis.duplicate();
  await reader.connect();
  const streamKey = `${prefix}:spans`;
  const redisLoop = (async () => {
    let last = '$';
    while (watching) {
      const res = await reader.xRead({ key: streamKey, id: last }, { BLOCK: 200, COUNT: 1000 });
      const t = now();
      for (const stream of res ?? []) {
        for (const m of stream.messages) {
          last = m.id;
          const e = pending.get(`${m.message.trace_id}/${m.message.span_id}`);
          if (e && e.redis === undefined) e.redis = t;
        }
      }
    }
  })();
  const pgc = new pg.Client({ connectionString: dbUrl.toString() });
  await pgc.connect();
  let pgQueries = 0;
  const pgLoop = (async () => {
    while (watching) {
      const open = [];
      for (const e of pending.values()) if (e.pg === undefined && e.t0 !== undefined) open.push(e);
      if (open.length) {
        const r = await pgc.query(
          'SELECT trace_id, span_id FROM spans WHERE (trace_id, span_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
          [open.map((e) => e.traceId), open.map((e) => e.spanId)],
        ).catch(() => ({ rows: [] })); // spans does not exist until the sink's migrations ran
        pgQueries++;
        const t = now();
        for (const row of r.rows) {
          const e = pending.get(`${row.trace_id}/${row.span_id}`);
          if (e && e.pg === undefined) e.pg = t;
        }
      }
      await sleep(2);
    }
  })();
  const done = (es) => es.every((e) => e.redis !== undefined && e.pg !== undefined);
  async function drain(es, timeoutMs) {
    const deadline = now() + timeoutMs;
    while (!done(es) && now() < deadline) await sleep(20);
    return done(es);
  }
  const latencies = (es) => {
    const ok = es.filter((e) => e.t0 !== undefined);
    return {
      redis: stats(ok.filter((e) => e.redis !== undefined).map((e) => e.redis - e.t0)),
      pg: stats(ok.filter((e) => e.pg !== undefined).map((e) => e.pg - e.t0)),
      missing: { redis: ok.filter((e) => e.redis === undefined).length, pg: ok.filter((e) => e.pg === undefined).length },
    };
  };

  // ---- the agent (own process) and the load generator
  const startProfileAgent = (profile, extra = {}) =>
    startAgent(scope, { home: join(work, `agent-${profile}-${randomUUID().slice(0, 8)}`), config: { profile, export: { otlpEndpoint, ...extra } } });

  async function load(agent, seconds, track) {
    const deadline = now() + seconds * 1000;
    let events = 0;
    let sessions = 0;
    const send = async (body) => {
      events++;
      await agent.post(body);
    };
    const worker = async (w) => {
      await sleep(w * 300); // stagger
      while (now() < deadline) {
        const sid = randomUUID();
        await send(fill('SessionStart', sid, ''));
        for (let turn = 0; turn < TURNS; turn++) {
          const pid = randomUUID();
          await send(fill('UserPromptSubmit', sid, pid));
          await sleep(rand(100, 400));
          for (let t = 0; t < TOOLS; t++) {
            const tid = `toolu_fresh_${sid.slice(0, 8)}_${turn}_${t}`;
            await send(fill('PreToolUse', sid, pid, tid));
            const ran = rand(20, 300);
            await sleep(ran);
            const body = fill('PostToolUse', sid, pid, tid, { duration_ms: Math.round(ran) });
            track(traceIdFor(sid), spanIdFor(sid, spanKeys.tool(tid)), now());
            await send(body);
            await sleep(rand(100, 500));
          }
          await send(fill('Stop', sid, pid));
        }
        await send(fill('SessionEnd', sid, ''));
        sessions++;
      }
    };
    const t0 = now();
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    return { events, sessions, seconds: (now() - t0) / 1000 };
  }

  // ---- warm-up with the collector's file tap on: captures the OTLP JSON the collector sends.
  say('warm-up (tapped agent, testing profile)');
  {
    const agent = await startProfileAgent('testing', { resourceAttributes: { 'claude_otel.tap': 'file' } });
    const es = [];
    await load(agent, 5, (tr, sp, t0) => es.push(track(tr, sp, t0)));
    await drain(es, 20_000);
    await agent.stop();
    for (const e of es) pending.delete(`${e.traceId}/${e.spanId}`);
  }
  const tapFile = join(stackDir, 'otelcol', 'storage', 'tap', 'traces.jsonl');
  for (let i = 0; i < 50 && !existsSync(tapFile); i++) await sleep(100);
  await sleep(1500); // file exporter flush_interval 1s
  const captured = readFileSync(tapFile, 'utf8').split('\n').filter(Boolean);
  say(`captured ${captured.length} collector batches from the tap`);

  // ---- profiles
  const runs = [];
  for (const profile of PROFILES) {
    say(`profile ${profile}: ${SECONDS}s`);
    const agent = await startProfileAgent(profile);
    const es = [];
    const l = await load(agent, SECONDS, (tr, sp, t0) => es.push(track(tr, sp, t0)));
    const complete = await drain(es, FLUSH_DELAY[profile] + 30_000);
    const errors = agent.errors();
    await agent.stop();
    runs.push({ profile, flushDelayMs: FLUSH_DELAY[profile], ...l, toolSpans: es.length, hookErrors: errors, complete, ...latencies(es) });
    say(JSON.stringify(runs.at(-1)));
    for (const e of es) pending.delete(`${e.traceId}/${e.spanId}`);
  }

  // ---- floor: the captured collector batches straight to the sink, ids made fresh.
  say(`floor: ${FLOOR_N} batches straight to the sink`);
  const floorEs = [];
  const batchSpans = [];
  for (let i = 0; i < FLOOR_N; i++) {
    const { body, tools } = freshBatch(captured[i % captured.length]);
    const es = [];
    const t0 = now();
    for (const [tr, sp] of tools) es.push(track(tr, sp, t0));
    const r = await fetch(`${sinkUrl}/v1/traces`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`sink answered ${r.status}`);
    await drain(es, 10_000);
    floorEs.push(...es);
    batchSpans.push(tools.length);
    await sleep(100);
  }
  const floor = { batches: FLOOR_N, toolSpans: floorEs.length, toolSpansPerBatch: stats(batchSpans), ...latencies(floorEs) };
  say(JSON.stringify(floor));
  watching = false;
  await Promise.all([redisLoop, pgLoop]);
  await reader.close();
  await pgc.end();
  say(`pg polls: ${pgQueries}`);
  return { runs, floor, batchTimeout: BATCH_TIMEOUT ?? 'the default of otel-collector/config.yaml (OTELCOL_BATCH_TIMEOUT, 200ms)', date: new Date().toISOString().slice(0, 10), commit: commitOf() };
}

/** A captured collector request with every session, trace and span id replaced by fresh ones. */
function freshBatch(line) {
  const data = JSON.parse(line);
  const sessions = new Map();
  const spanIds = new Map();
  const freshSpan = (id) => {
    if (!id) return id;
    if (!spanIds.has(id)) spanIds.set(id, randomBytes(8).toString('hex'));
    return spanIds.get(id);
  };
  const tools = [];
  for (const rs of data.resourceSpans ?? []) {
    rs.resource.attributes = (rs.resource?.attributes ?? []).filter((a) => a.key !== 'claude_otel.tap');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        if (!sessions.has(s.traceId)) sessions.set(s.traceId, randomUUID());
        s.traceId = traceIdFor(sessions.get(s.traceId));
        s.spanId = freshSpan(s.spanId);
        if (s.parentSpanId) s.parentSpanId = freshSpan(s.parentSpanId);
        for (const l of s.links ?? []) l.spanId = freshSpan(l.spanId);
        if (s.attributes?.some((a) => a.key === 'claude_code.span.kind' && a.value?.stringValue === 'tool')) tools.push([s.traceId, s.spanId]);
      }
    }
  }
  let body = JSON.stringify(data);
  // Session ids also appear as attribute values (session.id etc.): the dashed form of the old trace id.
  for (const [oldTrace, sid] of sessions) {
    const dashed = `${oldTrace.slice(0, 8)}-${oldTrace.slice(8, 12)}-${oldTrace.slice(12, 16)}-${oldTrace.slice(16, 20)}-${oldTrace.slice(20)}`;
    body = body.split(dashed).join(sid);
  }
  return { body, tools };
}

function report(r) {
  if (args.json) writeFileSync(args.json, JSON.stringify(r, null, 2));
  const f = (x) => (Number.isFinite(x) ? (x >= 100 ? Math.round(x) : x.toFixed(1)) : '–');
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(0)}×` : '–');
  const rows = r.runs.map((x) => `| ${x.profile} (agent flush ${x.flushDelayMs} ms) | ${x.toolSpans} | ${f(x.redis.p50)} | ${f(x.redis.p95)} | ${f(x.redis.max)} | ${f(x.pg.p50)} | ${f(x.pg.p95)} | ${f(x.pg.max)} | ${ratio(x.redis.p95, r.floor.redis.p95)} / ${ratio(x.pg.p95, r.floor.pg.p95)} | ${x.missing.redis + x.missing.pg ? `missing ${x.missing.redis}/${x.missing.pg}` : 'none'} |`);
  const fl = r.floor;
  const md = `| path | tool spans | Redis p50 | p95 | max | PG p50 | p95 | max | p95 vs floor (Redis / PG) | lost |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
| floor: collector's OTLP JSON straight to the sink (${fl.batches} batches, ~${f(fl.toolSpansPerBatch.p50)} tool spans each) | ${fl.toolSpans} | ${f(fl.redis.p50)} | ${f(fl.redis.p95)} | ${f(fl.redis.max)} | ${f(fl.pg.p50)} | ${f(fl.pg.p95)} | ${f(fl.pg.max)} | 1× / 1× | ${fl.missing.redis + fl.missing.pg ? 'yes' : 'none'} |
${rows.join('\n')}`;
  const name = BATCH_TIMEOUT ? `freshness-batch-${BATCH_TIMEOUT}` : 'freshness';
  const cmd = commandLine('bench/sinks/freshness.mjs', ['--out', '--json']);
  const text = `<!-- ${name}:begin (bench/sinks/freshness.mjs) -->
Collector batch timeout: **${r.batchTimeout}**. Generated by \`${cmd}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'},
Node ${process.version}, ${r.date}, commit ${r.commit}; ${WORKERS} concurrent sessions, ${r.runs[0]?.seconds.toFixed(0) ?? '?'} s per profile,
~${r.runs[0] ? Math.round(r.runs[0].toolSpans / r.runs[0].seconds) : '?'} tool spans/s and ~${r.runs[0] ? Math.round(r.runs[0].events / r.runs[0].seconds) : '?'} hook events/s.
Milliseconds from the PostToolUse POST to the tool span readable.

${md}
<!-- ${name}:end -->`;
  if (args.out) writeSection(args.out, name, text, '# Sink benchmarks');
  console.log(text);
  console.log(JSON.stringify(r));
}
