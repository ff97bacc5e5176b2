/**
 * Ownership-first attribution: each event acts on the span it belongs to (its session, segment,
 * turn, subagent, tool), found from the ids it carries, never on "the latest open span".
 * One test per lifecycle of issue 10 and its neighbours; payloads are real 2.1.328 fixtures.
 */
import { describe, expect, it } from 'vitest';
import { createTraceBuilder } from '../../../src/model/trace-builder.js';
import type { BridgeEvent, SpanRecord } from '../../../src/model/types.js';
import { fixture } from '../../support/fixtures.js';
import { replay, type Step } from '../../support/replay.js';
import { traceInvariants } from '../../support/trace-invariants.js';

const SID = '22222222-0000-4000-8000-000000000001';
const ev = (name: string, at: number, overrides: Record<string, unknown> = {}): Step => ({
  payload: fixture(name, { session_id: SID, prompt_id: 'p1', ...overrides }),
  at,
});
const noPrompt = { prompt_id: undefined };
const inAgent = (agentId: string, extra: Record<string, unknown> = {}) => ({ agent_id: agentId, agent_type: 'general-purpose', ...extra });
const agentCall = (id: string, background = false) => ({
  tool_use_id: id, tool_input: { description: 'd', prompt: 'SUBAGENT-TASK', subagent_type: 'general-purpose', run_in_background: background },
});
const byCall = (spans: SpanRecord[], id: string) => spans.filter((s) => s.attributes['gen_ai.tool.call.id'] === id && s.name.startsWith('execute_tool'));
const agentSpan = (spans: SpanRecord[], agentId: string) => spans.filter((s) => s.attributes['claude_code.span.kind'] === 'subagent' && s.attributes['gen_ai.agent.id'] === agentId);
const kind = (spans: SpanRecord[], k: string) => spans.filter((s) => s.attributes['claude_code.span.kind'] === k);
const gapped = (spans: SpanRecord[]) => spans.filter((s) => s.attributes['claude_code.gap'] !== undefined).map((s) => `${s.name}:${String(s.attributes['claude_code.gap'])}`);

const run = (prompt: string, at: number, start = 'SessionStart.resume'): Step[] => [
  ev(start, at, noPrompt), ev('UserPromptSubmit', at + 1, { prompt_id: prompt }), ev('Stop', at + 2, { prompt_id: prompt }), ev('SessionEnd', at + 3, noPrompt),
];

