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
    // Our own modules may be reached (the graph is followed through them); no package may.
    expect(deps.filter((d) => !d.startsWith('node:') && !d.endsWith('.ts'))).toEqual([]);
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

describe('the agent launch flags', () => {
  it('are the same in bin/claude-otel-hook as in src/agent/node-flags.ts', async () => {
    const { AGENT_NODE_FLAGS } = await import('../../src/agent/node-flags.js');
    const script = readFileSync(join(SRC, '..', 'bin', 'claude-otel-hook'), 'utf8');
    expect(script).toContain(`"\${CLAUDE_OTEL_NODE:-node}" ${AGENT_NODE_FLAGS.join(' ')} "$cli" agent`);
  });
});
