/** Starts the agent in-process against a temp CLAUDE_OTEL_HOME, with the `testing` profile. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { freePort } from './ports.js';

export interface TestAgent {
  agent: RunningAgent;
  home: string;
  token: string;
  url: string;
  post(body: string | Buffer, headers?: Record<string, string>): Promise<Response>;
  metrics(): Promise<string>;
  /** What the agent logged so far. */
  logs(): string[];
  stop(): Promise<void>;
}

export async function startTestAgent(options: { home?: string; env?: Record<string, string> } = {}): Promise<TestAgent> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'cob-agent-'));
  const port = await freePort();
  const env = { CLAUDE_OTEL_HOME: home, CLAUDE_OTEL_PROFILE: 'testing', CLAUDE_OTEL_PORT: String(port), ...options.env };
  const { config } = loadConfig({ env });
  const logs: string[] = [];
  const agent = await startAgent({ config, env, log: (m) => logs.push(m) });
  const token = readFileSync(join(home, 'token'), 'utf8').trim();
  return {
    agent,
    home,
    token,
    url: agent.url,
    post: (body, headers = {}) =>
      fetch(`${agent.url}/v1/hooks`, { method: "POST", body: typeof body === "string" ? body : new Uint8Array(body), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } }),
    metrics: async () => (await fetch(`${agent.url}/metrics`)).text(),
    logs: () => [...logs],
    async stop() {
      await agent.shutdown('test');
    },
  };
}

export function removeHome(home: string) {
  rmSync(home, { recursive: true, force: true });
}

export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
