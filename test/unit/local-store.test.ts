import { mkdtemp, readdir, readFile, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { context, trace, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { createLocalStoreExporter, type LocalStoreExporter } from '../../src/store/local-store.js';
import { fileKeyFor } from '../../src/store/session-key.js';
import { findSession, listSessions, readSession, AmbiguousSessionError } from '../../src/store/session-reader.js';
import { defaultStoreDir } from '../../src/store/store-dir.js';
import { parseLine } from '../../src/store/stored-span.js';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

/** Builds real ReadableSpans with a BasicTracerProvider and an in-memory exporter. */
function recorder() {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'claude-otel-bridge', 'host.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('test');
  function start(name: string, attrs: Attributes, startMs: number, parent?: Span): Span {
    const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
    return tracer.startSpan(name, { attributes: attrs, startTime: startMs }, ctx);
  }
  function take(): ReadableSpan[] {
    const spans = memory.getFinishedSpans().slice();
    memory.reset();
    return spans;
  }
  return { start, take, shutdown: () => provider.shutdown() };
}

/** One small session: root, one turn, one Bash tool (failing), as ReadableSpans. */
function sessionSpans(rec: ReturnType<typeof recorder>, sessionId: string, t0 = T0, endRoot = true): ReadableSpan[] {
  const base = { 'session.id': sessionId };
  const root = rec.start('invoke_agent claude-code', { ...base, 'claude_code.span.kind': 'session', 'claude_code.cwd': '/repo' }, t0);
  const turn = rec.start('claude_code.turn', { ...base, 'claude_code.span.kind': 'turn' }, t0 + 1000, root);
  const tool = rec.start(
    'execute_tool Bash',
    { ...base, 'claude_code.span.kind': 'tool', 'gen_ai.tool.name': 'Bash', 'error.type': 'exit_code_3' },
    t0 + 2000,
    turn,
  );
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'exit 3' });
  tool.addEvent('claude_code.hook.Notification', { message: 'hi' }, t0 + 2500);
  tool.end(t0 + 3000);
  turn.end(t0 + 4000);
  if (endRoot) root.end(t0 + 5000);
  return rec.take();
}

function exportAsync(exporter: LocalStoreExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'local-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createLocalStoreExporter', () => {
  it('appends one JSON line per span to the session file, resource once', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    const spans = sessionSpans(rec, 'sess-1');
    // Two exports into the same file: the second must not repeat the resource line.
    expect((await exportAsync(exporter, spans.slice(0, 1))).code).toBe(ExportResultCode.SUCCESS);
    expect((await exportAsync(exporter, spans.slice(1))).code).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();

    expect(await readdir(dir)).toEqual(['sess-1.jsonl']);
    const lines = (await readFile(join(dir, 'sess-1.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const parsed = lines.map((l) => parseLine(l));
    expect(parsed.map((p) => p?.type)).toEqual(['resource', 'span', 'span', 'span']);
    expect(parsed[0]).toMatchObject({ attributes: { 'service.name': 'claude-otel-bridge' } });

    const stored = await readSession(dir, 'sess-1');
    expect(stored).toHaveLength(3);
    const bash = stored!.find((s) => s.name === 'execute_tool Bash')!;
    const turn = stored!.find((s) => s.name === 'claude_code.turn')!;
    expect(bash).toMatchObject({
      parentSpanId: turn.spanId,
      kind: 'internal',
      status: { code: 'error', message: 'exit 3' },
      startTimeUnixNano: String(BigInt(T0 + 2000) * 1_000_000n),
      endTimeUnixNano: String(BigInt(T0 + 3000) * 1_000_000n),
      attributes: { 'gen_ai.tool.name': 'Bash', 'error.type': 'exit_code_3' },
      events: [{ name: 'claude_code.hook.Notification', attributes: { message: 'hi' } }],
    });
    const root = stored!.find((s) => s.name === 'invoke_agent claude-code')!;
    expect(root.parentSpanId).toBeUndefined();
    await rec.shutdown();
  });

  it('fails exports after shutdown, and shutdown is idempotent', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    await exporter.shutdown();
    await exporter.shutdown();
    const result = await exportAsync(exporter, sessionSpans(rec, 's'));
    expect(result.code).toBe(ExportResultCode.FAILED);
    await rec.shutdown();
  });

  it('works through a real SimpleSpanProcessor and creates the directory', async () => {
    const nested = join(dir, 'a', 'store');
    const exporter = createLocalStoreExporter({ dir: nested, maxBytes: 0, maxAgeHours: 0 });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const span = provider.getTracer('t').startSpan('invoke_agent claude-code', {
      attributes: { 'session.id': 'direct', 'claude_code.span.kind': 'session' },
    });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    expect(await readSession(nested, 'direct')).toHaveLength(1);
    expect((await stat(nested)).mode & 0o777).toBe(0o700);
  });

  it('files spans without session.id under the session seen for their trace, else the trace id', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    const root = rec.start('invoke_agent claude-code', { 'session.id': 'known', 'claude_code.span.kind': 'session' }, T0);
    const child = rec.start('child', {}, T0 + 10, root);
    child.end(T0 + 20);
    root.end(T0 + 30);
    const lone = rec.start('lone', {}, T0);
    lone.end(T0 + 5);
    const [childSpan, rootSpan, loneSpan] = rec.take();
    await exportAsync(exporter, [rootSpan!]);
    await exportAsync(exporter, [childSpan!, loneSpan!]);
    await exporter.forceFlush();
    expect(await readSession(dir, 'known')).toHaveLength(2);
    const loneTrace = loneSpan!.spanContext().traceId;
    expect(await readSession(dir, loneTrace)).toHaveLength(1);
    await rec.shutdown();
  });

  it('never lets an unsafe session id reach the file system as a path', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    const bad = ['../../etc/passwd', 'a/b', 'x'.repeat(300), 'sp ace', '.hidden', ''];
    for (const id of bad) {
      await exportAsync(exporter, sessionSpans(rec, id));
    }
    await exporter.shutdown();
    const names = await readdir(dir);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]+\.jsonl$/);
    // '' falls back to the trace id; the others are hashed.
    expect(names.filter((n) => n.startsWith('h-'))).toHaveLength(5);
    expect(fileKeyFor('../../etc/passwd')).toMatch(/^h-[0-9a-f]{32}$/);
    // The real id is still what the reader shows, and lookup by it works.
    const sessions = await listSessions(dir);
    expect(sessions.map((s) => s.sessionId)).toContain('../../etc/passwd');
    expect(await readSession(dir, '../../etc/passwd')).toHaveLength(3);
    expect(await readSession(dir, '../../etc')).toHaveLength(3); // prefix, via the content
    await rec.shutdown();
  });
});

