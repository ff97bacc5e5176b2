/**
 * Agent load benchmark: how many hook events per second one agent takes, and its peak memory.
 *
 * A load generator posts realistic hook events (the real Claude Code 2.1.328 payloads in
 * bench/agent-load/events/, with fresh session, prompt and tool ids) over keep-alive HTTP with
 * bounded concurrency. Every session is complete: SessionStart, UserPromptSubmit, T × (PreToolUse,
 * PostToolUse, PostToolBatch), Stop, SessionEnd; a worker only starts a session that fits in the
 * event budget, so the run ends with every session closed. The agent exports to an OTLP receiver
 * that only counts (span ids, log records), in its own process like a collector, so we can check
 * that every span arrived.
 *
 * Baseline in the same invocation: the same generator against a trivial node:http server (its own
 * process, like the agent) that answers `{}`. Rounds alternate baseline/agent (ABBA).
 *
 * --transcripts adds, in every round, an agent that reads transcripts: each session gets a real
 * transcript file under the agent's transcript root (CLAUDE_CONFIG_DIR of the agent = a temp dir),
 * appended before each hook event with what Claude Code would have written by then (./transcript.ts,
 * templated from the 2.1.332 fixture), so the agent reads it incrementally and emits T + 1 `chat`
 * spans per session; the receiver then also expects those (and the turn and root roll-ups). A fourth
 * round kind, baseline+transcripts, runs the trivial server while the generator writes the same
 * transcripts: writing them is Claude Code's work, done here on the same cores, so the agent's own
 * share is the ratio to that baseline. Round order: baseline, agent, agent+transcripts,
 * baseline+transcripts, then reversed. Without the flag nothing changes.
 *
 *   node .tmp/build/bench/agent-load/run.js [--events 100000] [--seconds 30] [--concurrency 32]
 *        [--tools 6] [--rounds 2] [--profile production] [--transcripts [--transcript-dir DIR]] [--cpu-prof] [--out FILE]
 * (--transcript-dir: where the agent's Claude Code config dir with the transcripts is made, default the
 * OS temp dir, e.g. /dev/shm to take the disk out of the figures)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { freePort } from '../../test/support/ports.js';
import {
  findMetric, histogramQuantile, machine, median, memoryMb, parseHistogram, quantile, repoRoot, round, sleep, startAgentProcess,
  type AgentProcess,
} from '../hook-cost/common.js';
import { chatCallsPerSession, loadTemplates, PROJECT_DIR, SessionTranscript, TRANSCRIPT_FIXTURE, transcriptPath, transcriptSteps, type TranscriptTemplates } from './transcript.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '32' },
    tools: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'string', default: 'production' },
    'cpu-prof': { type: 'boolean', default: false },
    'prof-top': { type: 'string', default: '25' },
    'agent-node-args': { type: 'string', default: '' },
    'heap-snapshot': { type: 'string' },
    transcripts: { type: 'boolean', default: false },
    'transcript-dir': { type: 'string' },
    out: { type: 'string' },
  },
});
const MAX_EVENTS = Number(args.events);
const MAX_SECONDS = Number(args.seconds);
const CONCURRENCY = Number(args.concurrency);
const T = Number(args.tools);
const ROUNDS = Number(args.rounds);
const TRANSCRIPTS = args.transcripts;

const log = (m: string) => process.stderr.write(`[agent-load] ${m}\n`);
const ROOT = repoRoot();
const EVENTS_DIR = join(ROOT, 'bench', 'agent-load', 'events');

// ---------------------------------------------------------------- session generator
/** A fixture as a string template: the ids it carries are replaced by placeholders. */
function template(name: string): string {
  const ev = JSON.parse(readFileSync(join(EVENTS_DIR, `${name}.json`), 'utf8')) as Record<string, unknown>;
  let s = JSON.stringify(ev);
  const sid = ev.session_id as string;
  s = s.split(sid).join('@SID@');
  if (typeof ev.prompt_id === 'string') s = s.split(ev.prompt_id).join('@PID@');
  if (typeof ev.tool_use_id === 'string') s = s.split(ev.tool_use_id).join('@TID@');
  for (const c of (ev.tool_calls as { tool_use_id?: string }[] | undefined) ?? []) if (c.tool_use_id) s = s.split(c.tool_use_id).join('@TID@');
  return s;
}
const TPL = Object.fromEntries(['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolBatch', 'Stop', 'SessionEnd'].map((n) => [n, template(n)])) as Record<string, string>;
const fill = (tpl: string, sid: string, pid: string, tid = '') => tpl.replaceAll('@SID@', sid).replaceAll('@PID@', pid).replaceAll('@TID@', tid);

