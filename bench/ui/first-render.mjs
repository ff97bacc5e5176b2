// The web view with a 5,000-span session: time to first render of its waterfall, and to the last
// row after End, as ratios to an empty page (a store with no sessions) in the same headless
// Chromium run, interleaved, each load in a fresh browser context (no cache).
//   npm run build && node bench/ui/first-render.mjs [--rounds 10]
// Prints a JSON line and a markdown row for docs/benchmarks.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { createLocalSource } from '../../dist/ui/local-source.js';
import { startUiServer } from '../../dist/ui/server.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' } } });
const rounds = Number(values.rounds);
const root = join(import.meta.dirname, '..', '..');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const work = mkdtempSync(join(tmpdir(), 'ui-bench-'));
const big = join(work, 'big');
const empty = join(work, 'empty');
mkdirSync(big);
mkdirSync(empty);
const sid = '11111111-2222-4333-8444-555555555555';
const trace = sid.replace(/-/g, '');
const t0 = BigInt(Date.now() - 3_600_000) * 1_000_000n;
const line = (id, parent, name, kind, start, end) =>
  JSON.stringify({ type: 'span', traceId: trace, spanId: id, ...(parent ? { parentSpanId: parent } : {}), name, kind: 'internal', startTimeUnixNano: String(t0 + start), endTimeUnixNano: String(t0 + end), status: { code: 'unset' }, attributes: { 'session.id': sid, 'claude_code.span.kind': kind }, events: [] });
const lines = [line('r'.padStart(16, '0'), undefined, 'invoke_agent claude-code', 'session', 0n, 5_001_000_000n), line('t'.padStart(16, '0'), 'r'.padStart(16, '0'), 'claude_code.turn', 'turn', 0n, 5_000_000_000n)];
for (let i = 0; i < 4998; i++) lines.push(line(i.toString(16).padStart(16, '0'), 't'.padStart(16, '0'), `execute_tool Read${i}`, 'tool', BigInt(i) * 1_000_000n, BigInt(i) * 1_000_000n + 900_000n));
writeFileSync(join(big, `${sid}.jsonl`), lines.join('\n') + '\n');

const noAgent = async () => ({ agent: { running: false }, sessions: [] });
const serve = (storeDir) => startUiServer({ source: createLocalSource({ storeDir, live: noAgent }), assetsDir: join(root, 'dist', 'ui'), secret: 'b'.repeat(64) });
const [bigUi, emptyUi] = await Promise.all([serve(big), serve(empty)]);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: FLAGS });

async function load(ui, hash, ready) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(ui.loginUrl); // login (cookie) outside the timing
  const t = performance.now();
  await page.goto(`${ui.url}${hash}`);
  await page.locator(ready).first().waitFor();
  const firstMs = performance.now() - t;
  let endMs;
  if (hash) {
    await page.getByTestId('waterfall').focus();
    const s = performance.now();
    await page.keyboard.press('End');
    await page.locator('.wrow[data-name="execute_tool Read4997"]').waitFor();
    endMs = performance.now() - s;
  }
  await context.close();
  return { firstMs, endMs };
}

const emptyRuns = [];
const bigRuns = [];
await load(emptyUi, '', '.empty'); // warm-up
await load(bigUi, `#/s/${sid}`, '.wrow');
for (let i = 0; i < rounds; i++) {
  emptyRuns.push((await load(emptyUi, '', '.empty')).firstMs);
  bigRuns.push(await load(bigUi, `#/s/${sid}`, '.wrow[data-name="execute_tool Read0"]'));
}
await browser.close();
await Promise.all([bigUi.close(), emptyUi.close()]);
rmSync(work, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {
  rounds,
  emptyMedianMs: median(emptyRuns),
  bigFirstMedianMs: median(bigRuns.map((r) => r.firstMs)),
  bigEndMedianMs: median(bigRuns.map((r) => r.endMs)),
};
result.firstRenderRatio = result.bigFirstMedianMs / result.emptyMedianMs;
result.endRatio = result.bigEndMedianMs / result.emptyMedianMs;
console.log(JSON.stringify(result));
console.log(`| 5,000-span session: first waterfall render / End to the last row | ${result.bigFirstMedianMs.toFixed(0)} / ${result.bigEndMedianMs.toFixed(0)} ms | empty page ${result.emptyMedianMs.toFixed(0)} ms | ${result.firstRenderRatio.toFixed(2)} / ${result.endRatio.toFixed(2)} |`);
