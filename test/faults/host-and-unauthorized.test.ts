// Finding 10 (reliability review): no Host check, so a DNS-rebinding page could read /metrics and
// /healthz (pid, version, counters, resource attributes); and an unauthenticated POST incremented
// claude_otel_events_rejected_total, firing ClaudeOtelEventsRejected at anyone's will. Now every
// route refuses a Host that is not loopback, /healthz says only `ok` without the token, /metrics
// leaves out the resource attributes without it, and refused requests have their own counter.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { cleanEnv, rawRequest, startAgentProcess, tempRoot, writeConfig } from './identity-support.js';

let port: number;
let token: string;
let stop: () => Promise<void>;
let cleanup: () => void;
const ROUTES = [['POST', '/v1/hooks'], ['GET', '/healthz'], ['GET', '/metrics'], ['GET', '/v1/status'], ['GET', '/v1/identity?nonce=' + 'a'.repeat(32)], ['GET', '/nope']] as const;

beforeAll(async () => {
  const t = tempRoot('cob-fault-host-');
  cleanup = t.cleanup;
  const home = join(t.root, 'otel-home');
  mkdirSync(home, { mode: 0o700 });
  port = await freePort();
  writeConfig(home, port, { export: { resourceAttributes: { 'user.email': 'dev@example.com' } } });
  const agent = await startAgentProcess(home, cleanEnv({ HOME: t.root, CLAUDE_OTEL_HOME: home }));
  stop = agent.stop;
  token = readFileSync(join(home, 'token'), 'utf8').trim();
});
afterAll(async () => {
  await stop();
  cleanup();
});

const auth = () => ({ authorization: `Bearer ${token}` });
const body = JSON.stringify({ session_id: 'f10', hook_event_name: 'SessionStart', source: 'startup' });

describe('Host header and unauthenticated requests (finding 10)', () => {
  it.each(ROUTES)('refuses %s %s under a rebound name, even with the token', async (method, path) => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost:${port + 1}`]) {
      const res = await rawRequest(port, { method, path, host, headers: auth(), body: method === 'POST' ? body : undefined });
      expect(res.status, host).toBe(403);
      expect(res.body).not.toMatch(/pid|version|claude_otel|proof/);
    }
  });

  it('answers loopback names: 127.0.0.1, localhost and [::1], with or without the port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await rawRequest(port, { path: '/healthz', host })).status, host).toBe(200);
    }
  });

  it('says only `ok` on /healthz and leaves resource attributes out of /metrics without the token', async () => {
    expect(await rawRequest(port, { path: '/healthz' })).toEqual({ status: 200, body: 'ok' });
    expect(JSON.parse((await rawRequest(port, { path: '/healthz', headers: auth() })).body)).toMatchObject({ status: 'ok', pid: expect.any(Number) });
    const anonymous = await rawRequest(port, { path: '/metrics' });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toMatch(/claude_otel_open_sessions/);
    expect(anonymous.body).not.toMatch(/target_info|dev@example\.com/);
    expect((await rawRequest(port, { path: '/metrics', headers: auth() })).body).toMatch(/target_info\{[^}]*user_email="dev@example\.com"/);
    expect((await rawRequest(port, { path: '/v1/status' })).status).toBe(401);
  });

  it('counts unauthorized POSTs apart: claude_otel_events_rejected_total does not move', async () => {
    const before = (await rawRequest(port, { path: '/metrics', headers: auth() })).body;
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: `bearer ${token}` }, { 'content-type': 'text/plain' }];
    for (const headers of attempts) {
      expect((await rawRequest(port, { method: 'POST', path: '/v1/hooks', headers, body })).status).toBe(401);
    }
    const after = (await rawRequest(port, { path: '/metrics', headers: auth() })).body;
    const rejected = (text: string) => [...text.matchAll(/^claude_otel_events_rejected_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(rejected(after)).toBe(rejected(before));
    expect(after).toMatch(/claude_otel_unauthorized_requests_total\{reason="token",route="\/v1\/hooks"\} [4-9]/);
    expect(after).toMatch(/claude_otel_unauthorized_requests_total\{reason="host",route="\/healthz"\} [1-9]/);
  });
});