describe('reader', () => {
  it('collapses duplicate spans (a replay after a crash): the last line wins', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    const spans = sessionSpans(rec, 'dup');
    await exportAsync(exporter, spans);
    // A second process (new exporter) replays the journal: same ids, tool now succeeded.
    const replay = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    await exportAsync(replay, spans);
    await exporter.shutdown();
    await replay.shutdown();
    const text = await readFile(join(dir, 'dup.jsonl'), 'utf8');
    const firstBash = text.split('\n').find((l) => l.includes('execute_tool Bash'))!;
    await appendFile(join(dir, 'dup.jsonl'), firstBash.replace('"code":"error"', '"code":"ok"') + '\n');

    const stored = await readSession(dir, 'dup');
    expect(stored).toHaveLength(3);
    expect(stored!.find((s) => s.name === 'execute_tool Bash')!.status.code).toBe('ok');
    const [summary] = await listSessions(dir);
    expect(summary).toMatchObject({ sessionId: 'dup', spans: 3, tools: 1, turns: 1, errors: 0 });
    await rec.shutdown();
  });

  it('skips a truncated last line and foreign lines', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    await exportAsync(exporter, sessionSpans(rec, 'torn'));
    await exporter.shutdown();
    await appendFile(join(dir, 'torn.jsonl'), 'garbage\n{"type":"span","traceId":"ab"}\n{"type":"span","trace');
    expect(await readSession(dir, 'torn')).toHaveLength(3);
    await rec.shutdown();
  });

  it('lists sessions newest first with counts, open state and cwd', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    await exportAsync(exporter, sessionSpans(rec, 'older', T0));
    await exportAsync(exporter, sessionSpans(rec, 'newer-open', T0 + 60_000, false));
    await exporter.shutdown();
    const sessions = await listSessions(dir);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({
      sessionId: 'newer-open',
      open: true,
      turns: 1,
      tools: 1,
      errors: 1,
      start: new Date(T0 + 61_000).toISOString(),
      durationMs: 3000,
    });
    expect(sessions[0]!.end).toBeUndefined();
    expect(sessions[1]).toMatchObject({
      sessionId: 'older',
      open: false,
      start: new Date(T0).toISOString(),
      end: new Date(T0 + 5000).toISOString(),
      durationMs: 5000,
      cwd: '/repo',
    });
    expect(sessions[1]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    await rec.shutdown();
  });

  it('finds sessions by id, unique prefix and last; reports ambiguity and absence', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 0 });
    await exportAsync(exporter, sessionSpans(rec, 'abc-111', T0));
    await exportAsync(exporter, sessionSpans(rec, 'abc-222', T0 + 10_000));
    await exporter.shutdown();
    expect((await findSession(dir, 'abc-1')).status).toBe('found');
    expect(await findSession(dir, 'abc')).toEqual({ status: 'ambiguous', candidates: ['abc-111', 'abc-222'] });
    await expect(readSession(dir, 'abc')).rejects.toBeInstanceOf(AmbiguousSessionError);
    const last = await findSession(dir, 'last');
    expect(last.status === 'found' && last.summary.sessionId).toBe('abc-222');
    expect(await readSession(dir, 'zzz')).toBeUndefined();
    expect(await listSessions(join(dir, 'missing'))).toEqual([]);
    expect(await readSession(join(dir, 'missing'), 'last')).toBeUndefined();
    await rec.shutdown();
  });
});

