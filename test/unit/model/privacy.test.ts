/**
 * Privacy with content capture OFF on the normalize → model path: nothing of a tool's output, the
 * user's feedback, a classifier's reason or a notification's text reaches a span (attribute, status
 * message, span event) or a log record. Only content-free kinds survive (`Exit code 3`, error kinds).
 * With capture ON the same texts arrive redacted by the real redactor.
 */
import { describe, expect, it } from 'vitest';
import { captureValue, createRedactor } from '../../../src/privacy/redact.js';
import { errorKind } from '../../../src/events/normalize.js';
import { fixture } from '../../support/fixtures.js';
import { replay, type Step } from '../../support/replay.js';

const SID = '33333333-0000-4000-8000-000000000001';
const AWS = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const GHP = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_TEXT = 'the quick secret sentence';
const ev = (name: string, at: number, o: Record<string, unknown> = {}): Step => ({ payload: fixture(name, { session_id: SID, prompt_id: 'p1', ...o }), at });
const redactor = createRedactor();
const real = (v: unknown) => captureValue(v, { maxBytes: 4096, redactor });

const session: Step[] = [
  ev('SessionStart', 0, { prompt_id: undefined }), ev('UserPromptSubmit', 1, { prompt: `do it ${SECRET_TEXT}` }),
  ev('PreToolUse', 2, { tool_use_id: 't1' }),
  ev('PostToolBatch', 3, { tool_calls: [{ tool_use_id: 't1', tool_name: 'Bash', tool_response: `AWS_SECRET_ACCESS_KEY=${AWS}\nmore ${SECRET_TEXT}` }] }),
  ev('PreToolUse', 4, { tool_use_id: 't2' }),
  ev('PostToolBatch', 5, { tool_calls: [{ tool_use_id: 't2', tool_name: 'Bash', tool_response: `Permission denied. token: ${GHP} ${SECRET_TEXT}` }] }),
  ev('PreToolUse', 6, { tool_use_id: 't3' }),
  ev('PermissionDenied.Bash', 7, { tool_use_id: 't3', reason: `The command reads ${SECRET_TEXT} with ${GHP}` }),
  ev('PreToolUse', 8, { tool_use_id: 't4' }),
  ev('PostToolUseFailure.exit3', 9, { tool_use_id: 't4', error: `AWS_SECRET_ACCESS_KEY=${AWS} ${SECRET_TEXT}\nExit code 1` }),
  ev('PreToolUse', 10, { tool_use_id: 't5' }),
  ev('PostToolUseFailure.exit3', 11, { tool_use_id: 't5' }),
  ev('2.1.328/Notification', 12, { message: `Claude wants to read ${SECRET_TEXT}` }),
  { payload: { session_id: SID, hook_event_name: 'FutureEvent', prompt_id: 'p1', note: `a sentence with ${SECRET_TEXT}`, kind: 'file_changed', count: 3 }, at: 13 },
  ev('StopFailure', 14, { error: `weird ${SECRET_TEXT}` }),
  ev('SessionEnd', 15, { prompt_id: undefined }),
];

describe('privacy with capture off (normalize → model)', () => {
  it('lets nothing of content reach spans, status messages, denied reasons, span events or log records', () => {
    const { spans, logs } = replay(session, { captureValue: real });
    const out = JSON.stringify({ spans, logs });
    for (const leak of [AWS, GHP, SECRET_TEXT, 'Permission denied.', 'Claude wants']) expect(out, leak).not.toContain(leak);
    const tool = (id: string) => spans.find((s) => s.attributes['gen_ai.tool.call.id'] === id)!;
    expect(tool('t1').status).toEqual({ code: 'error', message: 'not_completed' });
    expect(tool('t2').attributes).toMatchObject({ 'claude_code.tool.outcome': 'denied' });
    expect(tool('t2').status.message).toBe('permission_denied');
    expect(tool('t3').attributes['claude_code.tool.denied_reason']).toBe('permission_denied');
    expect(tool('t4').status).toEqual({ code: 'error', message: 'tool_error' });
    expect(tool('t5').status).toEqual({ code: 'error', message: 'Exit code 3' });
    expect(tool('t5').attributes['error.type']).toBe('exit_code_3');
    // content-free details of point events survive
    expect(logs.find((l) => l.eventName === 'claude_code.hook.FutureEvent')?.attributes).toMatchObject({ 'claude_code.kind': 'file_changed', 'claude_code.count': 3 });
    expect(logs.find((l) => l.eventName === 'claude_code.hook.Notification')?.attributes['claude_code.notification_type']).toBe('permission_prompt');
  });

  it('with capture on, keeps the texts but redacted', () => {
    const { spans, logs } = replay(session, { captureValue: real, capture: { prompts: true, toolInputs: true, toolOutputs: true } });
    const out = JSON.stringify({ spans, logs });
    for (const secret of [AWS, GHP]) expect(out).not.toContain(secret);
    expect(out).toContain(SECRET_TEXT);
    expect(out).toContain('[REDACTED:');
  });

  it('keeps only content-free error kinds', () => {
    expect(errorKind('Exit code 3')).toBe('Exit code 3');
    expect(errorKind('Exit code 2\nls: cannot access /secret')).toBe('Exit code 2');
    expect(errorKind('Command timed out after 2m 0s')).toBe('timeout');
    expect(errorKind('Interrupted by user')).toBe('interrupted');
    expect(errorKind(`Exit code 1 ${SECRET_TEXT}`)).toBeUndefined();
    expect(errorKind(`cat: ${SECRET_TEXT}: No such file`)).toBeUndefined();
  });
});