describe('ownership: sessions and segments', () => {
  it('gives each resume its own segment id when the agent forgot the session in between (restart, idle exit)', () => {
    const first = replay(run('p1', 0, 'SessionStart'));
    const second = replay(run('p2', 86_400_000));
    const third = replay(run('p3', 2 * 86_400_000));
    const all = [...first.spans, ...second.spans, ...third.spans];
    expect(traceInvariants(all)).toEqual([]);
    const segments = kind(all, 'segment');
    expect(segments).toHaveLength(2);
    expect(new Set(segments.map((s) => s.spanId)).size).toBe(2);
    for (const seg of segments) expect(seg.parentSpanId).toBe(kind(all, 'session')[0]!.spanId);
    expect(first.gaps + second.gaps + third.gaps).toBe(0);
  });

  it('derives the same segment ids whether or not the agent still remembers the session (replay-stable)', () => {
    const remembered = createTraceBuilder();
    const a = [...replay(run('p1', 0, 'SessionStart'), { builder: remembered }).spans, ...replay(run('p2', 1000), { builder: remembered, seqBase: 4 }).spans];
    const b = [...replay(run('p1', 0, 'SessionStart')).spans, ...replay(run('p2', 1000)).spans];
    const ids = (spans: SpanRecord[]) => spans.map((s) => `${s.name}/${s.spanId}/${s.parentSpanId ?? ''}`).sort();
    expect(ids(a)).toEqual(ids(b));
  });

  it('takes SessionStart(source=compact) in a resumed session for compaction, not a resume: no false missing_end, no extra segment', () => {
    const first = replay(run('p1', 0, 'SessionStart'));
    const second = replay([
      ev('SessionStart.resume', 100, noPrompt), ev('UserPromptSubmit', 101, { prompt_id: 'p2' }), ev('Stop', 102, { prompt_id: 'p2' }),
      ev('PreCompact', 103, { prompt_id: 'p2' }), ev('SubagentStop.compaction-fork', 104, { prompt_id: 'p2' }),
      ev('SessionStart.compact', 105, { prompt_id: 'p2' }), ev('PostCompact', 106, { prompt_id: 'p2' }),
      ev('UserPromptSubmit', 107, { prompt_id: 'p3' }), ev('Stop', 108, { prompt_id: 'p3' }), ev('SessionEnd', 109, noPrompt),
    ]);
    const all = [...first.spans, ...second.spans];
    expect(traceInvariants(all)).toEqual([]);
    expect(gapped(all)).toEqual([]);
    const [segment] = kind(all, 'segment');
    expect(kind(all, 'segment')).toHaveLength(1);
    const compaction = kind(all, 'compaction')[0]!;
    expect(compaction.parentSpanId).toBe(segment!.spanId);
    expect(compaction.events.map((e) => e.name)).toEqual(['claude_code.SubagentStop', 'claude_code.SessionStart']);
    expect(kind(all, 'turn').filter((t) => t.parentSpanId === segment!.spanId)).toHaveLength(2);
  });

  it('does not reuse a compaction id of an earlier run of the same session', () => {
    const compactRun = (at: number, start: string, prompt: string) => [
      ev(start, at, noPrompt), ev('UserPromptSubmit', at + 1, { prompt_id: prompt }), ev('Stop', at + 2, { prompt_id: prompt }),
      ev('PreCompact', at + 3, { prompt_id: prompt }), ev('PostCompact', at + 4, { prompt_id: prompt }), ev('SessionEnd', at + 5, noPrompt),
    ];
    const all = [...replay(compactRun(0, 'SessionStart', 'p1')).spans, ...replay(compactRun(1000, 'SessionStart.resume', 'p2')).spans];
    expect(traceInvariants(all)).toEqual([]);
    expect(kind(all, 'compaction')).toHaveLength(2);
  });
});

