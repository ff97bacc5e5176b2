import { describe, expect, it } from 'vitest';
import { KNOWN_EVENT_NAMES, parseHookEvent } from '../../src/events/schema.js';
import { CURRENT_VERSION, RECORDED_VERSIONS, fixture, recordedPayloads } from '../support/fixtures.js';

describe('parseHookEvent', () => {
  it.each(recordedPayloads().map((p) => [p.name, p] as const))('parses the real payload %s', (_name, { name, version }) => {
    const payload = fixture(name);
    const result = parseHookEvent(payload);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.event.hook_event_name).toBe(payload.hook_event_name);
    expect(result.known).toBe(KNOWN_EVENT_NAMES.has(String(payload.hook_event_name)));
    if (version === CURRENT_VERSION) {
      // every event kind the current version fired in the recorded sessions has a schema, PreSkillShellCommand included
      const unknownOnes = ['CwdChanged', 'InstructionsLoaded', 'MessageDisplay', 'UserPromptExpansion', 'ConfigChange', 'PreModelSwitch', 'PostModelSwitch'];
      expect(result.known).toBe(!unknownOnes.includes(String(payload.hook_event_name)));
    }
  });

  it('has recorded payloads of every version', () => {
    for (const version of RECORDED_VERSIONS) expect(recordedPayloads(version).length, version).toBeGreaterThanOrEqual(30);
  });

  it('reads PreSkillShellCommand fields and tolerates a missing tool_name', () => {
    const payload = fixture('PreSkillShellCommand.invoked-by-user');
    const result = parseHookEvent({ ...payload, tool_name: 7 });
    expect(result).toMatchObject({ ok: true, known: true, event: { tool_name: undefined, invoked_by: 'user' } });
    expect(parseHookEvent({ ...payload, tool_use_id: undefined })).toMatchObject({ ok: false });
  });

  it('keeps unknown fields (loose schemas)', () => {
    const result = parseHookEvent(fixture('PreToolUse', { brand_new_field: { x: 1 } }));
    expect(result.ok && (result.event as Record<string, unknown>).brand_new_field).toEqual({ x: 1 });
  });

  it('accepts an event name it has never seen as an unknown event', () => {
    const result = parseHookEvent({ session_id: 's1', hook_event_name: 'TeammateIdle', teammate: 'x' });
    expect(result).toMatchObject({ ok: true, known: false });
  });

  it('degrades a wrongly typed optional field instead of rejecting the event', () => {
    const result = parseHookEvent(fixture('PostToolUse', { duration_ms: 'soon', prompt_id: 42 }));
    expect(result.ok).toBe(true);
    if (result.ok && result.known && result.event.hook_event_name === 'PostToolUse') {
      expect(result.event.duration_ms).toBeUndefined();
      expect(result.event.prompt_id).toBeUndefined();
    }
  });

  it.each([
    ['not an object', 'hello'],
    ['null', null],
    ['no session_id', { hook_event_name: 'Stop' }],
    ['no event name', { session_id: 's1' }],
    ['tool event without tool_use_id', { session_id: 's1', hook_event_name: 'PreToolUse', tool_name: 'Bash' }],
    ['session_id of the wrong type', { session_id: 7, hook_event_name: 'Stop' }],
  ])('rejects %s with a reason', (_label, value) => {
    const result = parseHookEvent(value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
  });
});
