#!/usr/bin/env node
// Hook event → visible in the web view, through the real pipeline, for both sources at once:
//   hook POST → agent (`node dist/cli.js agent`, own process, `store.localCopy` on)
//     local: → its store (batched, export.flushDelayMs of the profile) → `claude-otel ui` (polls the
//            store and the agent's /v1/status every 200 ms) → SSE → the page;
//     team:  → OTLP → OpenTelemetry Collector (scripts/stack.sh, otel-collector/config.yaml, with
//            Jaeger) → sink (own process, bench/sinks/sink-process.mjs: the service code of
//            `claude-otel sink` with our own Redis prefix) → PostgreSQL + Redis Streams →
//            `claude-otel ui --source team` (XREAD BLOCK) → SSE → the page.
//   Pages: headless Debian Chromium (playwright-core), one local and one team page per concurrent
//   session, each on that session's waterfall (`#/s/<id>`) before its first hook is sent.
//
//   npm run build && node bench/ui/freshness.mjs [--spans 240] [--workers 3] [--tools 5] [--turns 2]
//        [--profiles development,testing,production] [--json FILE] [--out docs/benchmarks.md]
//        [--section ui-freshness] [--raw FILE (every span's timestamps)]
//
// Measured per tool span, from just before its hook POST leaves this process:
//   local open:   PreToolUse → its row is drawn (the agent's open span, shown as running);
//   local closed: PostToolUse(Failure) → its row shows the outcome (the stored span arrived);
//   team closed:  PostToolUse(Failure) → its row is drawn with the outcome (the sink only has ended spans).
// "Drawn" is the first animation frame after a MutationObserver in the page saw the row (its
// `data-span-id` with the `data-mark`): the frame that paints it. Page clocks are mapped to ours
// by a round-trip calibration per page (offset from the fastest of 7 round trips).
//
// Baseline in the same run (the floor: the data is there, the web view has not been involved yet),
// per span, with the same clock:
//   local open:   the span is in the agent's /v1/status (polled every 5 ms while one is pending);
//   local closed: its line is in the store's session file (read every 5 ms, appended bytes only);
//   team closed:  its entry arrives on the sink's global Redis stream (XREAD BLOCK: what the ui reads).
// page − floor is what the web view itself adds (its 200 ms poll, SSE, rendering).
//
// Load: --workers concurrent sessions, each SessionStart, --turns × (UserPromptSubmit, --tools ×
// (PreToolUse, tool runs 20–300 ms, PostToolUse, or PostToolUseFailure for every 5th, 100–500 ms
// think time), Stop), SessionEnd, from the real payloads in test/fixtures/claude-code-2.1.332/hooks
// with fresh ids; new sessions start until --spans tool spans are tracked per profile. A worker
// waits until both pages show every tool span of its session closed before moving on.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import {
  REDIS_URL, ROOT, commandLine, commitOf, createScope, flushDelays, freePort, hookTemplates, rand, scratchStores, sleep,
  startAgent, startSink, startStack, stats, stopChild, writeSection,
} from '../lib/pipeline.mjs';

