import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { listSessions } from '../../src/store/session-reader.js';
import { encodeResourceLine, encodeSpanLine, type StoredSpan } from '../../src/store/stored-span.js';
import { runSessionsCommand, runTraceCommand, type CommandIo } from '../../src/view/commands.js';
import { fitPath, formatDuration, sanitize } from '../../src/view/format.js';
import { renderSessionsTable, shortIds } from '../../src/view/sessions.js';
import { withSlowNotice } from '../../src/view/slow-notice.js';
import { toTraceTree } from '../../src/view/trace-tree.js';
import { labelOf, renderWaterfall } from '../../src/view/waterfall.js';

const T0 = BigInt(Date.UTC(2025, 0, 1)) * 1_000_000n;
const ms = (n: number): string => String(T0 + BigInt(n) * 1_000_000n);

function span(spanId: string, parentSpanId: string | undefined, name: string, start: number, end: number, attributes: StoredSpan['attributes'] = {}, error = false): StoredSpan {
  const s: StoredSpan = {
    traceId: 'a'.repeat(32),
    spanId,
    name,
    kind: 'internal',
    startTimeUnixNano: ms(start),
    endTimeUnixNano: ms(end),
    status: { code: error ? 'error' : 'unset' },
    attributes: { 'session.id': 'sess-1', ...attributes },
    events: [],
  };
  if (parentSpanId) s.parentSpanId = parentSpanId;
  return s;
}

const tool = (id: string, parent: string, toolName: string, start: number, end: number, input?: string, extra: StoredSpan['attributes'] = {}, error = false) =>
  span(id, parent, `execute_tool ${toolName}`, start, end, {
    'claude_code.span.kind': 'tool',
    'gen_ai.tool.name': toolName,
    ...(input !== undefined ? { 'claude_code.tool.input': input } : {}),
    ...extra,
  }, error);

const stripAnsi = (s: string): string => s.replace(/\u001b\[\d+m/g, '');

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999.4, '999ms'],
    [1000, '1.0s'],
    [59_949, '59.9s'],
    [59_950, '1m00s'],
    [245_000, '4m05s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h00m'],
    [7_500_000, '2h05m'],
  ])('%d ms → %s', (input, expected) => {
    expect(formatDuration(input)).toBe(expected);
  });
});

describe('format helpers', () => {
  it('strips control characters and escapes from captured text', () => {
    expect(sanitize('echo \u001b[31mred\u001b[0m\nls\t-la')).toBe('echo [31mred [0m ls -la');
  });
  it('fits paths by dropping leading segments', () => {
    expect(fitPath('/home/dev/projects/app', 30)).toBe('/home/dev/projects/app');
    expect(fitPath('/home/dev/projects/app', 15)).toBe('…/projects/app');
  });
});