describe('ownership: subagent-scoped events act on the subagent', () => {
  it('closes a tool denied inside a subagent as denied (PermissionRequest with its agent_id, no Post event), without a gap', () => {
    const { spans, gaps } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse', 2, { tool_use_id: 'toolu_W', tool_name: 'Write' }), // a main-agent Write of the same name, still open
      ev('PreToolUse.Agent', 3, agentCall('toolu_A')), ev('SubagentStart', 4, inAgent('ag')),
      ev('PreToolUse.in-subagent', 5, inAgent('ag', { tool_use_id: 'toolu_d', tool_name: 'Write' })),
      ev('PermissionRequest.Write.in-subagent', 6, inAgent('ag')), ev('SubagentStop', 7, inAgent('ag')),
      ev('PostToolUse.Agent', 8, { ...agentCall('toolu_A'), tool_response: { status: 'completed', agentId: 'ag' } }),
      ev('PostToolUse', 9, { tool_use_id: 'toolu_W', tool_name: 'Write', duration_ms: 1 }),
      ev('Stop', 10), ev('SessionEnd', 11, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    const denied = byCall(spans, 'toolu_d')[0]!;
    expect(denied.attributes).toMatchObject({ 'claude_code.tool.outcome': 'denied', 'error.type': 'permission_denied' });
    expect(denied.events.map((e) => e.name)).toEqual(['claude_code.PermissionRequest']);
    expect(byCall(spans, 'toolu_W')[0]!.attributes['claude_code.tool.outcome']).toBe('success');
    expect(gaps).toBe(0);
  });

  it('closes a subagent ended by an API error with ERROR and its cause; the main turn goes on to a normal Stop', () => {
    const { spans, gaps } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, agentCall('toolu_A')), ev('SubagentStart', 3, inAgent('ag')),
      ev('PreToolUse.in-subagent', 4, inAgent('ag', { tool_use_id: 'toolu_s1' })),
      ev('PostToolUse.in-subagent', 5, inAgent('ag', { tool_use_id: 'toolu_s1' })),
      ev('StopFailure', 6, inAgent('ag')),
      ev('PostToolUseFailure.Agent', 7, { ...agentCall('toolu_A'), tool_name: 'Agent', error: 'API Error: 529 Overloaded', duration_ms: 5 }),
      ev('PreToolUse', 8, { tool_use_id: 'toolu_after', tool_name: 'Bash' }),
      ev('PostToolUse', 9, { tool_use_id: 'toolu_after', tool_name: 'Bash', duration_ms: 1 }),
      ev('Stop', 10), ev('SessionEnd', 11, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    expect(gaps).toBe(0);
    const agent = agentSpan(spans, 'ag')[0]!;
    expect(agentSpan(spans, 'ag')).toHaveLength(1);
    expect(agent.status).toEqual({ code: 'error', message: 'server_error' });
    expect(agent.attributes).toMatchObject({ 'error.type': 'server_error', 'claude_code.agent.outcome': 'stop_failure' });
    expect(agent.endMs).toBe(1_700_000_000_006);
    const turns = kind(spans, 'turn');
    expect(turns).toHaveLength(1);
    expect(turns[0]!.attributes['claude_code.turn.outcome']).toBe('stop');
    expect(turns[0]!.status.code).toBe('unset');
    expect(byCall(spans, 'toolu_A')[0]!.attributes['claude_code.tool.outcome']).toBe('error');
    expect(kind(spans, 'session')[0]!.status.code).toBe('unset');
  });

  it('gives a subagent its API error cause when the StopFailure arrives after its Agent call failed (hooks run concurrently)', () => {
    const { spans, gaps } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, agentCall('toolu_A')), ev('SubagentStart', 3, inAgent('ag')),
      ev('PostToolUseFailure.Agent', 6, { ...agentCall('toolu_A'), tool_name: 'Agent', error: 'API Error: 500', duration_ms: 5 }),
      ev('StopFailure', 7, inAgent('ag')),
      ev('Stop', 10), ev('SessionEnd', 11, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    expect(gaps).toBe(0);
    expect(agentSpan(spans, 'ag')).toHaveLength(1);
    const agent = agentSpan(spans, 'ag')[0]!;
    expect(agent.attributes).toMatchObject({ 'error.type': 'server_error', 'claude_code.agent.outcome': 'stop_failure' });
    expect(agent.endMs).toBe(1_700_000_000_006); // ended with its Agent call, not later
    expect(kind(spans, 'turn')[0]!.attributes['claude_code.turn.outcome']).toBe('stop');
  });

  // Two parallel Agent calls whose SubagentStarts arrive in the other order: the link of each subagent
  // to its call is a guess until a Post event names it. A failed call names none: its subagent is the
  // one whose StopFailure names it (agent_id), before or after the failure; never the guess.
  for (const stopFailureFirst of [false, true]) {
    it(`ends the failed call's own subagent, not the other one it was first guessed to be (StopFailure ${stopFailureFirst ? 'before' : 'after'} the failure)`, () => {
      const failure = [
        ev('PostToolUseFailure.Agent', 8, { ...agentCall('toolu_A1'), tool_name: 'Agent', error: 'API Error: 500', duration_ms: 5 }),
      ];
      const cause = [ev('StopFailure', 7, inAgent('ag_of_A1'))];
      const { spans, gaps } = replay([
        ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
        ev('PreToolUse.Agent', 2, agentCall('toolu_A1')), ev('PreToolUse.Agent', 3, agentCall('toolu_A2')),
        ev('SubagentStart', 4, inAgent('ag_of_A2')), ev('SubagentStart', 5, inAgent('ag_of_A1')),
        ...(stopFailureFirst ? [...cause, ...failure] : [...failure, ...cause]),
        ev('PreToolUse.in-subagent', 9, inAgent('ag_of_A2', { tool_use_id: 'toolu_s2' })),
        ev('PostToolUse.in-subagent', 10, inAgent('ag_of_A2', { tool_use_id: 'toolu_s2' })),
        ev('SubagentStop', 11, inAgent('ag_of_A2')),
        ev('PostToolUse', 12, { ...agentCall('toolu_A2'), tool_name: 'Agent', tool_response: { status: 'completed', agentId: 'ag_of_A2' }, duration_ms: 9 }),
        ev('Stop', 13), ev('SessionEnd', 14, noPrompt),
      ]);
      expect(traceInvariants(spans)).toEqual([]);
      expect(gaps).toBe(0);
      const failed = agentSpan(spans, 'ag_of_A1');
      const other = agentSpan(spans, 'ag_of_A2');
      expect(failed).toHaveLength(1);
      expect(other).toHaveLength(1);
      expect(failed[0]!.parentSpanId).toBe(byCall(spans, 'toolu_A1')[0]!.spanId);
      expect(failed[0]!.attributes).toMatchObject({ 'error.type': 'server_error', 'claude_code.agent.outcome': 'stop_failure' });
      expect(other[0]!.parentSpanId).toBe(byCall(spans, 'toolu_A2')[0]!.spanId);
      expect(other[0]!.status.code).toBe('unset');
      expect(other[0]!.attributes['claude_code.agent.outcome']).toBe('completed');
      expect(byCall(spans, 'toolu_s2')[0]!.parentSpanId).toBe(other[0]!.spanId);
      expect(byCall(spans, 'toolu_s2')[0]!.attributes['claude_code.tool.outcome']).toBe('success');
    });
  }

  it('still ends a subagent whose Agent call failed when no StopFailure names a cause (held only until its turn ends)', () => {
    const { spans } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, agentCall('toolu_A')), ev('SubagentStart', 3, inAgent('ag')),
      ev('PostToolUseFailure.Agent', 6, { ...agentCall('toolu_A'), tool_name: 'Agent', error: 'boom', duration_ms: 5 }),
      ev('Stop', 10), ev('SessionEnd', 11, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    expect(agentSpan(spans, 'ag')).toHaveLength(1);
    expect(agentSpan(spans, 'ag')[0]!.attributes).toMatchObject({ 'error.type': 'tool_error', 'claude_code.agent.outcome': 'error' });
  });

  it('closes a foreground subagent interrupted with its Agent call (no SubagentStop) as interrupted, not missing_end', () => {
    const { spans, gaps } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, agentCall('toolu_A')), ev('SubagentStart', 3, inAgent('ag')),
      ev('PreToolUse.in-subagent', 4, inAgent('ag', { tool_use_id: 'toolu_s1' })),
      ev('PostToolUseFailure.Agent', 5, { ...agentCall('toolu_A'), tool_name: 'Agent', error: 'Interrupted by user', is_interrupt: true }),
      ev('Stop', 6), ev('SessionEnd', 7, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    expect(gaps).toBe(0);
    const agent = agentSpan(spans, 'ag')[0]!;
    expect(agent.attributes['claude_code.agent.outcome']).toBe('interrupted');
    expect(agent.endMs).toBe(1_700_000_000_005);
    expect(byCall(spans, 'toolu_s1')[0]!.attributes['claude_code.tool.outcome']).toBe('interrupted');
  });

  it('puts Notification and PermissionDenied with agent_id on the subagent and its tool, not on the main agent', () => {
    const { spans } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse', 2, { tool_use_id: 'toolu_main', tool_name: 'Bash' }),
      ev('PreToolUse.Agent', 3, agentCall('toolu_A')), ev('SubagentStart', 4, inAgent('ag')),
      ev('PreToolUse.in-subagent', 5, inAgent('ag', { tool_use_id: 'toolu_sub', tool_name: 'Bash' })),
      ev('2.1.328/Notification', 6, inAgent('ag')),
      ev('PermissionDenied.Bash', 7, inAgent('ag', { tool_use_id: undefined, tool_name: 'Bash' })),
      ev('SubagentStop', 8, inAgent('ag')),
      ev('PostToolUse.Agent', 9, { ...agentCall('toolu_A'), tool_response: { status: 'completed', agentId: 'ag' } }),
      ev('PostToolUse', 10, { tool_use_id: 'toolu_main', tool_name: 'Bash', duration_ms: 1 }),
      ev('Stop', 11), ev('SessionEnd', 12, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    expect(agentSpan(spans, 'ag')[0]!.events.map((e) => e.name)).toEqual(['claude_code.Notification']);
    expect(byCall(spans, 'toolu_sub')[0]!.attributes['claude_code.tool.outcome']).toBe('denied');
    expect(byCall(spans, 'toolu_main')[0]!.attributes['claude_code.tool.outcome']).toBe('success');
    expect(kind(spans, 'turn')[0]!.events).toEqual([]);
  });

  it('lets a PostToolBatch inside a subagent close only that subagent\'s tools', () => {
    const { spans } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, agentCall('toolu_A')), ev('SubagentStart', 3, inAgent('ag')),
      ev('PreToolUse.in-subagent', 4, inAgent('ag', { tool_use_id: 'toolu_lost' })),
      ev('PostToolBatch', 5, inAgent('ag', { tool_calls: [{ tool_use_id: 'toolu_lost', tool_name: 'Bash', tool_response: 'Permission to use Bash has been denied.' }] })),
      ev('SubagentStop', 6, inAgent('ag')),
      ev('PostToolUse.Agent', 7, { ...agentCall('toolu_A'), tool_response: { status: 'completed', agentId: 'ag' } }),
      ev('Stop', 8), ev('SessionEnd', 9, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    const lost = byCall(spans, 'toolu_lost')[0]!;
    expect(lost.endMs).toBe(1_700_000_000_005);
    expect(lost.attributes['claude_code.tool.outcome']).toBe('denied');
    expect(agentSpan(spans, 'ag')[0]!.events.map((e) => e.name)).toEqual(['claude_code.PostToolBatch']);
  });

  it('keeps a background subagent still running when the main turn ends open, under its Agent call, until its SubagentStop', () => {
    const { spans, gaps } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      ev('PreToolUse.Agent', 2, agentCall('toolu_BG', true)),
      ev('PostToolUse.Agent-background', 3, { ...agentCall('toolu_BG', true), tool_response: { status: 'async_launched', agentId: 'bg' } }),
      ev('SubagentStart', 4, inAgent('bg')), ev('Stop.with-background-task', 5),
      ev('PreToolUse.in-subagent', 6, inAgent('bg', { tool_use_id: 'toolu_bg1' })),
      ev('PostToolUse.in-subagent', 7, inAgent('bg', { tool_use_id: 'toolu_bg1' })),
      ev('SubagentStop', 8, inAgent('bg')),
      ev('UserPromptSubmit.task-notification', 9, { prompt_id: 'p2' }), ev('Stop', 10, { prompt_id: 'p2' }), ev('SessionEnd', 11, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    expect(gaps).toBe(0);
    const agent = agentSpan(spans, 'bg')[0]!;
    expect(agent.endMs).toBe(1_700_000_000_008);
    expect(spans.find((s) => s.spanId === agent.parentSpanId)?.attributes['gen_ai.tool.call.id']).toBe('toolu_BG');
    expect(byCall(spans, 'toolu_bg1')[0]!.parentSpanId).toBe(agent.spanId);
  });
});

describe('ownership: late, unknown and hostile events', () => {
  it('gives tool events that arrive after SessionEnd one late span under their own (closed) turn, no duplicate, no gap', () => {
    const { spans, gaps, logs } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1), ev('Stop', 2), ev('SessionEnd', 3, noPrompt),
      ev('2.1.328/Notification', 4),
      ev('PreToolUse', 5, { tool_use_id: 'toolu_late', tool_name: 'Bash' }),
      ev('PostToolUse', 6, { tool_use_id: 'toolu_late', tool_name: 'Bash', duration_ms: 1 }),
    ]);
    expect(traceInvariants(spans, { allowLate: true })).toEqual([]);
    expect(gaps).toBe(0);
    const late = byCall(spans, 'toolu_late');
    expect(late).toHaveLength(1);
    expect(late[0]!.parentSpanId).toBe(kind(spans, 'turn')[0]!.spanId);
    expect(late[0]!.attributes['claude_code.late']).toBe(true);
    expect(logs.map((l) => l.eventName)).toContain('claude_code.hook.Notification');
  });

  it('handles events named like Object.prototype keys as unknown events, also when a journal says they are known', () => {
    const builder = createTraceBuilder();
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];
    let seq = 0;
    for (const name of names) {
      for (const known of [false, true]) {
        const event = { seq: ++seq, timeMs: 1_700_000_000_000 + seq, name, known, sessionId: 's' } as unknown as BridgeEvent;
        const result = builder.apply(event);
        expect(result.outputs.filter((o) => o.type === 'log')).toHaveLength(1);
      }
    }
  });

  it('keeps an event of a future version harmless: a point event and a log record', () => {
    const { spans, logs } = replay([
      ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
      { payload: { session_id: SID, hook_event_name: 'SomethingNew2099', prompt_id: 'p1', nested: { deep: [1, 2] }, flag: true }, at: 2 },
      ev('Stop', 3), ev('SessionEnd', 4, noPrompt),
    ]);
    expect(traceInvariants(spans)).toEqual([]);
    expect(kind(spans, 'turn')[0]!.events.map((e) => e.name)).toEqual(['claude_code.SomethingNew2099']);
    expect(logs.find((l) => l.eventName === 'claude_code.hook.SomethingNew2099')?.attributes['claude_code.flag']).toBe(true);
  });
});

