/**
 * Measures the redactor's false positives on ordinary tool output from this machine: the lines of
 * `git log -p` of this repository (without the secret fixtures and redaction tests, which hold fake
 * secrets on purpose), `ls -la /usr/bin`, `ps aux`, `dpkg -l`, `npm ls --all`, the TypeScript
 * compiler's file list (a build log), and JavaScript/TypeScript sources in node_modules. None of it
 * should hold a secret, so every line the redactor changes is a candidate false positive; the script
 * prints them with the kinds that fired so a reader can confirm.
 *
 * Run: npx vite-node scripts/redaction-false-positives.ts [--lines-per-source N] [--show N] [--module path]
 * (`--module` measures another redactor module exporting createRedactor, e.g. an older copy.)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRedactor as currentRedactor } from '../src/privacy/redact.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const LINES_PER_SOURCE = option('--lines-per-source', 5000);
const SHOW = option('--show', 40);
const root = new URL('..', import.meta.url).pathname;

function run(cmd: string, argv: string[], cwd = root): string {
  try {
    return execFileSync(cmd, argv, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? '');
  }
}

/** Source files under node_modules, in a fixed order, until `limit` lines are collected. */
function nodeModuleSources(limit: number): string {
  const dirs = ['zod', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/core', 'vitest/dist', 'undici'];
  const out: string[] = [];
  let count = 0;
  const walk = (dir: string) => {
    if (count >= limit) return;
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      if (count >= limit) return;
      const p = join(dir, e);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.(?:[cm]?js|ts)$/.test(e) && !e.endsWith('.map') && st.size < 512 * 1024) {
        const text = readFileSync(p, 'utf8');
        out.push(text);
        count += text.split('\n').length;
      }
    }
  };
  for (const d of dirs) walk(join(root, 'node_modules', d));
  return out.join('\n');
}

const sources: [string, () => string][] = [
  ['git log -p', () => run('git', ['log', '-p', '--no-color', '-n', '400', '--', '.', ':!test/fixtures/secrets', ':!test/unit/redact*', ':!test/integration/redaction.test.ts', ':!test/integration/capture-off.test.ts', ':!src/privacy', ':!docs/privacy.md', ':!scripts/redaction-false-positives.ts'])],
  ['ls -la /usr/bin', () => run('ls', ['-la', '/usr/bin'])],
  ['ps aux', () => run('ps', ['aux'])],
  ['dpkg -l', () => run('dpkg', ['-l'])],
  ['npm ls --all', () => run('npm', ['ls', '--all', '--offline'])],
  ['tsc --listFiles (build log)', () => run(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--noEmit', '--listFiles'])],
  ['node_modules sources', () => nodeModuleSources(LINES_PER_SOURCE)],
];

const moduleIndex = args.indexOf('--module');
const createRedactor: typeof currentRedactor =
  moduleIndex >= 0 ? ((await import(args[moduleIndex + 1]!)) as { createRedactor: typeof currentRedactor }).createRedactor : currentRedactor;
const redactor = createRedactor();
const kindsFired = new Map<string, number>();
const changedLines: { source: string; line: string; out: string }[] = [];
let totalLines = 0;
let totalChanged = 0;
console.log('| source | lines | changed | rate |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, produce] of sources) {
  const lines = produce().split('\n').filter((l) => l.trim() !== '').slice(0, LINES_PER_SOURCE);
  let changed = 0;
  for (const line of lines) {
    const { text, redactions } = redactor.redact(line);
    if (redactions === 0) continue;
    changed += 1;
    for (const m of text.matchAll(/\[REDACTED:([a-z0-9-]+)\]/g)) kindsFired.set(m[1]!, (kindsFired.get(m[1]!) ?? 0) + 1);
    changedLines.push({ source: name, line, out: text });
  }
  totalLines += lines.length;
  totalChanged += changed;
  console.log(`| ${name} | ${lines.length} | ${changed} | ${((100 * changed) / Math.max(1, lines.length)).toFixed(2)}% |`);
}
console.log(`| **total** | **${totalLines}** | **${totalChanged}** | **${((100 * totalChanged) / Math.max(1, totalLines)).toFixed(3)}%** |`);
console.log(`\nkinds that fired: ${[...kindsFired].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
console.log(`\nchanged lines (first ${SHOW}):`);
for (const c of changedLines.slice(0, SHOW)) console.log(`[${c.source}]\n  in : ${c.line.slice(0, 220)}\n  out: ${c.out.slice(0, 220)}`);
