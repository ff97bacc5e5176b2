import { createServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../../../src/agent/agent.js';
import { PortHeld } from '../../../src/agent/port-owner.js';
import { loadConfig } from '../../../src/config/load.js';
import { freePort } from '../../support/ports.js';

describe('startAgent (composition root)', () => {
  let home: string;
  afterEach(() => rmSync(home, { recursive: true, force: true }));
  const config = (port: number) => loadConfig({ env: { CLAUDE_OTEL_HOME: home, CLAUDE_OTEL_PROFILE: 'testing', CLAUDE_OTEL_PORT: String(port) } }).config;

  it('shuts down once however often asked, and leaves a clean-stop marker and no pid file', async () => {
    home = mkdtempSync(join(tmpdir(), 'cob-root-'));
    const agent = await startAgent({ config: config(await freePort()), log: () => {} });
    expect(existsSync(join(home, 'agent.pid'))).toBe(true);
    await Promise.all([agent.shutdown('a'), agent.shutdown('b')]);
    await agent.shutdown('c');
    await agent.closed;
    expect(existsSync(join(home, 'agent.pid'))).toBe(false);
    expect(existsSync(join(home, 'clean-stop'))).toBe(true);
  });

  it('when a start step fails, stops what it started, releases agent.pid, and says why', async () => {
    home = mkdtempSync(join(tmpdir(), 'cob-root-'));
    const port = await freePort();
    const squatter = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => squatter.once('listening', r));
    try {
      const logs: string[] = [];
      await expect(startAgent({ config: config(port), log: (m) => logs.push(m) })).rejects.toBeInstanceOf(PortHeld); // names the holder: a loud failure, not 'already running'
      expect(existsSync(join(home, 'agent.pid'))).toBe(false);
      expect(existsSync(join(home, 'agent.json'))).toBe(false);
      expect(existsSync(join(home, 'clean-stop'))).toBe(false); // not a clean stop: the next start marks gaps if needed
      expect(logs.some((l) => l.includes('start failed'))).toBe(true);
    } finally {
      squatter.close();
    }
    const agent = await startAgent({ config: config(await freePort()), log: () => {} }); // and the home is usable right after
    await agent.shutdown();
  });
});
