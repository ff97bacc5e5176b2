/** PreSkillShellCommand (2.1.332): schema, and its span under the Skill call, subagent or turn that ran it. */
import { describe, expect, it } from 'vitest';
import { parseHookEvent } from '../../../src/events/schema.js';
import { fixture } from '../../support/fixtures.js';
import { replay, type Step } from '../../support/replay.js';
import { traceInvariants } from '../../support/trace-invariants.js';

const real = (name: string, o: Record<string, unknown> = {}) => fixture(name, o);
const SID = '44444444-0000-4000-8000-000000000001';
const at = (payload: Record<string, unknown>, t: number): Step => ({ payload: { ...payload, session_id: SID, prompt_id: 'p1' }, at: t });

describe('PreSkillShellCommand', () => {
  it('is a known event with its fields', () => {
    for (const name of ['PreSkillShellCommand.invoked-by-claude', 'PreSkillShellCommand.invoked-by-user']) {
      const parsed = parseHookEvent(real(name));
      expect(parsed).toMatchObject({ ok: true, known: true });
    }
  });

  it('opens a span under its Skill tool call, closed with it as unreported (no error, no gap)', () => {
    const { spans, gaps } = replay([
      at(real('SessionStart'), 0), at(real('UserPromptSubmit'), 1),
      at(real('PreToolUse', { tool_name: 'Skill', tool_use_id: 'toolu_S' }), 2),
      at(real('PreSkillShellCommand.invoked-by-claude', { tool_use_id: 'toolu_S:preamble-0' }), 3),
      at(real('PostToolUse', { tool_name: 'Skill', tool_use_id: 'toolu_S', duration_ms: 1 }), 4),
      at(real('Stop'), 5), at(real('SessionEnd'), 6),
    ]);
    expect(traceInvariants(spans, { issuedToolIds: ['toolu_S'] })).toEqual([]);
    const shell = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'toolu_S:preamble-0')!;
    const skill = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'toolu_S')!;
    expect(shell.parentSpanId).toBe(skill.spanId);
    expect(shell.name).toBe('execute_tool Bash');
    expect(shell.status.code).toBe('unset');
    expect(shell.attributes).toMatchObject({
      'claude_code.tool.origin': 'skill', 'claude_code.tool.outcome': 'unreported', 'claude_code.skill.command_name': 'shout',
      'claude_code.skill.invoked_by': 'claude', 'claude_code.skill.command_source': 'projectSettings',
    });
    expect(shell.endMs).toBe(1_700_000_000_004);
    expect(gaps).toBe(0);
  });

  it('goes under the turn when the user ran the command, and a Post event with its id closes it with that outcome', () => {
    const { spans } = replay([
      at(real('SessionStart'), 0), at(real('UserPromptSubmit'), 1),
      at(real('PreSkillShellCommand.invoked-by-user', { tool_use_id: 'u:inner:preamble-0' }), 2),
      at(real('PostToolUseFailure.exit3', { tool_name: 'Bash', tool_use_id: 'u:inner:preamble-0' }), 3),
      at(real('Stop'), 4), at(real('SessionEnd'), 5),
    ]);
    expect(traceInvariants(spans, { issuedToolIds: [] })).toEqual([]);
    const shell = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === 'u:inner:preamble-0')!;
    expect(spans.find((s) => s.spanId === shell.parentSpanId)?.name).toBe('claude_code.turn');
    expect(shell.attributes).toMatchObject({ 'claude_code.tool.outcome': 'error', 'claude_code.skill.invoked_by': 'user' });
  });
});