const EVENTS_PER_SESSION = 2 + 3 * T + 2;
const SPANS_PER_SESSION = 2 + T; // root, turn, T tools
const CHAT_PER_SESSION = chatCallsPerSession(T);

// With --transcripts: every event of a session names the session's transcript under the agent's root.
const TX_FIXTURE = join(ROOT, TRANSCRIPT_FIXTURE);
const TPL_TX = Object.fromEntries(Object.entries(TPL).map(([n, t]) => [n, t.replace(/"transcript_path":"[^"]*"/, '"transcript_path":"@TP@"')])) as Record<string, string>;
interface Transcripts { templates: TranscriptTemplates; projectDir: string; bytes: number; records: number; sessions: number }

function* session(tx?: Transcripts): Generator<string> {
  if (tx) {
    yield* sessionWithTranscript(tx);
    return;
  }
  const sid = randomUUID();
  const pid = randomUUID();
  yield fill(TPL.SessionStart!, sid, pid);
  yield fill(TPL.UserPromptSubmit!, sid, pid);
  for (let i = 0; i < T; i++) {
    const tid = `toolu_bench_${sid.slice(0, 8)}_${i}`;
    yield fill(TPL.PreToolUse!, sid, pid, tid);
    yield fill(TPL.PostToolUse!, sid, pid, tid);
    yield fill(TPL.PostToolBatch!, sid, pid, tid);
  }
  yield fill(TPL.Stop!, sid, pid);
  yield fill(TPL.SessionEnd!, sid, pid);
}

/** The same session, each event preceded by the transcript rows Claude Code writes before it. */
function* sessionWithTranscript(tx: Transcripts): Generator<string> {
  const sid = randomUUID();
  const pid = randomUUID();
  const path = transcriptPath(tx.projectDir, sid);
  const w = new SessionTranscript(tx.templates, path, sid, pid);
  for (const step of transcriptSteps(w, T, (i) => `toolu_bench_${sid.slice(0, 8)}_${i}`)) {
    if (step.name === 'SessionEnd') {
      tx.bytes += w.bytes;
      tx.records += w.records;
      tx.sessions++;
    }
    yield fill(TPL_TX[step.name]!, sid, pid, step.toolUseId ?? '').replace('@TP@', path);
  }
}

interface LoadResult { windowUs: { fromUs: number; toUs: number }; events: number; sessions: number; seconds: number; eventsPerSec: number; errors: number; latencyMs: { p50: number; p99: number } }

async function generate(url: string, token: string, tx?: Transcripts): Promise<LoadResult> {
  const pool = new Pool(url, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  let reserved = 0;
  let sent = 0;
  let sessions = 0;
  let errors = 0;
  const lat: number[] = [];
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  const started = performance.now();
  const deadline = started + MAX_SECONDS * 1000;
  const worker = async () => {
    while (reserved + EVENTS_PER_SESSION <= MAX_EVENTS && performance.now() < deadline) {
      reserved += EVENTS_PER_SESSION;
      for (const body of session(tx)) {
        const t0 = performance.now();
        try {
          const r = await pool.request({ path: '/v1/hooks', method: 'POST', headers, body });
          await r.body.dump();
          if (r.statusCode !== 200) errors++;
        } catch {
          errors++;
        }
        if ((sent & 7) === 0) lat.push(performance.now() - t0);
        sent++;
      }
      sessions++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const toUs = Number(process.hrtime.bigint() / 1000n);
  await pool.close();
  return { windowUs: { fromUs, toUs }, events: sent, sessions, seconds: round(seconds, 2), eventsPerSec: Math.round(sent / seconds), errors, latencyMs: { p50: round(quantile(lat, 0.5), 3), p99: round(quantile(lat, 0.99), 3) } };
}

/** utime+stime of a process in ms (from /proc/PID/stat, clock ticks of 10 ms). */
function cpuMs(pid: number, which: 'both' | 'user' | 'sys' = 'both'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const user = Number(f[11]) * 10; // field 14 utime (counted from 1 with pid, comm), clock ticks of 10 ms
  const sys = Number(f[12]) * 10; // field 15 stime
  return which === 'user' ? user : which === 'sys' ? sys : user + sys;
}

/** Samples a server process during the load: CPU time used and the RSS curve. */
async function measured(pid: number, load: () => Promise<LoadResult>) {
  const cpu0 = cpuMs(pid);
  const sys0 = cpuMs(pid, 'sys');
  const gen0 = process.cpuUsage();
  const rssCurve: number[] = [];
  const timer = setInterval(() => rssCurve.push(round(memoryMb(pid).rss, 1)), 1000);
  const result = await load();
  clearInterval(timer);
  const serverCpuMs = cpuMs(pid) - cpu0;
  const serverSysMs = cpuMs(pid, 'sys') - sys0;
  const gen = process.cpuUsage(gen0);
  return {
    result,
    serverCpuUsPerEvent: round((serverCpuMs * 1000) / result.events, 1),
    serverSysUsPerEvent: round((serverSysMs * 1000) / result.events, 1),
    generatorCpuUsPerEvent: round((gen.user + gen.system) / result.events, 1),
    rssCurveMb: rssCurve,
  };
}

// ---------------------------------------------------------------- counting OTLP receiver, in its own process
// Its own process, like a collector: parsing the agent's exports on the generator's event loop would
// hold back the load and measure the bench instead of the agent. GET /counts answers the counts,
// POST /reset?chat=1 starts a round (chat: also count `chat` spans and the model-call roll-ups).
const RECEIVER = `
const http = require('node:http');
const spanIds = new Set(); let spans = 0, logs = 0, requests = 0, countChat = false;
const chatIds = new Set(); const rollUps = new Map();
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const send = (body) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    if (req.method === 'GET' && req.url === '/counts') return send(JSON.stringify({ spans, uniqueSpans: spanIds.size, logs, requests, chatSpans: chatIds.size, modelCallRollUps: Object.fromEntries(rollUps) }));
    if (req.method === 'POST' && req.url.startsWith('/reset')) {
      spanIds.clear(); spans = logs = requests = 0; countChat = req.url.includes('chat=1'); chatIds.clear(); rollUps.clear();
      return send('{}');
    }
    requests++;
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.url.startsWith('/v1/traces')) {
      for (const m of body.matchAll(/"spanId":"([^"]+)"/g)) { spans++; spanIds.add(m[1]); }
      if (countChat) {
        for (const m of body.matchAll(/"spanId":"([^"]+)"(?:,"parentSpanId":"[^"]*")?,"name":"chat /g)) chatIds.add(m[1]);
        for (const m of body.matchAll(/"key":"claude_code\\.model_calls","value":\\{"intValue":"?(\\d+)"?\\}/g)) rollUps.set(Number(m[1]), (rollUps.get(Number(m[1])) ?? 0) + 1);
      }
    } else if (req.url.startsWith('/v1/logs')) {
      logs += body.match(/"timeUnixNano":/g)?.length ?? 0;
    }
    send('{}');
  });
});
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => process.send ? process.send(s.address().port) : console.log(s.address().port));
process.on('SIGTERM', () => process.exit(0));`;

function countingReceiver() {
  let url = '';
  let child: ReturnType<typeof spawn> | undefined;
  const get = async () => (await (await fetch(`${url}/counts`)).json()) as { spans: number; uniqueSpans: number; logs: number; requests: number; chatSpans: number; modelCallRollUps: Record<string, number> };
  return {
    async start() {
      child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
      const port = await new Promise<number>((r) => child!.stdout!.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
      url = `http://127.0.0.1:${port}`;
      return url;
    },
    async counts() {
      const c = await get();
      return { spans: c.spans, uniqueSpans: c.uniqueSpans, logs: c.logs, requests: c.requests };
    },
    async chatCounts() {
      const c = await get();
      return { chatSpans: c.chatSpans, modelCallRollUps: c.modelCallRollUps };
    },
    async reset(chat = false) {
      await (await fetch(`${url}/reset${chat ? '?chat=1' : ''}`, { method: 'POST' })).arrayBuffer();
    },
    close: async () => {
      child?.kill('SIGTERM');
      if (child && child.exitCode === null) await new Promise((r) => child!.once('exit', r));
    },
  };
}

// ---------------------------------------------------------------- baseline: trivial server in its own process
const TRIVIAL = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }); res.end('{}'); }); });
s.keepAliveTimeout = 65000;
s.listen(Number(process.argv[1]), '127.0.0.1', () => process.send ? process.send('up') : console.log('up'));
process.on('SIGTERM', () => process.exit(0));`;

/** A temporary Claude Code config dir with a project dir for the generator's transcripts. */
let txTemplates: TranscriptTemplates | undefined;
function transcriptDir(): { configDir: string; tx: Transcripts } {
  // the agent's Claude Code config dir: transcripts are accepted under <it>/projects only
  const configDir = mkdtempSync(join(args['transcript-dir'] ?? tmpdir(), 'agent-load-claude-'));
  const projectDir = join(configDir, 'projects', PROJECT_DIR);
  mkdirSync(projectDir, { recursive: true, mode: 0o700 });
  return { configDir, tx: { templates: (txTemplates ??= loadTemplates(TX_FIXTURE)), projectDir, bytes: 0, records: 0, sessions: 0 } };
}

/** The trivial server; `withTranscripts`: the generator writes the same transcripts as for the agent (which the server ignores). */
async function runBaseline(withTranscripts = false): Promise<LoadResult & { rssMb: number; serverCpuUsPerEvent: number; serverSysUsPerEvent: number; generatorCpuUsPerEvent: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', TRIVIAL, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  const dir = withTranscripts ? transcriptDir() : undefined;
  let m: Awaited<ReturnType<typeof measured>>;
  let rssMb: number;
  try {
    m = await measured(child.pid!, () => generate(`http://127.0.0.1:${port}`, 'x', dir?.tx));
    rssMb = memoryMb(child.pid!).hwm;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (dir) rmSync(dir.configDir, { recursive: true, force: true });
  }
  return { ...m.result, rssMb: round(rssMb, 1), serverCpuUsPerEvent: m.serverCpuUsPerEvent, serverSysUsPerEvent: m.serverSysUsPerEvent, generatorCpuUsPerEvent: m.generatorCpuUsPerEvent };
}