describe('pruning', () => {
  it('deletes the least recently written sessions when the store exceeds maxBytes', async () => {
    const rec = recorder();
    // Measure one session's file size first.
    const probe = createLocalStoreExporter({ dir: join(dir, 'probe'), maxBytes: 0, maxAgeHours: 0 });
    await exportAsync(probe, sessionSpans(rec, 's0'));
    await probe.shutdown();
    const one = (await stat(join(dir, 'probe', 's0.jsonl'))).size;

    const store = join(dir, 'store');
    const exporter = createLocalStoreExporter({ dir: store, maxBytes: Math.floor(one * 2.5), maxAgeHours: 0, pruneEvery: 1000 });
    for (const id of ['s1', 's2', 's3', 's4']) {
      await exportAsync(exporter, sessionSpans(rec, id));
      await exporter.forceFlush();
      // Distinct mtimes, so "oldest" is well defined.
      await new Promise((r) => setTimeout(r, 15));
    }
    await exporter.forceFlush();
    const names = (await readdir(store)).sort();
    expect(names).toEqual(['s3.jsonl', 's4.jsonl']);
    await exporter.shutdown();
    await rec.shutdown();
  });

  it('keeps the session being written even when it alone exceeds maxBytes', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 10, maxAgeHours: 0 });
    await exportAsync(exporter, sessionSpans(rec, 'big'));
    await exporter.forceFlush();
    expect(await readdir(dir)).toEqual(['big.jsonl']);
    await exporter.shutdown();
    await rec.shutdown();
  });

  it('deletes sessions not written for maxAgeHours, using the injected clock', async () => {
    const rec = recorder();
    let now = Date.now();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 24, now: () => now, pruneEvery: 1000 });
    await exportAsync(exporter, sessionSpans(rec, 'old'));
    await exporter.forceFlush();
    now += 23 * 3_600_000;
    await exportAsync(exporter, sessionSpans(rec, 'mid'));
    await exporter.forceFlush();
    expect((await readdir(dir)).sort()).toEqual(['mid.jsonl', 'old.jsonl']);
    // 25 h after 'old' was written: pruning is due without a full pruneEvery cycle.
    now += 2 * 3_600_000;
    await exportAsync(exporter, sessionSpans(rec, 'new'));
    await exporter.forceFlush();
    // 'mid' was written (by the real clock) at about the same moment as 'old', so it goes too;
    // only the file written in this export is protected.
    expect(await readdir(dir)).toEqual(['new.jsonl']);
    await exporter.shutdown();
    await rec.shutdown();
  });

  it('ages by file mtime and leaves foreign files alone', async () => {
    const rec = recorder();
    const exporter = createLocalStoreExporter({ dir, maxBytes: 0, maxAgeHours: 1 });
    await writeFile(join(dir, 'notes.txt'), 'keep me');
    await exportAsync(exporter, sessionSpans(rec, 'a'));
    await exporter.forceFlush();
    const { utimes } = await import('node:fs/promises');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(join(dir, 'a.jsonl'), twoHoursAgo, twoHoursAgo);
    const result = await exporter.prune();
    expect(result.deleted).toEqual(['a']);
    expect(await readdir(dir)).toEqual(['notes.txt']);
    await exporter.shutdown();
    await rec.shutdown();
  });
});

describe('defaultStoreDir', () => {
  it('uses CLAUDE_OTEL_HOME, else ~/.claude-otel', () => {
    expect(defaultStoreDir({ CLAUDE_OTEL_HOME: '/x' }, () => '/home/u')).toBe('/x/store');
    expect(defaultStoreDir({}, () => '/home/u')).toBe('/home/u/.claude-otel/store');
  });
});
