import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHeaderSource, parseHeadersOutput } from '../../../src/agent/otlp-headers.js';

/** A headers command that prints the token in `file` and counts its runs in `file.runs`. */
function tokenCommand(token: string) {
  const dir = mkdtempSync(join(tmpdir(), 'otlp-headers-'));
  const file = join(dir, 'token');
  writeFileSync(file, token);
  const script = join(dir, 'helper.sh');
  writeFileSync(script, `#!/bin/sh\necho run >> "${file}.runs"\nprintf '{"Authorization":"Bearer %s"}' "$(cat "${file}")"\n`);
  chmodSync(script, 0o700);
  const runs = () => {
    try {
      return readFileSync(`${file}.runs`, 'utf8').split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  };
  return { script, setToken: (t: string) => writeFileSync(file, t), runs };
}

describe('parseHeadersOutput', () => {
  it('takes a JSON object of strings and refuses anything else without quoting it', () => {
    expect(parseHeadersOutput('{"Authorization":"Bearer x","X-Org":"7"}')).toEqual({ ok: true, headers: { Authorization: 'Bearer x', 'X-Org': '7' } });
    const notJson = parseHeadersOutput('Bearer secret-value');
    expect(notJson).toEqual({ ok: false, reason: 'output is not JSON (19 characters)' });
    expect(parseHeadersOutput('["a"]').ok).toBe(false);
    expect(parseHeadersOutput('{"A":1}').ok).toBe(false);
    expect(parseHeadersOutput('{"Bad Name":"v"}').ok).toBe(false);
    const crlf = parseHeadersOutput('{"A":"secret\\r\\nX: y"}');
    expect(crlf.ok).toBe(false);
    expect(JSON.stringify(crlf)).not.toContain('secret');
  });
});

describe('createHeaderSource', () => {
  it('runs the command once per TTL, merges it over the static headers, and again after invalidate', async () => {
    const helper = tokenCommand('one');
    let now = 1_000_000;
    const logs: string[] = [];
    const source = createHeaderSource({ headers: { 'X-Static': 's', Authorization: 'static' }, command: helper.script, timeoutMs: 5000, ttlMs: 60_000, log: (m) => logs.push(m), now: () => now });
    const [a, b] = await Promise.all([source.headers(), source.headers()]);
    expect(a).toEqual({ 'X-Static': 's', Authorization: 'Bearer one' });
    expect(b).toEqual(a);
    expect(helper.runs()).toBe(1); // concurrent requests share one run
    helper.setToken('two');
    now += 59_000;
    expect((await source.headers()).Authorization).toBe('Bearer one'); // cached
    source.invalidate();
    expect((await source.headers()).Authorization).toBe('Bearer two');
    now += 60_000;
    await source.headers();
    expect(helper.runs()).toBe(3);
    expect(logs).toEqual([]);
  });

  it('kills a command past its timeout, keeps the last good headers, and never logs what it printed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-headers-'));
    const mode = join(dir, 'mode');
    writeFileSync(mode, 'ok');
    const script = join(dir, 'helper.sh');
    writeFileSync(script, `#!/bin/sh\ncase "$(cat "${mode}")" in\n ok) echo '{"Authorization":"Bearer good-secret"}';;\n slow) sleep 30;;\n junk) echo 'token=leaked-secret';;\nesac\n`);
    chmodSync(script, 0o700);
    const logs: string[] = [];
    let now = 0;
    const source = createHeaderSource({ headers: {}, command: script, timeoutMs: 300, ttlMs: 1000, log: (m) => logs.push(m), now: () => now });
    expect(await source.headers()).toEqual({ Authorization: 'Bearer good-secret' });
    writeFileSync(mode, 'slow');
    now += 2000;
    const started = Date.now();
    expect(await source.headers()).toEqual({ Authorization: 'Bearer good-secret' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(source.stats().lastError).toBe('timed out after 300 ms');
    writeFileSync(mode, 'junk');
    now += 10_000;
    await source.headers();
    expect(source.stats()).toMatchObject({ runs: 3, failures: 2, lastError: 'output is not JSON (20 characters)' });
    expect(logs.join('\n')).not.toMatch(/secret/);
    expect(logs).toHaveLength(2);
  });
});