// ---------------------------------------------------------------- the agent
interface AgentRound extends LoadResult {
  idleRssMb: number;
  rssCurveMb: number[];
  serverCpuUsPerEvent: number;
  serverSysUsPerEvent: number;
  generatorCpuUsPerEvent: number;
  peakRssMb: number;
  rssAfterMb: number;
  expectedSpans: number;
  receivedBeforeStop: { spans: number; uniqueSpans: number; logs: number; waitedMs: number };
  receivedAfterStop: { spans: number; uniqueSpans: number; logs: number };
  metrics: Record<string, number>;
  handling: { p50: number; p99: number; p99Bound: number; over2ms: number; count: number };
  /** Only in transcript rounds. */
  transcripts?: {
    sessions: number;
    recordsWritten: number;
    bytesWritten: number;
    expectedChatSpans: number;
    chatSpansReceived: number;
    /** claude_code.model_calls value → turn and root spans carrying it (expected: {T+1: 2 × sessions}). */
    modelCallRollUps: Record<string, number>;
    rollUpsRight: boolean;
    /** The agent read every byte written, once (its claude_otel_transcript_bytes_total = bytes written). */
    readOnce: boolean;
    /** The agent's transcript metrics (/metrics): bytes read, records skipped by reason, paths refused. */
    agentMetrics: Record<string, number>;
  };
}

