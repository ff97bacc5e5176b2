// Transcript reading at size: a 50 MB transcript (rows of the real 2.1.332 fixture repeated with
// fresh message ids, plus large blob and attachment lines like a long session has) read through
// the agent's path (src/transcript/reader.ts + src/model-calls/processor.ts, from dist/), each
// mode in its own process so that its peak RSS (getrusage maxRSS) is its own:
//   baseline  an empty node process (the floor)
//   naive     readFileSync + split + JSON.parse of every line (what bounded reading avoids)
//   whole     our reader, whole file in one go (an agent started late on a long session)
//   appended  our reader after each 1 MB appended (a live session): also checks that no byte is
//             read twice (bytes read == file size) and every response becomes one span
// Run: npm run build && node bench/transcript/run.mjs [--mb 50] [--out docs/benchmarks-transcript.md]
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const MB = Number(opt('mb', '50'));
const OUT = opt('out', undefined);

if (process.env.BENCH_CHILD) {
  const mode = process.env.BENCH_CHILD;
  const file = process.env.BENCH_FILE;
  const started = performance.now();
  let result = {};
  if (mode === 'naive') {
    let n = 0;
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line) { JSON.parse(line); n++; }
    result = { lines: n };
  } else if (mode === 'whole' || mode === 'appended') {
    const { createTranscriptReader } = await import(join(ROOT, 'dist/transcript/reader.js'));
    const { createModelCallProcessor } = await import(join(ROOT, 'dist/model-calls/processor.js'));
    const { createUsageLedger } = await import(join(ROOT, 'dist/model-calls/ledger.js'));
    const { createPricer } = await import(join(ROOT, 'dist/model-calls/prices.js'));
    const reader = createTranscriptReader();
    const processor = createModelCallProcessor({ ledger: createUsageLedger(), pricer: createPricer(), now: Date.now });
    let spans = 0;
    let batch = [];
    const read = (path) => {
      reader.read(path, (r) => { batch.push(r); if (batch.length >= 256) { spans += processor.records(path, 's', undefined, batch).length; batch = []; } });
      spans += processor.records(path, 's', undefined, batch).length;
      batch = [];
    };
    if (mode === 'whole') read(file);
    else {
      // The parent wrote the source; we append it to a live file 1 MB at a time, reading after each.
      const live = `${file}.live`;
      writeFileSync(live, '');
      const src = readFileSync(file); // the writer's copy, not the reader's memory: measured separately below
      const rssBefore = process.memoryUsage().rss;
      for (let at = 0; at < src.length; at += 1 << 20) {
        appendFileSync(live, src.subarray(at, Math.min(src.length, at + (1 << 20))));
        read(live);
      }
      result.rssAboveWriterCopy = Math.max(0, process.memoryUsage().rss - rssBefore);
      result.fileBytes = statSync(live).size;
    }
    spans += processor.flush(mode === 'whole' ? file : `${file}.live`).length;
    result = { ...result, spans, bytesRead: reader.counters.bytes, otherTypes: Object.values(processor.counters.otherTypes).reduce((a, b) => a + b, 0) };
  }
  result.ms = performance.now() - started;
  result.maxRssKb = process.resourceUsage().maxRSS;
  globalThis.gc?.();
  result.heapAfterGcKb = Math.round(process.memoryUsage().heapUsed / 1024);
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

