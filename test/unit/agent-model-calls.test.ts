// The agent's model-call component with real files: which transcripts it agrees to read, what it
// emits at which event, the roll-ups it adds to builder spans, and restart without re-emission.
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metrics } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { createModelCalls } from '../../src/agent/model-calls.js';
import { spanIdFor, spanKeys } from '../../src/model/ids.js';
import type { BridgeEvent, SpanRecord } from '../../src/model/types.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'claude-code-2.1.332', 'transcripts');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { sessionId: string; totalCostUsd: number; responses: { agent: string; messageId: string; toolUseIds: string[] }[] };
const S = expected.sessionId;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const root = mkdtempSync(join(tmpdir(), 'mc-'));
  dirs.push(root);
  const home = join(root, 'home');
  const otelHome = join(root, 'otel');
  const projectDir = join(home, '.claude', 'projects', '-home-dev-project');
  mkdirSync(join(projectDir, S, 'subagents'), { recursive: true });
  mkdirSync(otelHome, { recursive: true });
  const main = join(projectDir, `${S}.jsonl`);
  const env = { HOME: home };
  const emitted: SpanRecord[] = [];
  let watermark = 0;
  const log: string[] = [];
  const make = (maxBytesPerRead?: number) =>
    createModelCalls({
      home: otelHome, enabled: true, transcriptRoots: [], prices: {}, env, log: (m) => log.push(m), ...(maxBytesPerRead ? { maxBytesPerRead } : {}),
      sink: { emitSpan: (s) => emitted.push(s) }, meter: metrics.getMeter('test'), watermark: () => watermark,
    });
  return { root, home, main, projectDir, emitted, log, make, setWatermark: (n: number) => (watermark = n) };
}

let seq = 0;
const ev = (name: string, extra: Record<string, unknown> = {}): BridgeEvent => ({ seq: ++seq, timeMs: Date.now(), name, known: true, sessionId: S, cwd: '/home/dev/project', ...extra }) as BridgeEvent;
const agentIdOf = () => readdirSync(join(FIX, 'subagents'))[0]!.replace(/^agent-|\.jsonl$/g, '');