/** The agent's transcript counters from its /metrics text, summed over label sets except `reason`. */
function transcriptMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(claude_otel_transcript\w*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const reason = /reason="([^"]*)"/.exec(m[2] ?? '')?.[1];
    const key = reason ? `${m[1]}{${reason}}` : m[1]!;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

function metricTotals(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(claude_otel_(?:events_total|events_rejected_total|spans_exported_total|export_failures_total|spans_dropped_total|gaps_total))(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

async function runAgent(receiver: ReturnType<typeof countingReceiver>, receiverUrl: string, cpuProfDir?: string, withTranscripts = false): Promise<AgentRound> {
  await receiver.reset(withTranscripts);
  const home = mkdtempSync(join(tmpdir(), 'agent-load-'));
  const port = await freePort();
  let tx: Transcripts | undefined;
  let configDir: string | undefined;
  if (withTranscripts) ({ configDir, tx } = transcriptDir());
  const agent: AgentProcess = await startAgentProcess({
    home, port, otlpEndpoint: receiverUrl, profile: args.profile,
    nodeArgs: [...(args['agent-node-args'] ? args['agent-node-args'].split(' ') : []), ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [])],
    ...(configDir ? { env: { CLAUDE_CONFIG_DIR: configDir } } : {}),
  });
  try {
    await sleep(300);
    const idleRssMb = round(memoryMb(agent.pid).rss, 1);
    const m = await measured(agent.pid, () => generate(agent.url, agent.token, tx));
    const result = m.result;
    const expectedSpans = result.sessions * (SPANS_PER_SESSION + (tx ? CHAT_PER_SESSION : 0));
    const t0 = Date.now();
    while ((await receiver.counts()).uniqueSpans < expectedSpans && Date.now() - t0 < 30_000) await sleep(100);
    const waitedMs = Date.now() - t0;
    const before = await receiver.counts();
    const metricsText = await (await fetch(`${agent.url}/metrics`)).text();
    const name = findMetric(metricsText, 'handling_duration') ?? 'claude_otel_handling_duration';
    const h = parseHistogram(metricsText, name)!;
    const mem = memoryMb(agent.pid);
    if (args['heap-snapshot'] && !cpuProfDir) {
      // the agent was started with --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR (see --agent-node-args)
      process.kill(agent.pid, 'SIGUSR2');
      const dir = args['heap-snapshot'];
      for (let i = 0; i < 600 && !readdirSync(dir).some((f) => f.endsWith('.heapsnapshot')); i++) await sleep(100);
      await sleep(3000);
    }
    await agent.stop();
    await sleep(200);
    const after = await receiver.counts();
    const chat = await receiver.chatCounts();
    const txMetrics = transcriptMetrics(metricsText);
    return {
      ...result,
      idleRssMb,
      rssCurveMb: m.rssCurveMb,
      serverCpuUsPerEvent: m.serverCpuUsPerEvent,
      serverSysUsPerEvent: m.serverSysUsPerEvent,
      generatorCpuUsPerEvent: m.generatorCpuUsPerEvent,
      peakRssMb: round(mem.hwm, 1),
      rssAfterMb: round(mem.rss, 1),
      expectedSpans,
      receivedBeforeStop: { spans: before.spans, uniqueSpans: before.uniqueSpans, logs: before.logs, waitedMs },
      receivedAfterStop: { spans: after.spans, uniqueSpans: after.uniqueSpans, logs: after.logs },
      metrics: metricTotals(metricsText),
      handling: {
        p50: round(histogramQuantile(h, 0.5).interpolated, 3),
        p99: round(histogramQuantile(h, 0.99).interpolated, 3),
        p99Bound: histogramQuantile(h, 0.99).bound,
        over2ms: h.count - (h.buckets.find((b) => b.le === 2)?.count ?? 0),
        count: h.count,
      },
      ...(tx
        ? {
            transcripts: {
              sessions: tx.sessions,
              recordsWritten: tx.records,
              bytesWritten: tx.bytes,
              expectedChatSpans: result.sessions * CHAT_PER_SESSION,
              chatSpansReceived: chat.chatSpans,
              modelCallRollUps: chat.modelCallRollUps,
              rollUpsRight: Object.keys(chat.modelCallRollUps).length === 1 && chat.modelCallRollUps[CHAT_PER_SESSION] === 2 * result.sessions,
              agentMetrics: txMetrics,
              readOnce: txMetrics.claude_otel_transcript_bytes_total === tx.bytes,
            },
          }
        : {}),
    };
  } finally {
    await agent.stop();
    if (process.env.AGENT_LOAD_KEEP_LOG) writeFileSync(process.env.AGENT_LOAD_KEEP_LOG, readFileSync(join(home, "agent.log")));
    rmSync(home, { recursive: true, force: true });
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- cpu profile summary
interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }

/** Self and inclusive time per function (file:function:line) over the samples taken during the load
 *  window [fromUs, toUs] (monotonic clock µs, the clock V8's profiler and process.hrtime share),
 *  as % of the non-idle samples of that window. */
function summarizeProfile(file: string, top: number, window: { fromUs: number; toUs: number }) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let total = 0;
  let idle = 0;
  let windowUs = 0;
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < window.fromUs || t > window.toUs) return;
    windowUs += dt;
    if (byId.get(id)!.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const short = (url: string) => url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '').replace(/^.*node_modules\//, 'node_modules/');
  const key = (n: ProfileNode) => `${short(n.callFrame.url) || '(native)'}:${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber + 1}`;
  const selfBy = new Map<string, number>();
  const inclBy = new Map<string, number>();
  const fileBy = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    selfBy.set(key(n), (selfBy.get(key(n)) ?? 0) + t);
    const f = short(n.callFrame.url) || `(${n.callFrame.functionName || 'native'})`;
    const pkg = f.startsWith('node_modules/') ? f.split('/').slice(0, f.includes('/@') ? 3 : 2).join('/') : f;
    fileBy.set(pkg, (fileBy.get(pkg) ?? 0) + t);
    // inclusive: every distinct frame on the stack
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      inclBy.set(k, (inclBy.get(k) ?? 0) + t);
    }
  }
  const pct = (t: number) => round((100 * t) / total, 1);
  const topOf = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, t]) => ({ name, pct: pct(t) }));
  const ours = (m: Map<string, number>) => new Map([...m.entries()].filter(([k]) => k.startsWith('dist/')));
  return {
    windowMs: Math.round(windowUs / 1000),
    busyMs: Math.round(total / 1000),
    idlePct: round((100 * idle) / Math.max(windowUs, 1), 1),
    selfTop: topOf(selfBy, top),
    inclusiveTopOurs: topOf(ours(inclBy), top),
    byFile: topOf(fileBy, top),
  };
}