describe('renderWaterfall', () => {
  const root = span('r', undefined, 'invoke_agent claude-code', 0, 10_000, { 'claude_code.span.kind': 'session' });
  const turn = span('t', 'r', 'claude_code.turn', 1000, 9000, { 'claude_code.span.kind': 'turn', 'claude_code.turn.number': 1 });

  it('nests children under parents, sorted by start, with bars, durations and marks', () => {
    const spans = [
      tool('b', 't', 'Bash', 5000, 8000, '{"command":"npm test"}', { 'error.type': 'exit_code_1' }, true),
      tool('a', 't', 'Read', 2000, 2100, '{"file_path":"src/a.ts"}'),
      turn,
      root,
    ];
    const lines = renderWaterfall(spans, { width: 80 }).split('\n');
    const rows = lines.slice(5);
    expect(rows[0]).toMatch(/^invoke_agent claude-code\s+█+\s+10\.0s ✓$/);
    expect(rows[1]).toMatch(/^ {2}turn 1\s+ +█+ +8\.0s ✓$/);
    expect(rows[2]).toMatch(/^ {4}Read src\/a\.ts\s+█ +100ms ✓$/);
    expect(rows[3]).toMatch(/^ {4}Bash npm test\s+█+ +3\.0s ✗ exit_code_1$/);
    // The bar of the root spans the whole bar column; the Bash bar starts half-way.
    const barStart = rows[0]!.indexOf('█');
    const rootBar = rows[0]!.match(/█+/)![0].length;
    expect(rows[3]!.indexOf('█') - barStart).toBe(Math.floor(rootBar / 2));
  });

  it('keeps orphans under a "(missing parent)" marker and says the session is open', () => {
    const spans = [turn, tool('x', 't', 'Bash', 2000, 3000), tool('y', 'gone', 'Read', 4000, 4500)];
    const text = renderWaterfall(spans, { width: 80, now: Date.UTC(2025, 0, 1, 0, 5) });
    expect(text.split('\n')[1]).toContain('open, last span 4m51s ago');
    const rows = text.split('\n').slice(5).filter(Boolean);
    expect(rows.map((r) => r.replace(/\s+█.*$/, '').trimEnd())).toEqual([
      '(missing parent)',
      '  turn 1',
      '    Bash',
      '(missing parent)',
      '  Read',
    ]);
  });

  it('keeps spans caught in a parent cycle', () => {
    const spans = [span('p', 'q', 'p-span', 0, 10), span('q', 'p', 'q-span', 1, 5)];
    const text = renderWaterfall(spans, { width: 80 });
    expect(text).toContain('p-span');
    expect(text).toContain('q-span');
    expect(toTraceTree(spans).spanCount).toBe(2);
  });

  it('marks gaps with … and denied tools with ✗ denied', () => {
    const spans = [
      root,
      tool('g', 'r', 'WebFetch', 1000, 2000, undefined, { 'claude_code.gap': 'missing_end', 'claude_code.tool.outcome': 'not_completed' }, true),
      tool('d', 'r', 'Bash', 3000, 4000, undefined, { 'claude_code.tool.outcome': 'denied', 'error.type': 'permission_denied' }, true),
    ];
    const text = renderWaterfall(spans, { width: 80 });
    expect(text).toMatch(/WebFetch +░+ +1\.0s … missing_end/);
    expect(text).toMatch(/Bash +█+ +1\.0s ✗ denied/);
  });

  it('stays within narrow widths and truncates names', () => {
    const long = tool('l', 'r', 'Bash', 0, 10, JSON.stringify({ command: 'x'.repeat(200) }));
    for (const width of [40, 60, 80, 132]) {
      const text = renderWaterfall([root, long], { width });
      for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(width);
      expect(text).toContain('Bash xxx');
      expect(text).toContain('…');
    }
  });

  it('paints with ANSI colors only when asked, same text underneath', () => {
    const spans = [root, turn, tool('b', 't', 'Bash', 5000, 8000, undefined, { 'error.type': 'exit_code_1' }, true)];
    const plain = renderWaterfall(spans, { width: 80, now: 0 });
    const colored = renderWaterfall(spans, { width: 80, color: true, now: 0 });
    expect(plain).not.toContain('\u001b[');
    expect(colored).toContain('\u001b[31m');
    expect(stripAnsi(colored)).toBe(plain);
  });

  it('says so when there is nothing to show', () => {
    expect(renderWaterfall([])).toBe('No spans.\n');
  });
});

describe('labelOf', () => {
  it('shows the key input field of captured tool input, even when the capture was cut', () => {
    expect(labelOf(tool('1', 'r', 'Bash', 0, 1, '{"command":"git status\\n  && ls","description":"x"}'))).toBe('Bash git status && ls');
    expect(labelOf(tool('1', 'r', 'Bash', 0, 1, '{"command":"npm run te'))).toBe('Bash npm run te');
    expect(labelOf(tool('1', 'r', 'Read', 0, 1, '{"file_path":"/home/u/proj/src/store/local-store.ts"}'))).toBe('Read …/store/local-store.ts');
    expect(labelOf(tool('1', 'r', 'Grep', 0, 1, '{"pattern":"foo"}'))).toBe('Grep foo');
    expect(labelOf(tool('1', 'r', 'Bash', 0, 1))).toBe('Bash');
    expect(labelOf(tool('1', 'r', 'mcp__github__create_issue', 0, 1, '{"title":"x"}'))).toBe('mcp__github__create_issue');
    expect(labelOf(tool('1', 'r', 'Bash', 0, 1, '{"command":"echo \\u001b[2J"}'))).toBe('Bash echo [2J');
  });
  it('names turns by number and prompt when captured', () => {
    expect(labelOf(span('t', 'r', 'claude_code.turn', 0, 1, { 'claude_code.span.kind': 'turn', 'claude_code.turn.number': 3 }))).toBe('turn 3');
    expect(
      labelOf(span('t', 'r', 'claude_code.turn', 0, 1, { 'claude_code.span.kind': 'turn', 'claude_code.turn.number': 3, 'claude_code.prompt': 'fix it' })),
    ).toBe('turn 3: fix it');
  });
});

