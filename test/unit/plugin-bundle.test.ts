// The committed plugin (plugin/claude-otel, what a marketplace added from git installs) is exactly
// what scripts/build-plugin.mjs builds from the current sources (global setup ran tsc into dist/).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..', '..');
const committed = join(REPO, 'plugin', 'claude-otel');
const out = mkdtempSync(join(tmpdir(), 'plugin-build-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const files = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort();

describe('plugin/claude-otel', () => {
  it('is what `npm run build:plugin` builds now (run it and commit when this fails)', () => {
    execFileSync(process.execPath, ['scripts/build-ui.mjs'], { cwd: REPO, stdio: 'pipe' });
    execFileSync(process.execPath, ['scripts/build-plugin.mjs', '--out', out], { cwd: REPO, stdio: 'pipe' });
    // commands/ is the plugin's own source, not built.
    expect(files(committed).filter((f) => !f.startsWith('commands/'))).toEqual(files(out));
    const stale = files(out).filter((f) => !readFileSync(join(out, f)).equals(readFileSync(join(committed, f))));
    expect(stale).toEqual([]);
    for (const f of ['bin/claude-otel-hook', 'dist/cli.js']) expect(statSync(join(committed, f)).mode & 0o111, f).not.toBe(0);
  });

  it('needs nothing installed: every import of the bundle is a Node built-in or another file of it', () => {
    const bare = new Set<string>();
    for (const f of files(committed).filter((x) => x.startsWith('dist/') && x.endsWith('.js') && !x.startsWith('dist/ui/'))) {
      const code = readFileSync(join(committed, f), 'utf8');
      for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']((?:@[\w.-]+\/)?[\w.-]+)(?:\/[\w./-]*)?["']/g)) {
        const name = m[1]!;
        if (!name.startsWith('.') && !name.startsWith('node:') && !builtinModules.includes(name)) bare.add(name);
      }
    }
    // The one left: an optional peer of @redis/client, imported in a try/catch for a feature we do not use.
    expect([...bare].sort()).toEqual(['@node-rs/xxhash']);
  });
});
