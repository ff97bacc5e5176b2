// freePort hands out ports another process can bind: below the kernel's ephemeral range (where no
// outgoing connection takes its source port), not listened on, and never the same one twice.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../src/shared/free-port.js';

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('freePort', () => {
  it('gives distinct ports below the ephemeral range, each free to listen on', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of ports) expect(p).toBeGreaterThanOrEqual(10_000);
    if (ephemeralStart > 11_000) for (const p of ports) expect(p).toBeLessThan(ephemeralStart);
    // All of them at once: nobody held any of them.
    const servers = await Promise.all(ports.map((p) => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer().once('error', reject);
      s.listen(p, '127.0.0.1', () => resolve(s));
    })));
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });
});