describe('toTraceTree', () => {
  it('nests spans with offsets and marks synthetic parents', () => {
    const tree = toTraceTree([
      span('r', undefined, 'root', 0, 1000, { 'claude_code.span.kind': 'session' }),
      span('c', 'r', 'child', 250, 500),
      span('o', 'lost', 'orphan', 600, 700),
    ]);
    expect(tree).toMatchObject({ traceId: 'a'.repeat(32), sessionId: 'sess-1', durationMs: 1000, spanCount: 3 });
    expect(tree.roots).toHaveLength(2);
    expect(tree.roots[0]).toMatchObject({ name: 'root', startOffsetMs: 0, durationMs: 1000, children: [{ name: 'child', startOffsetMs: 250, durationMs: 250 }] });
    expect(tree.roots[1]).toMatchObject({ name: '(missing parent)', spanId: 'lost', missing: true, children: [{ name: 'orphan' }] });
  });
});

describe('renderSessionsTable', () => {
  it('aligns columns and shortens ids to unique prefixes', () => {
    const text = renderSessionsTable(
      [
        { sessionId: '5f1e0c2a-7b7d-4c1e-9a53-2b8f5d7e9c10', fileKey: 'x', traceId: 't', start: '2025-06-01T09:14:03.120Z', durationMs: 312_400, turns: 2, tools: 12, errors: 3, spans: 16, open: false, cwd: '/home/dev/projects/claude-otel-bridge', modelCalls: 9, costUsd: 0.1234 },
        { sessionId: '5f1e0c2a-8888-4c1e-9a53-2b8f5d7e9c10', fileKey: 'y', traceId: 't', start: '2025-05-31T18:02:00.000Z', durationMs: 45_000, turns: 1, tools: 0, errors: 0, spans: 1, open: true },
      ],
      { width: 88 },
    );
    expect(text).toBe(
      [
        'SESSION     STARTED       DURATION  TURNS  TOOLS  ERRORS    COST  STATE  PROJECT',
        '5f1e0c2a-7  06-01 09:14Z     5m12s      2     12       3  $0.123  ended  claude-otel-br…',
        '5f1e0c2a-8  05-31 18:02Z     45.0s      1      0       0       -  open',
        '',
      ].join('\n'),
    );
  });
  it('shortIds keeps at least 8 characters and extends only on clashes', () => {
    expect(shortIds(['abcdefghij', 'abcdefghzz', 'short'])).toEqual(['abcdefghi', 'abcdefghz', 'short']);
  });
});

// ---- CLI glue ------------------------------------------------------------------------------

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'view-cmd-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function io(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CommandIo = { stdout: (s) => out.push(s), stderr: (s) => err.push(s), env: { CLAUDE_OTEL_HOME: home, ...env }, now: () => Date.UTC(2025, 0, 1, 1) };
  return { io: value, out: () => out.join(''), err: () => err.join('') };
}

async function seedStore(): Promise<string> {
  const dir = join(home, 'store');
  await mkdir(dir, { recursive: true });
  const spansOf = (sid: string, offset: number): StoredSpan[] =>
    [
      span('r', undefined, 'invoke_agent claude-code', offset, offset + 5000, { 'claude_code.span.kind': 'session' }),
      span('t', 'r', 'claude_code.turn', offset + 100, offset + 4000, { 'claude_code.span.kind': 'turn', 'claude_code.turn.number': 1 }),
      tool('b', 't', 'Bash', offset + 200, offset + 900, '{"command":"ls"}'),
    ].map((s) => ({ ...s, attributes: { ...s.attributes, 'session.id': sid } }));
  await writeFile(join(dir, 'older-aaa.jsonl'), encodeResourceLine({}) + spansOf('older-aaa', 0).map(encodeSpanLine).join(''));
  await writeFile(join(dir, 'newer-bbb.jsonl'), spansOf('newer-bbb', 60_000).map(encodeSpanLine).join(''));
  return dir;
}