describe('createModelCalls (agent component)', () => {
  it('emits the calls of the main transcript by Stop and of the subagent by SubagentStop, and rolls them up on builder spans', () => {
    const t = setup();
    const agentId = agentIdOf();
    copyFileSync(join(FIX, 'session.jsonl'), t.main);
    copyFileSync(join(FIX, 'subagents', `agent-${agentId}.jsonl`), join(t.projectDir, S, 'subagents', `agent-${agentId}.jsonl`));
    const mc = t.make();
    mc.start();
    mc.observe(ev('SessionStart', { transcriptPath: t.main }));
    mc.observe(ev('SubagentStart', { transcriptPath: t.main, agentId, agentType: 'general-purpose' }));
    mc.observe(ev('SubagentStop', { transcriptPath: t.main, agentId, agentType: 'general-purpose', agentTranscriptPath: join(t.projectDir, S, 'subagents', `agent-${agentId}.jsonl`) }));
    const subIds = expected.responses.filter((r) => r.agent === 'subagent').map((r) => r.messageId);
    expect(t.emitted.filter((s) => s.attributes['gen_ai.agent.id'] === agentId).map((s) => s.attributes['gen_ai.response.id']).sort()).toEqual(subIds.sort());
    mc.observe(ev('Stop', { transcriptPath: t.main }));
    expect(t.emitted.map((s) => s.attributes['gen_ai.response.id']).sort()).toEqual(expected.responses.map((r) => r.messageId).sort());
    mc.observe(ev('SessionEnd', { transcriptPath: t.main }));
    expect(t.emitted).toHaveLength(expected.responses.length); // SessionEnd adds no duplicate

    const rootSpan = { traceId: 'x', spanId: spanIdFor(S, spanKeys.root()), name: 'invoke_agent claude-code', startMs: 0, endMs: 1, attributes: { 'claude_code.span.kind': 'session' }, events: [], status: { code: 'unset' as const } };
    expect(mc.decorate(rootSpan).attributes).toMatchObject({ 'claude_code.cost.usd': expected.totalCostUsd, 'claude_code.model_calls': expected.responses.length, 'claude_code.cost.source': 'claude_code' });
    const tool = { ...rootSpan, spanId: 'aa', attributes: { 'claude_code.span.kind': 'tool', 'gen_ai.tool.call.id': expected.responses[0]!.toolUseIds[0]! } };
    expect(mc.decorate(tool).attributes['gen_ai.response.id']).toBe(expected.responses[0]!.messageId);
    mc.shutdown();
  });

  it('refuses transcript paths that are not this session\'s file under Claude Code\'s projects directory', () => {
    const t = setup();
    const secret = join(t.root, 'secret.jsonl');
    writeFileSync(secret, readFileSync(join(FIX, 'session.jsonl')));
    const mc = t.make();
    mc.start();
    const forged = [
      secret, // outside the projects directory
      join(t.projectDir, 'other-session.jsonl'), // another name
      `${t.projectDir}/../../../secret.jsonl`, // dot-dot
      'relative/path.jsonl',
    ];
    for (const path of forged) {
      mc.observe(ev('Stop', { transcriptPath: path }));
    }
    // a symlink named like the session's transcript, pointing outside
    symlinkSync(secret, t.main);
    mc.observe(ev('Stop', { transcriptPath: t.main }));
    expect(t.emitted).toEqual([]);
    expect(t.log.join('\n')).toMatch(/outside_roots/);
    expect(t.log.join('\n')).toMatch(/not_regular/);
    mc.shutdown();
  });

  it('after a restart it reads on from the saved offset (nothing emitted twice), once the spans were exported', () => {
    const t = setup();
    const rows = readFileSync(join(FIX, 'session.jsonl'), 'utf8').trim().split('\n');
    const firstAssistant = rows.findIndex((l) => l.includes('"type":"assistant"'));
    const cut = rows.findIndex((l, i) => i > firstAssistant && l.includes('"type":"user"')) + 1; // first response complete
    writeFileSync(t.main, `${rows.slice(0, cut).join('\n')}\n`);
    const a = t.make();
    a.start();
    a.observe(ev('PreToolUse', { transcriptPath: t.main }));
    const first = t.emitted.length;
    expect(first).toBe(1);
    a.shutdown(); // not exported yet (watermark 0): nothing saved
    expect(() => readFileSync(join(t.root, 'otel', 'model-calls.json'))).toThrow();
    const b = t.make();
    b.start();
    b.observe(ev('PreToolUse', { transcriptPath: t.main }));
    expect(t.emitted.length).toBe(2); // re-emitted with the same id (idempotent), not lost
    expect(t.emitted[1]!.spanId).toBe(t.emitted[0]!.spanId);
    t.setWatermark(seq);
    b.shutdown(); // exported: saved
    appendFileSync(t.main, `${rows.slice(cut).join('\n')}\n`);
    const c = t.make();
    c.start();
    c.observe(ev('Stop', { transcriptPath: t.main }));
    const later = t.emitted.slice(2).map((s) => s.attributes['gen_ai.response.id']);
    expect(later).not.toContain(t.emitted[0]!.attributes['gen_ai.response.id']);
    expect(later.length).toBe(expected.responses.filter((r) => r.agent === 'main').length - 1);
    c.shutdown();
  });

  it('reads a backlog a bounded number of bytes per event and emits each response once', () => {
    const t = setup();
    copyFileSync(join(FIX, 'session.jsonl'), t.main);
    const mc = t.make(1500);
    mc.start();
    mc.observe(ev('Stop', { transcriptPath: t.main })); // behind: not flushed, nothing cut in two
    const afterFirst = t.emitted.length;
    expect(afterFirst).toBeLessThan(expected.responses.filter((r) => r.agent === 'main').length);
    for (let i = 0; i < 40; i++) mc.observe(ev('PostToolUse', { transcriptPath: t.main }));
    mc.observe(ev('Stop', { transcriptPath: t.main }));
    const ids = t.emitted.map((s) => s.attributes['gen_ai.response.id']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(expected.responses.filter((r) => r.agent === 'main').map((r) => r.messageId).sort());
    mc.shutdown();
  });

  it('lifecycle: shutdown without start and twice is safe; disabled, it reads nothing', () => {
    const t = setup();
    copyFileSync(join(FIX, 'session.jsonl'), t.main);
    const a = t.make();
    a.shutdown();
    a.shutdown();
    const off = createModelCalls({
      home: join(t.root, 'otel'), enabled: false, transcriptRoots: [], prices: {}, env: { HOME: t.home }, log: () => {},
      sink: { emitSpan: (s) => t.emitted.push(s) }, meter: metrics.getMeter('test'), watermark: () => 0,
    });
    off.start();
    off.observe(ev('Stop', { transcriptPath: t.main }));
    off.shutdown();
    expect(t.emitted).toEqual([]);
  });
});