/** Transcript rounds against the same run's baseline and agent without transcripts. */
/**
 * `baselineTx`: the trivial server while the generator writes the same transcripts. The generator
 * shares the machine's cores with the server, and writing the transcripts (Claude Code's work, not
 * the agent's) costs it CPU: the ratio to this baseline is the agent's own share.
 */
function transcriptSummary(rounds: AgentRound[], baseline: { eventsPerSec: number; cpuUsPerEvent: number; peakRssMb: number }, off: { eventsPerSec: number; cpuUsPerEvent: number; peakRssMb: number }, baselineTx: { eventsPerSec: number; generatorCpuUsPerEvent: number }[]) {
  const evs = median(rounds.map((a) => a.eventsPerSec));
  const cpu = median(rounds.map((a) => a.serverCpuUsPerEvent));
  const peak = Math.max(...rounds.map((a) => a.peakRssMb));
  const bTx = median(baselineTx.map((b) => b.eventsPerSec));
  return {
    eventsPerSec: Math.round(evs),
    baselineWritingTranscriptsEventsPerSec: Math.round(bTx),
    ratioToBaselineWritingTranscripts: round(evs / bTx, 3),
    generatorCpuUsPerEvent: { agent: median(rounds.map((a) => a.generatorCpuUsPerEvent)), baselineWritingTranscripts: median(baselineTx.map((b) => b.generatorCpuUsPerEvent)) },
    ratioToBaseline: round(evs / baseline.eventsPerSec, 3),
    ratioToOff: round(evs / off.eventsPerSec, 3),
    cpuUsPerEvent: round(cpu, 1),
    cpuPerEventRatioToBaseline: round(cpu / baseline.cpuUsPerEvent, 2),
    cpuPerEventRatioToOff: round(cpu / off.cpuUsPerEvent, 2),
    cpuBoundEventsPerSec: Math.round(1e6 / cpu),
    idleRssMb: median(rounds.map((a) => a.idleRssMb)),
    peakRssMb: peak,
    peakRssRatioToBaseline: round(peak / baseline.peakRssMb, 2),
    peakRssRatioToOff: round(peak / off.peakRssMb, 2),
    handlingP99Ms: Math.max(...rounds.map((a) => a.handling.p99)),
    allSpansArrived: rounds.every((a) => a.receivedAfterStop.uniqueSpans === a.expectedSpans && a.receivedAfterStop.spans === a.expectedSpans),
    allSpansArrivedBeforeStop: rounds.every((a) => a.receivedBeforeStop.uniqueSpans === a.expectedSpans),
    allChatSpansArrived: rounds.every((a) => a.transcripts!.chatSpansReceived === a.transcripts!.expectedChatSpans),
    rollUpsRight: rounds.every((a) => a.transcripts!.rollUpsRight),
    readOnce: rounds.every((a) => a.transcripts!.readOnce),
    transcriptMbPerRound: median(rounds.map((a) => round(a.transcripts!.bytesWritten / 1e6, 1))),
    errors: rounds.reduce((n, a) => n + a.errors, 0),
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const m = machine();
  log(`${CONCURRENCY} concurrent sessions, ${T} tools/session (${EVENTS_PER_SESSION} events, ${SPANS_PER_SESSION} spans${TRANSCRIPTS ? `, + ${CHAT_PER_SESSION} chat spans with transcripts` : ''}), budget ${MAX_EVENTS} events / ${MAX_SECONDS} s, ${ROUNDS} rounds, agent profile ${args.profile}`);
  const receiver = countingReceiver();
  const receiverUrl = await receiver.start();

  const baseline: Awaited<ReturnType<typeof runBaseline>>[] = [];
  const agent: AgentRound[] = [];
  const agentTx: AgentRound[] = [];
  const baselineTx: Awaited<ReturnType<typeof runBaseline>>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const kinds = TRANSCRIPTS ? ['baseline', 'agent', 'agent+transcripts', 'baseline+transcripts'] : ['baseline', 'agent'];
    const order = r % 2 === 0 ? kinds : [...kinds].reverse();
    for (const what of order) {
      if (what === 'baseline') {
        const b = await runBaseline();
        baseline.push(b);
        log(`round ${r} baseline: ${b.eventsPerSec} ev/s (${b.events} events in ${b.seconds} s), server CPU ${b.serverCpuUsPerEvent} µs/event`);
      } else if (what === 'baseline+transcripts') {
        const b = await runBaseline(true);
        baselineTx.push(b);
        log(`round ${r} baseline+tx: ${b.eventsPerSec} ev/s (${b.events} events in ${b.seconds} s), server CPU ${b.serverCpuUsPerEvent} µs/event, generator CPU ${b.generatorCpuUsPerEvent} µs/event`);
      } else if (what === 'agent+transcripts') {
        const a = await runAgent(receiver, receiverUrl, undefined, true);
        agentTx.push(a);
        const t = a.transcripts!;
        log(`round ${r} agent+tx: ${a.eventsPerSec} ev/s (${a.events} events in ${a.seconds} s), peak RSS ${a.peakRssMb} MB, spans ${a.receivedAfterStop.uniqueSpans}/${a.expectedSpans}, chat ${t.chatSpansReceived}/${t.expectedChatSpans}, roll-ups ${t.rollUpsRight ? 'right' : `WRONG ${JSON.stringify(t.modelCallRollUps)}`}, read once ${t.readOnce ? 'yes' : `NO ${JSON.stringify(t.agentMetrics)}`}, handling p99 ${a.handling.p99} ms, agent CPU ${a.serverCpuUsPerEvent} µs/event, ${Math.round(t.bytesWritten / 1e6)} MB of transcript`);
      } else {
        const a = await runAgent(receiver, receiverUrl);
        agent.push(a);
        log(`round ${r} agent:    ${a.eventsPerSec} ev/s (${a.events} events in ${a.seconds} s), peak RSS ${a.peakRssMb} MB, spans ${a.receivedAfterStop.uniqueSpans}/${a.expectedSpans}, handling p99 ${a.handling.p99} ms, agent CPU ${a.serverCpuUsPerEvent} µs/event, RSS idle ${a.idleRssMb} MB`);
      }
    }
  }

  let profile: ReturnType<typeof summarizeProfile> | undefined;
  let profiled: AgentRound | undefined;
  if (args['cpu-prof']) {
    const dir = mkdtempSync(join(tmpdir(), 'agent-prof-'));
    profiled = await runAgent(receiver, receiverUrl, dir, TRANSCRIPTS);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      profile = summarizeProfile(join(dir, file), Number(args['prof-top']), profiled.windowUs);
      const keep = join(ROOT, '.tmp', 'agent-load.cpuprofile');
      try {
        writeFileSync(keep, readFileSync(join(dir, file)));
        log(`cpu profile kept at ${keep}`);
      } catch {
        /* .tmp may not exist */
      }
    }
    rmSync(dir, { recursive: true, force: true });
    log(`profiled agent${TRANSCRIPTS ? ' (transcripts on)' : ''}: ${profiled.eventsPerSec} ev/s`);
  }
  await receiver.close();

  const bMed = median(baseline.map((b) => b.eventsPerSec));
  const aMed = median(agent.map((a) => a.eventsPerSec));
  const bCpu = median(baseline.map((b) => b.serverCpuUsPerEvent));
  const aCpu = median(agent.map((a) => a.serverCpuUsPerEvent));
  const transcripts = TRANSCRIPTS ? transcriptSummary(agentTx, { eventsPerSec: bMed, cpuUsPerEvent: bCpu, peakRssMb: Math.max(...baseline.map((b) => b.rssMb)) }, { eventsPerSec: aMed, cpuUsPerEvent: aCpu, peakRssMb: Math.max(...agent.map((a) => a.peakRssMb)) }, baselineTx) : undefined;
  const report = {
    machine: m,
    settings: { concurrency: CONCURRENCY, toolsPerSession: T, eventsPerSession: EVENTS_PER_SESSION, spansPerSession: SPANS_PER_SESSION, maxEvents: MAX_EVENTS, maxSeconds: MAX_SECONDS, rounds: ROUNDS, agentProfile: args.profile, client: 'undici Pool, keep-alive, pipelining 1',
      ...(TRANSCRIPTS ? { transcripts: { chatSpansPerSession: CHAT_PER_SESSION, spansPerSession: SPANS_PER_SESSION + CHAT_PER_SESSION, fixture: 'test/fixtures/claude-code-2.1.332/transcripts/session.jsonl', roundOrder: 'baseline, agent, agent+transcripts, baseline+transcripts; reversed every other round', dir: args['transcript-dir'] ?? tmpdir() } } : {}) },
    baseline,
    agent,
    ...(TRANSCRIPTS ? { agentTranscripts: agentTx, baselineTranscripts: baselineTx } : {}),
    summary: {
      baselineEventsPerSec: Math.round(bMed),
      agentEventsPerSec: Math.round(aMed),
      ratio: round(aMed / bMed, 3),
      agentCpuUsPerEvent: median(agent.map((a) => a.serverCpuUsPerEvent)),
      baselineCpuUsPerEvent: median(baseline.map((b) => b.serverCpuUsPerEvent)),
      cpuPerEventRatio: round(median(agent.map((a) => a.serverCpuUsPerEvent)) / median(baseline.map((b) => b.serverCpuUsPerEvent)), 2),
      /** events/s one fully free core could take at the measured CPU cost per event */
      agentCpuBoundEventsPerSec: Math.round(1e6 / median(agent.map((a) => a.serverCpuUsPerEvent))),
      agentIdleRssMb: median(agent.map((a) => a.idleRssMb)),
      agentPeakRssMb: Math.max(...agent.map((a) => a.peakRssMb)),
      baselinePeakRssMb: Math.max(...baseline.map((b) => b.rssMb)),
      allSpansArrived: agent.every((a) => a.receivedAfterStop.uniqueSpans === a.expectedSpans && a.receivedAfterStop.spans === a.expectedSpans),
      allSpansArrivedBeforeStop: agent.every((a) => a.receivedBeforeStop.uniqueSpans === a.expectedSpans),
      handlingP99Ms: Math.max(...agent.map((a) => a.handling.p99)),
      errors: agent.reduce((n, a) => n + a.errors, 0) + baseline.reduce((n, b) => n + b.errors, 0),
      ...(transcripts ? { transcripts } : {}),
    },
    ...(profiled ? { profiled: { eventsPerSec: profiled.eventsPerSec, ...(TRANSCRIPTS ? { transcripts: true } : {}), profile } } : {}),
  };
  const json = JSON.stringify(report, null, 2);
  if (args.out) writeFileSync(args.out, json);
  process.stdout.write(`${json}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`agent-load failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