describe('runSessionsCommand', () => {
  it('lists sessions from $CLAUDE_OTEL_HOME/store, newest first', async () => {
    await seedStore();
    const t = io();
    expect(await runSessionsCommand([], t.io)).toBe(0);
    const lines = t.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SESSION\s+STARTED/);
    expect(lines[1]).toMatch(/^newer-bb/);
    expect(lines[2]).toMatch(/^older-aa/);
    expect(t.err()).toBe('');
  });
  it('prints JSON with --json and honours --dir and --limit', async () => {
    const dir = await seedStore();
    const t = io({ CLAUDE_OTEL_HOME: '/nonexistent' });
    expect(await runSessionsCommand(['--dir', dir, '--json', '--limit', '1'], t.io)).toBe(0);
    const parsed = JSON.parse(t.out()) as Array<{ sessionId: string }>;
    expect(parsed.map((s) => s.sessionId)).toEqual(['newer-bbb']);
    expect(parsed).toEqual((await listSessions(dir)).slice(0, 1));
  });
  it('says so for an empty store, and rejects bad flags with 2', async () => {
    const t = io();
    expect(await runSessionsCommand([], t.io)).toBe(0);
    expect(t.out()).toContain('No sessions in');
    const bad = io();
    expect(await runSessionsCommand(['--bogus'], bad.io)).toBe(2);
    expect(bad.err()).toContain('usage:');
  });
});

describe('runTraceCommand', () => {
  it('shows the newest session by default and with --last', async () => {
    await seedStore();
    for (const argv of [[], ['--last']]) {
      const t = io();
      expect(await runTraceCommand(argv, t.io)).toBe(0);
      expect(t.out()).toContain('session newer-bbb');
      expect(t.out()).toContain('Bash ls');
    }
  });
  it('finds a session by prefix and prints the JSON tree with --json', async () => {
    await seedStore();
    const t = io();
    expect(await runTraceCommand(['older', '--json'], t.io)).toBe(0);
    const tree = JSON.parse(t.out());
    expect(tree.sessionId).toBe('older-aaa');
    expect(tree.roots[0].children[0].children[0].name).toBe('execute_tool Bash');
  });
  it('returns 1 when nothing matches or a prefix is ambiguous', async () => {
    await seedStore();
    const missing = io();
    expect(await runTraceCommand(['zzz'], missing.io)).toBe(1);
    expect(missing.err()).toContain("No session matching 'zzz'");
    await writeFile(join(home, 'store', 'newer-ccc.jsonl'), await readFile(join(home, 'store', 'newer-bbb.jsonl'), 'utf8'));
    const ambiguous = io();
    expect(await runTraceCommand(['newer'], ambiguous.io)).toBe(1);
    expect(ambiguous.err()).toContain('matches 2 sessions');
    const empty = io({ CLAUDE_OTEL_HOME: join(home, 'nothing') });
    expect(await runTraceCommand(['--last'], empty.io)).toBe(1);
  });
  it('colors only on a TTY without NO_COLOR, and honours --width', async () => {
    await seedStore();
    const tty = io();
    tty.io.stdoutIsTTY = true;
    await runTraceCommand([], tty.io);
    expect(tty.out()).toContain('\u001b[');
    const noColor = io({ NO_COLOR: '1' });
    noColor.io.stdoutIsTTY = true;
    await runTraceCommand(['--width', '50'], noColor.io);
    expect(noColor.out()).not.toContain('\u001b[');
    for (const line of noColor.out().split('\n')) expect([...line].length).toBeLessThanOrEqual(50);
    expect(await runTraceCommand(['a', 'b'], io().io)).toBe(2);
  });
});

describe('withSlowNotice', () => {
  afterEach(() => vi.useRealTimers());
  it('stays silent when stderr is not a terminal or the work is quick', async () => {
    const lines: string[] = [];
    await withSlowNotice({ stderr: (s) => lines.push(s) }, 'x', async () => 1);
    await withSlowNotice({ stderr: (s) => lines.push(s), stderrIsTTY: true }, 'x', async () => 1);
    expect(lines).toEqual([]);
  });
  it('shows and erases a notice after a second on a terminal', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const work = new Promise<number>((resolve) => setTimeout(() => resolve(7), 1500));
    const done = withSlowNotice({ stderr: (s) => lines.push(s), stderrIsTTY: true }, 'reading', () => work);
    await vi.advanceTimersByTimeAsync(1600);
    expect(await done).toBe(7);
    expect(lines).toEqual(['reading…', '\r\u001b[2K']);
  });
});