// --- build the transcript ---------------------------------------------------------------------
const fixture = readFileSync(join(ROOT, 'test/fixtures/claude-code-2.1.332/transcripts/session.jsonl'), 'utf8').trim().split('\n');
const dir = mkdtempSync(join(tmpdir(), 'bench-transcript-'));
const file = join(dir, 'session.jsonl');
const target = MB * 1024 * 1024;
let size = 0;
let round = 0;
const responsesPerRound = new Set(fixture.filter((l) => l.includes('"type":"assistant"')).map((l) => JSON.parse(l).message.id)).size;
const blob = (kb) => JSON.stringify({ type: 'api-request-blob', sessionId: 's', hash: 'h', message: { role: 'user', content: [{ type: 'text', text: 'x'.repeat(kb * 1024) }] } });
const parts = [];
while (size < target) {
  round++;
  for (const line of fixture) {
    const out = line.replace(/msg_([0-9a-f]+)/g, `msg_$1_${round}`);
    parts.push(out);
    size += out.length + 1;
  }
  const big = blob(round % 10 === 0 ? 900 : 60); // a long tool result now and then
  parts.push(big);
  size += big.length + 1;
  if (parts.length > 2000) {
    appendFileSync(file, `${parts.join('\n')}\n`);
    parts.length = 0;
  }
}
appendFileSync(file, parts.length ? `${parts.join('\n')}\n` : '');
const fileBytes = statSync(file).size;

// The agent's own V8 flags (src/agent/node-flags.ts): a bounded heap must be enough.
const { AGENT_NODE_FLAGS } = await import(join(ROOT, 'dist/agent/node-flags.js'));
const child = (mode) => JSON.parse(execFileSync(process.execPath, [...AGENT_NODE_FLAGS, '--expose-gc', fileURLToPath(import.meta.url)], { env: { ...process.env, BENCH_CHILD: mode, BENCH_FILE: file }, maxBuffer: 1 << 20 }).toString());
const results = {};
for (const mode of ['baseline', 'naive', 'whole', 'appended']) results[mode] = child(mode);
rmSync(dir, { recursive: true, force: true });

const mb = (kb) => (kb / 1024).toFixed(1);
const base = results.baseline.maxRssKb;
const expectedSpans = round * responsesPerRound;
const rows = [
  ['naive (readFileSync + split + parse)', results.naive],
  ['reader, whole file at once', results.whole],
  ['reader, after each 1 MB appended', results.appended],
];
const table = [
  `| mode | time | MB/s | peak RSS | above baseline (${mb(base)} MB) | heap live after GC |`,
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(([name, r]) => `| ${name} | ${(r.ms / 1000).toFixed(2)} s | ${(fileBytes / 1048576 / (r.ms / 1000)).toFixed(0)} | ${mb(r.maxRssKb)} MB | ${mb(r.maxRssKb - base)} MB | ${mb(r.heapAfterGcKb)} MB |`),
].join('\n');
const checks = [
  `whole: ${results.whole.spans} spans for ${expectedSpans} responses, ${results.whole.bytesRead} of ${fileBytes} bytes read once, ${results.whole.otherTypes} records of other types counted`,
  `appended: ${results.appended.spans} spans, ${results.appended.bytesRead} bytes read for a ${results.appended.fileBytes}-byte file (no byte twice), RSS growth over the run beyond the writer's own copy ${mb((results.appended.rssAboveWriterCopy ?? 0) / 1024)} MB`,
];
const report = `# Transcript reading (${(fileBytes / 1048576).toFixed(1)} MB transcript)\n\nMeasured by \`node bench/transcript/run.mjs --mb ${MB}\` on ${new Date().toISOString().slice(0, 10)}, one process per mode, each with the agent's V8 flags (${AGENT_NODE_FLAGS.join(' ')}); peak RSS = getrusage maxRSS of that process, live heap = heapUsed after a forced GC at the end. The appended mode's process also holds the writer's copy of the file (${(fileBytes / 1048576).toFixed(0)} MB) to append from; its own growth is given below.\n\n${table}\n\n${checks.map((c) => `- ${c}`).join('\n')}\n`;
process.stdout.write(report);
if (OUT) writeFileSync(join(ROOT, OUT), report);
if (results.whole.spans !== expectedSpans || results.appended.spans !== expectedSpans || results.appended.bytesRead !== results.appended.fileBytes) {
  process.stderr.write('bench: span count or byte count mismatch\n');
  process.exit(1);
}