const { spanIdFor, spanKeys, traceIdFor } = await import(join(ROOT, 'dist/model/ids.js'));
const { values: args } = parseArgs({
  options: {
    spans: { type: 'string', default: '240' },
    workers: { type: 'string', default: '3' },
    tools: { type: 'string', default: '5' },
    turns: { type: 'string', default: '2' },
    profiles: { type: 'string', default: 'development,testing,production' },
    json: { type: 'string' },
    out: { type: 'string' },
    section: { type: 'string', default: 'ui-freshness' },
    raw: { type: 'string' },
  },
});
const SPANS = Number(args.spans);
const WORKERS = Number(args.workers);
const TOOLS = Number(args.tools);
const TURNS = Number(args.turns);
const PROFILES = args.profiles.split(',').map((s) => s.trim()).filter(Boolean);
const FLUSH_DELAY = await flushDelays();
const CLI = join(ROOT, 'dist/cli.js');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const say = (m) => process.stderr.write(`[ui-freshness] ${m}\n`);
const clock = () => performance.timeOrigin + performance.now();
// ---------------------------------------------------------------- hook payloads (real shapes, fresh ids)
const fill = hookTemplates(join(ROOT, 'test/fixtures/claude-code-2.1.332/hooks'), ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure.exit3', 'Stop', 'SessionEnd']);

// ---------------------------------------------------------------- what we start, undone at the end
const scope = createScope(say);
const work = mkdtempSync(join(tmpdir(), 'ui-freshness-'));
scope.defer(async () => rmSync(work, { recursive: true, force: true }));
const { dbUrl, prefix, redis } = await scratchStores(scope, 'uifresh');

let result;
try {
  result = await main();
} finally {
  await scope.close();
}
report(result);

/** `node dist/cli.js ui …` with its own CLAUDE_OTEL_HOME; resolves with the printed login URL. */
async function startUi(home, extra) {
  const port = await freePort();
  const env = { ...process.env, CLAUDE_OTEL_HOME: home };
  const child = spawn(process.execPath, [CLI, 'ui', '--port', String(port), ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  scope.defer(() => stopChild(child));
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const loginUrl = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`ui exited ${code}: ${err}`)));
  });
  return { child, loginUrl, base: `http://127.0.0.1:${port}/`, stop: () => stopChild(child) };
}

