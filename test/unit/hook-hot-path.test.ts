// Whatever runs once per Claude Code event must load nothing heavy: the `hook` command's import
// graph is Node built-ins only, and cli.ts reaches it without loading any other module.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** Static imports (not `import type`) of a source file, resolved to .ts files or bare specifiers. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((s) => (s.startsWith('.') ? resolve(dirname(file), s.replace(/\.js$/, '.ts')) : s));
}

function graph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    for (const dep of staticImports(file)) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      if (dep.endsWith('.ts')) visit(dep);
    }
  };
  visit(entry);
  return seen;
}

describe('the hook hot path', () => {
  it('imports only Node built-ins from `claude-otel hook`', () => {
    const deps = [...graph(join(SRC, 'hook', 'hook-command.ts'))];
    expect(deps.filter((d) => !d.startsWith('node:'))).toEqual([]);
    expect(deps.length).toBeGreaterThan(3); // the scan did find the imports
  });

  it('has cli.ts load no module statically (commands are imported on demand)', () => {
    expect(staticImports(join(SRC, 'cli.ts'))).toEqual([]);
    expect(readFileSync(join(SRC, 'cli.ts'), 'utf8')).toMatch(/if \(name === 'hook'\)[\s\S]*?import\('\.\/hook\/hook-command\.js'\)/);
  });

  it('would notice a heavy import (the scan sees package imports of the agent)', () => {
    expect([...graph(join(SRC, 'agent', 'telemetry.ts'))]).toContain('@opentelemetry/sdk-trace-base');
  });
});