describe('ownership: restarts and replays', () => {
  const steps: Step[] = [
    ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1),
    ev('PreToolUse.Agent', 2, agentCall('toolu_A')), ev('SubagentStart', 3, inAgent('ag')),
    ev('PreToolUse.in-subagent', 4, inAgent('ag', { tool_use_id: 'toolu_s' })),
    ev('PostToolUse.in-subagent', 5, inAgent('ag', { tool_use_id: 'toolu_s' })), ev('SubagentStop', 6, inAgent('ag')),
    ev('PostToolUse.Agent', 7, { ...agentCall('toolu_A'), tool_response: { status: 'completed', agentId: 'ag' } }),
    ev('Stop', 8), ev('PreCompact', 9, { prompt_id: 'c1' }), ev('PostCompact', 10, { prompt_id: 'c1' }), ev('SessionEnd', 11, noPrompt),
    ...run('p2', 100), ...run('p3', 200),
  ];
  const key = (spans: SpanRecord[]) => spans.map((s) => JSON.stringify(s)).sort();

  it('derives the same spans when an agent restarted mid-session replays the journal and goes on', () => {
    const whole = replay(steps).spans;
    for (const cut of [3, 6, 12, 13, 17]) {
      const builder = createTraceBuilder();
      replay(steps.slice(0, cut), { builder }); // the journal replayed at start (already exported)
      const after = replay(steps.slice(cut), { builder, seqBase: cut }).spans;
      const first = replay(steps.slice(0, cut)).spans;
      expect(key([...first, ...after]), `cut at ${cut}`).toEqual(key(whole));
    }
  });

  it('opens a new segment when the CLI goes on after the bridge closed its session for idle', () => {
    const builder = createTraceBuilder();
    const first = replay([ev('SessionStart', 0, noPrompt), ev('UserPromptSubmit', 1), ev('Stop', 2)], { builder });
    const closed = builder.closeSession(SID, 'idle', 1_700_000_001_000, 4);
    const later = replay([ev('UserPromptSubmit', 2000, { prompt_id: 'p2' }), ev('Stop', 2001, { prompt_id: 'p2' }), ev('SessionEnd', 2002, noPrompt)], { builder, seqBase: 4 });
    const all = [...first.spans, ...closed.outputs.flatMap((o) => (o.type === 'span' ? [o.span] : [])), ...later.spans];
    expect(traceInvariants(all, { eventsRemoved: true })).toEqual([]);
    const segment = kind(all, 'segment')[0]!;
    expect(segment.attributes['claude_code.session.source']).toBe('continued');
    expect(kind(all, 'turn').find((t) => t.attributes['claude_code.prompt.id'] === 'p2')?.parentSpanId).toBe(segment.spanId);
  });
});