// Runs in every page: the first frame each row is drawn in, and the first in which it shows an outcome.
function observeRows() {
  const now = () => performance.timeOrigin + performance.now();
  const seen = new Map(); // spanId → { first, closed, firstDom, closedDom }
  const due = [];
  let frame = 0;
  const FINAL = new Set(['ok', 'error', 'denied', 'interrupted', 'gap', 'none']);
  const scan = () => {
    const t = now();
    for (const el of document.querySelectorAll('.wrow[data-span-id]')) {
      const id = el.getAttribute('data-span-id');
      let e = seen.get(id);
      if (!e) {
        seen.set(id, (e = {}));
        e.firstDom = t;
        due.push([e, 'first']);
      }
      if (e.closedDom === undefined && FINAL.has(el.getAttribute('data-mark'))) {
        e.closedDom = t;
        due.push([e, 'closed']);
      }
    }
    if (due.length && !frame) {
      frame = requestAnimationFrame(() => {
        const tf = now();
        for (const [e, k] of due) e[k] = tf;
        due.length = 0;
        frame = 0;
      });
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-span-id', 'data-mark'] });
  window.__bench = {
    seen,
    closedAll: (ids) => ids.every((id) => seen.get(id)?.closed !== undefined),
    dump: (ids) => Object.fromEntries(ids.map((id) => [id, seen.get(id) ?? null])),
    now,
  };
}

/** Page clock − our clock, from the fastest of 7 round trips. */
async function clockOffset(page) {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 7; i++) {
    const a = clock();
    const p = await page.evaluate(() => performance.timeOrigin + performance.now());
    const b = clock();
    if (b - a < best.rtt) best = { rtt: b - a, offset: p - (a + b) / 2 };
  }
  return best;
}

async function main() {
  const sink = await startSink(scope, { work, dbUrl, prefix });
  say(`sink ${sink.url}`);
  const { otlpEndpoint, batchTimeout } = await startStack(scope, { work, sink });
  say(`collector ${otlpEndpoint} (batch timeout ${batchTimeout})`);

  // ---- the team ui (one for every profile), over our database and prefix
  const teamHome = join(work, 'team-ui');
  mkdirSync(teamHome);
  const teamUi = await startUi(teamHome, ['--source', 'team', '--postgres', dbUrl, '--redis', REDIS_URL, '--redis-prefix', prefix]);
  say(`team ui ${teamUi.base}`);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
  scope.defer(() => browser.close());

  // ---- floor watchers (shared by every profile)
  const tracked = new Map(); // spanId → span record
  let watching = true;
  const reader = redis.duplicate();
  await reader.connect();
  const redisLoop = (async () => {
    let last = '$';
    while (watching) {
      const res = await reader.xRead({ key: `${prefix}:spans`, id: last }, { BLOCK: 200, COUNT: 1000 });
      const t = clock();
      for (const stream of res ?? []) {
        for (const m of stream.messages) {
          last = m.id;
          const e = tracked.get(m.message.span_id);
          if (e && e.floor.redis === undefined) e.floor.redis = t;
        }
      }
    }
  })();

  const runs = [];
  const raw = [];
  for (const profile of PROFILES) {
    runs.push(await runProfile(profile));
    raw.push({ profile, spans: runs.at(-1).spans });
    say(JSON.stringify(summarize(runs.at(-1))));
  }
  if (args.raw) writeFileSync(args.raw, JSON.stringify(raw));
  watching = false;
  await redisLoop;
  await reader.close();
  return { runs: runs.map(summarize), batchTimeout, date: new Date().toISOString().slice(0, 10), commit: commitOf(), load: loadavg()[0] };

  async function runProfile(profile) {
    say(`profile ${profile}: ${SPANS} tool spans, ${WORKERS} concurrent sessions`);
    const home = join(work, `agent-${profile}`);
    const agent = await startAgent(scope, { home, config: { profile, export: { otlpEndpoint }, store: { localCopy: true } } });
    const { url: agentUrl, headers, post } = agent;
    const localUi = await startUi(home, []);

    // pages: one browser context (its own login and window) per page
    const pagesFor = async (ui) => {
      const contexts = [];
      const pages = [];
      for (let w = 0; w < WORKERS; w++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        await context.addInitScript(observeRows);
        const page = await context.newPage();
        await page.goto(ui.loginUrl);
        await page.getByTestId('connection').getByText('live').waitFor({ timeout: 30_000 });
        contexts.push(context);
        pages.push(page);
      }
      return { close: () => Promise.all(contexts.map((c) => c.close())), pages };
    };
    const local = await pagesFor(localUi);
    const team = await pagesFor(teamUi);
    const offsets = new Map();
    for (const page of [...local.pages, ...team.pages]) offsets.set(page, await clockOffset(page));

    // floor watchers of this agent: its /v1/status (open spans) and its store (appended lines)
    let active = true;
    const pendingOpen = new Set();
    const pendingStore = new Set();
    const statusLoop = (async () => {
      while (active) {
        if (pendingOpen.size) {
          const body = await fetch(`${agentUrl}/v1/status`, { headers }).then((r) => r.json(), () => null);
          const t = clock();
          for (const s of body?.sessions ?? []) {
            for (const x of s.spans ?? []) {
              if (!pendingOpen.has(x.spanId)) continue;
              tracked.get(x.spanId).floor.open = t;
              pendingOpen.delete(x.spanId);
            }
          }
        }
        await sleep(5);
      }
    })();
    const storeDir = join(home, 'store');
    const offsetsByFile = new Map();
    const storeLoop = (async () => {
      while (active) {
        if (pendingStore.size && existsSync(storeDir)) {
          for (const name of readdirSync(storeDir)) {
            if (!name.endsWith('.jsonl')) continue;
            const file = join(storeDir, name);
            const from = offsetsByFile.get(file) ?? 0;
            const size = statSync(file).size;
            if (size <= from) continue;
            const fd = openSync(file, 'r');
            const buf = Buffer.alloc(size - from);
            readSync(fd, buf, 0, buf.length, from);
            closeSync(fd);
            const t = clock();
            const last = buf.lastIndexOf(0x0a);
            if (last < 0) continue;
            offsetsByFile.set(file, from + last + 1);
            for (const line of buf.subarray(0, last).toString('utf8').split('\n')) {
              let id;
              try {
                const parsed = JSON.parse(line);
                if (parsed.type === 'span') id = parsed.spanId;
              } catch {
                continue;
              }
              if (id && pendingStore.has(id)) {
                tracked.get(id).floor.store = t;
                pendingStore.delete(id);
              }
            }
          }
        }
        await sleep(5);
      }
    })();

    // load
    const spans = [];
    let sessions = 0;
    const t0 = clock();
    const worker = async (w) => {
      await sleep(w * 400);
      const pagesOfW = [local.pages[w], team.pages[w]];
      while (spans.length < SPANS) {
        const sid = randomUUID();
        await Promise.all(pagesOfW.map((p) => p.evaluate((h) => (location.hash = h), `#/s/${sid}`)));
        await Promise.all(pagesOfW.map((p) => p.locator('.empty, .wrow').first().waitFor({ timeout: 10_000 })));
        const mine = [];
        await post(fill('SessionStart', sid, ''));
        for (let turn = 0; turn < TURNS; turn++) {
          const pid = randomUUID();
          await post(fill('UserPromptSubmit', sid, pid));
          await sleep(rand(100, 400));
          for (let i = 0; i < TOOLS; i++) {
            const tid = `toolu_uifresh_${sid.slice(0, 8)}_${turn}_${i}`;
            const spanId = spanIdFor(sid, spanKeys.tool(tid));
            const e = { spanId, sessionId: sid, worker: w, failed: i === 3, floor: {} };
            tracked.set(spanId, e);
            spans.push(e);
            mine.push(spanId);
            pendingOpen.add(spanId);
            e.pre = clock();
            await post(fill('PreToolUse', sid, pid, tid));
            const ran = rand(20, 300);
            await sleep(ran);
            const body = e.failed ? fill('PostToolUseFailure.exit3', sid, pid, tid, { duration_ms: Math.round(ran) }) : fill('PostToolUse', sid, pid, tid, { duration_ms: Math.round(ran) });
            pendingStore.add(spanId);
            e.post = clock();
            await post(body);
            await sleep(rand(100, 500));
          }
          await post(fill('Stop', sid, pid));
        }
        await post(fill('SessionEnd', sid, ''));
        sessions++;
        // both pages show every tool span of this session closed (or give up), then collect them
        const timeout = FLUSH_DELAY[profile] + 30_000;
        const got = await Promise.all(pagesOfW.map((p) => p.waitForFunction((ids) => window.__bench.closedAll(ids), mine, { timeout, polling: 50 }).then(() => true, () => false)));
        if (!got.every(Boolean)) say(`session ${sid}: not every row closed within ${timeout} ms (local ${got[0]}, team ${got[1]})`);
        for (const [page, kind] of [[local.pages[w], 'local'], [team.pages[w], 'team']]) {
          const { offset } = offsets.get(page);
          const seen = await page.evaluate((ids) => window.__bench.dump(ids), mine);
          for (const id of mine) {
            const s = seen[id];
            const e = tracked.get(id);
            e[kind] = s ? { first: s.first - offset, closed: s.closed - offset, firstDom: s.firstDom - offset, closedDom: s.closedDom - offset } : {};
          }
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    const seconds = (clock() - t0) / 1000;
    // the floors of the last spans may still be pending (Redis: the team rows waited for them)
    for (const deadline = clock() + 5_000; (pendingOpen.size || pendingStore.size || spans.some((e) => e.floor.redis === undefined)) && clock() < deadline; ) await sleep(20);
    active = false;
    await Promise.all([statusLoop, storeLoop]);
    await Promise.all([local.close(), team.close()]);
    await localUi.stop();
    const hookErrors = agent.errors();
    await agent.stop();
    for (const e of spans) tracked.delete(e.spanId);
    const rtts = [...offsets.values()].map((o) => o.rtt);
    return { profile, flushDelayMs: FLUSH_DELAY[profile], spans, sessions, seconds, hookErrors, maxClockRttMs: Math.max(...rtts) };
  }
}

function summarize(run) {
  if (!run.spans) return run; // already summarized
  const d = (get) => {
    const xs = [];
    let missing = 0;
    for (const e of run.spans) {
      const v = get(e);
      if (Number.isFinite(v)) xs.push(v);
      else missing++;
    }
    return { ...stats(xs), missing };
  };
  const paths = {
    localOpen: { page: d((e) => e.local?.first - e.pre), dom: d((e) => e.local?.firstDom - e.pre), floor: d((e) => e.floor.open - e.pre), added: d((e) => e.local?.first - e.floor.open) },
    localClosed: { page: d((e) => e.local?.closed - e.post), dom: d((e) => e.local?.closedDom - e.post), floor: d((e) => e.floor.store - e.post), added: d((e) => e.local?.closed - e.floor.store) },
    teamClosed: { page: d((e) => e.team?.closed - e.post), dom: d((e) => e.team?.closedDom - e.post), floor: d((e) => e.floor.redis - e.post), added: d((e) => e.team?.closed - e.floor.redis) },
  };
  // A tool shorter than the ui's 200 ms poll of the agent can open and close between two polls: its
  // row is first drawn when the stored span arrives, already closed.
  const drawnClosed = (e) => e.local?.firstDom !== undefined && e.local.firstDom === e.local.closedDom;
  const neverRunning = run.spans.filter(drawnClosed).length;
  paths.localOpen.drawnRunning = stats(run.spans.filter((e) => !drawnClosed(e) && Number.isFinite(e.local?.first)).map((e) => e.local.first - e.pre));
  const { spans, ...rest } = run;
  return { ...rest, toolSpans: spans.length, failedTools: spans.filter((e) => e.failed).length, neverDrawnRunning: neverRunning, paths };
}

function report(r) {
  if (args.json) writeFileSync(args.json, JSON.stringify(r, null, 2));
  const f = (x) => (Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(1)) : '–');
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(1)}×` : '–');
  const LABEL = {
    localOpen: ['local', 'PreToolUse → row drawn (running)', "in the agent's /v1/status"],
    localClosed: ['local', 'PostToolUse → row shows the outcome', 'line in the store file'],
    teamClosed: ['team', 'PostToolUse → row drawn with the outcome', 'entry on the Redis stream'],
  };
  const rows = [];
  for (const run of r.runs) {
    for (const [key, [source, what, floorWhat]] of Object.entries(LABEL)) {
      const p = run.paths[key];
      const verdict = Number.isFinite(p.page.p95) ? (p.page.p95 <= 1000 ? 'yes' : '**no**') : '–';
      const note = key === 'localOpen' ? ` (${run.neverDrawnRunning} never drawn running; the others p50 ${f(p.drawnRunning.p50)}, p95 ${f(p.drawnRunning.p95)})` : '';
      rows.push(`| ${run.profile} (flush ${run.flushDelayMs} ms) | ${source} | ${what}${note} | ${p.page.n} | ${f(p.page.p50)} | **${f(p.page.p95)}** | ${f(p.page.max)} | ${floorWhat}: ${f(p.floor.p50)} / ${f(p.floor.p95)} | ${ratio(p.page.p95, p.floor.p95)} | ${f(p.added.p50)} / ${f(p.added.p95)} | ${verdict} | ${p.page.missing || p.floor.missing ? `${p.page.missing} / ${p.floor.missing}` : 'none'} |`);
    }
  }
  const cmd = commandLine('bench/ui/freshness.mjs', ['--out', '--json', '--section', '--raw']);
  const first = r.runs[0];
  const name = args.section;
  const text = `<!-- ${name}:begin (bench/ui/freshness.mjs) -->
\`${cmd}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${r.date}, commit ${r.commit},
load average ${r.load.toFixed(1)} at the end. ${WORKERS} concurrent sessions (one local and one team page each), ~${first ? Math.round(first.toolSpans / first.seconds) : '?'} tool spans/s;
collector batch timeout ${r.batchTimeout} (otel-collector/config.yaml). Milliseconds from the hook POST; floor and
"ui adds" (page − floor, per span) as p50 / p95.

| profile | source | hook → page | spans | p50 | p95 | max | floor p50 / p95 | p95 / floor p95 | ui adds p50 / p95 | p95 ≤ 1 s | missing (page / floor) |
| --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |
${rows.join('\n')}
<!-- ${name}:end -->`;
  if (args.out) writeSection(args.out, name, text);
  console.log(text);
  console.log(JSON.stringify(r));
}
