import { describe, expect, it } from 'vitest';
import { backoffMs, classifyError, classifyHttpStatus } from '../../src/sink/failures.js';
import { normalizeLogs, normalizeTraces } from '../../src/sink/records.js';
import { sessionsWithCost } from '../../src/sink/webhooks/budget.js';
import { detectEvents, slackBody } from '../../src/sink/webhooks/events.js';
import { sign, verify, webhookId } from '../../src/sink/webhooks/sign.js';
import { createAddressGuard, isPrivateAddress } from '../../src/sink/webhooks/ssrf.js';
import { buildSyntheticSession } from './support/session.js';

describe('Standard Webhooks signature', () => {
  // Test vector from the Standard Webhooks spec repository.
  it('matches the reference vector', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const body = '{"test": 2432232314}';
    expect(sign(secret, id, 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(verify(secret, { id, timestamp: '1614265330', signature: 'v1,bad v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }, body, 1614265330)).toBe(true);
    expect(verify(secret, { id, timestamp: '1614265330', signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }, `${body} `, 1614265330)).toBe(false);
  });

  it('derives a stable webhook-id from destination and event identity', () => {
    expect(webhookId('ops', 'tool_failure:a:b')).toBe(webhookId('ops', 'tool_failure:a:b'));
    expect(webhookId('ops', 'tool_failure:a:b')).not.toBe(webhookId('pager', 'tool_failure:a:b'));
  });
});

describe('classifyHttpStatus / classifyError', () => {
  it.each([
    [200, 'success'], [204, 'success'], [410, 'gone'], [429, 'retryable'], [500, 'retryable'], [503, 'retryable'],
    [400, 'permanent'], [404, 'permanent'], [302, 'permanent'],
  ])('%i → %s', (status, kind) => expect(classifyHttpStatus(status, undefined).kind).toBe(kind));

  it('reads Retry-After seconds and dates', () => {
    expect(classifyHttpStatus(429, '7')).toMatchObject({ retryAfterMs: 7000 });
    expect(classifyHttpStatus(503, new Date(10_000).toUTCString(), 4_000)).toMatchObject({ retryAfterMs: 6000 });
  });

  it('treats connection and operator errors as retryable, data errors as permanent', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })).kind).toBe('retryable');
    expect(classifyError(Object.assign(new Error('terminating connection'), { code: '57P01' })).kind).toBe('retryable');
    expect(classifyError(Object.assign(new Error('bad'), { code: '22P02' })).kind).toBe('permanent');
    expect(classifyError(new Error('Connection terminated unexpectedly')).kind).toBe('retryable');
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffMs(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('SSRF guard', () => {
  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])(
    'treats %s as private', (ip) => expect(isPrivateAddress(ip)).toBe(true),
  );
  // Finding 13's gaps: IPv4-compatible (::/96), 6to4 (2002::/16), SIIT (::ffff:0:0/96), local-use NAT64.
  it.each(['::127.0.0.1', '::7f00:1', '::', '2002:7f00:1::1', '2002:a00:1::1', '::ffff:0:7f00:1', '::ffff:0:127.0.0.1', '64:ff9b::7f00:1', '64:ff9b:1::a00:1'])(
    'treats %s (an embedded IPv4 address) as private', (ip) => expect(isPrivateAddress(ip)).toBe(true),
  );
  it.each(['8.8.8.8', '1.1.1.1', '2606:4700::1111', '2001:db8:2002::1', '::ffff:8.8.8.8'])('treats %s as public', (ip) => expect(isPrivateAddress(ip)).toBe(false));

  it.each(['http://[::127.0.0.1]/x', 'http://[2002:7f00:1::1]/x', 'http://[::ffff:0:7f00:1]/x'])('refuses %s', async (url) => {
    await expect(createAddressGuard([]).check(url)).rejects.toThrow(/private/);
  });

  it('refuses private hosts unless allow-listed', async () => {
    await expect(createAddressGuard([]).check('http://127.0.0.1:9/x')).rejects.toThrow(/allowPrivateAddresses/);
    await expect(createAddressGuard(['127.0.0.1']).check('http://127.0.0.1:9/x')).resolves.toEqual(['127.0.0.1']);
    await expect(createAddressGuard(['10.0.0.0/8']).check('http://10.9.9.9/x')).resolves.toEqual(['10.9.9.9']);
    await expect(createAddressGuard([]).check('http://localhost:9/x')).rejects.toThrow(/localhost/);
    expect(() => createAddressGuard(['nope'])).toThrow(/allow-list/);
  });
});

describe('detectEvents', () => {
  it('finds each event of the synthetic session once', () => {
    const s = buildSyntheticSession();
    const events = detectEvents({ spans: normalizeTraces(s.traces as never).records, logs: normalizeLogs(s.logs as never).records });
    expect(events.map((e) => e.type).sort()).toEqual(['permission_denied', 'session_end', 'slow_tool', 'slow_tool', 'tool_failure', 'turn_failure']);
    expect(events.find((e) => e.type === 'tool_failure')!.data).toMatchObject({ tool_name: 'Bash', error_type: 'exit_code_1' });
  });
});

describe('session_over_budget (pure parts)', () => {
  it('looks only at sessions whose batch carries a cost on a model call, turn, root or segment span', () => {
    const span = (sessionId: string | null, kind: string | null, cost: unknown) =>
      ({ sessionId, kind, attributes: cost === undefined ? {} : { 'claude_code.cost.usd': cost } }) as never;
    const batch = { spans: [span('a', 'model_call', 0.1), span('b', 'tool', 5), span('c', 'turn', '1'), span(null, 'turn', 1), span('d', 'segment', 0), span('a', 'turn', 1), span('e', 'session', undefined)], logs: [] } as never;
    expect(sessionsWithCost(batch).sort()).toEqual(['a', 'd']);
  });

  it('Slack text names the cost, the budget and the session', () => {
    const body = slackBody({ type: 'session_over_budget', identity: 'session_over_budget:s1', occurredAt: '2026-12-01T00:00:00Z', sessionId: 's1', traceId: 't', spanId: null, data: { cost_usd: 1.154, budget_usd: 1, model_calls: 3 } });
    expect(body.text).toBe(':moneybag: Session cost 1.15 USD, over the 1 USD budget (3 model calls) (session `s1`)');
  });
});
