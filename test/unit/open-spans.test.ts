import { describe, expect, it } from 'vitest';
import { openSpansOf } from '../../src/agent/open-spans.js';
import { fixture } from '../support/fixtures.js';
import { replay, type Step } from '../support/replay.js';

const SID = '11111111-2222-4333-8444-555555555555';
const ev = (name: string, at: number, overrides: Record<string, unknown> = {}): Step => ({ payload: fixture(name, { session_id: SID, prompt_id: 'prompt-1', ...overrides }), at });

describe('openSpansOf', () => {
  it('lists the open root, turn and tool with names, parents and start times; closed ones leave', () => {
    const start = 1_700_000_000_000;
    const { builder } = replay([ev('SessionStart', 0), ev('UserPromptSubmit', 10), ev('PreToolUse', 20, { tool_use_id: 'toolu_1', tool_name: 'Bash' })], {}, start);
    const s = builder.openSessions()[0]!;
    const open = openSpansOf(s);
    expect(open.map((x) => [x.name, x.kind, x.startMs - start])).toEqual([
      ['invoke_agent claude-code', 'session', 0],
      ['claude_code.turn', 'turn', 10],
      ['execute_tool Bash', 'tool', 20],
    ]);
    const [root, turn, tool] = open;
    expect(root!.parentSpanId).toBeNull();
    expect(turn!.parentSpanId).toBe(root!.spanId);
    expect(tool!.parentSpanId).toBe(turn!.spanId);
    expect(tool!.attributes['gen_ai.tool.call.id']).toBe('toolu_1');

    replay([ev('PostToolUse', 30, { tool_use_id: 'toolu_1', tool_name: 'Bash', duration_ms: 5 })], { builder }, start);
    expect(openSpansOf(builder.openSessions()[0]!).map((x) => x.name)).toEqual(['invoke_agent claude-code', 'claude_code.turn']);
  });
});
