// The npm package as users get it: `npm pack` of this repository, installed globally into a temporary
// prefix (it has no dependencies: the bundle is the package), then `claude-otel install` and a real
// Claude Code session; and `npx claude-otel-bridge install --scope project` in one clone, whose
// committed settings trace a session in a second clone at another path.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupBridge, traceProblems, type Bridge } from '../support/bridge-e2e.js';
import { spanTree } from '../support/span-tree.js';
import { bash, scenario, text, tools } from '../support/model-server.js';

const REPO = join(import.meta.dirname, '..', '..');
let work: string;
let tgz: string;
let prefix: string;
let pkgDir: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'npm-pkg-'));
  const name = execFileSync('npm', ['pack', REPO, '--pack-destination', work, '--silent'], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop()!;
  tgz = join(work, name);
  prefix = join(work, 'prefix');
  execFileSync('npm', ['install', '-g', tgz, '--prefix', prefix, '--offline', '--no-audit', '--no-fund'], { cwd: work, stdio: 'pipe', env: { ...process.env, npm_config_cache: join(work, 'npm-cache') } });
  pkgDir = join(prefix, 'lib', 'node_modules', 'claude-otel-bridge');
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.cleanup();
});

const SCRIPT = scenario({
  main: (req) => req.promptText.includes('<task-notification>') ? text('noted') : [tools(bash('echo hello')), tools(bash('exit 3', 'fail on purpose')), text('done')][req.step] ?? text('done'),
});
const TREE = [
  'invoke_agent claude-code',
  '  claude_code.turn outcome=stop',
  '    execute_tool Bash outcome=success',
  '    execute_tool Bash outcome=error ERROR',
];

/** The agent the hooks started runs the package's bundle; then the session's trace is exactly TREE. */
async function expectTraced(b: Bridge) {
  const argv = readFileSync(`/proc/${b.agentPid()!}/cmdline`, 'utf8').split('\0');
  expect(argv.map((a) => resolve(a)), argv.join(' ')).toContain(join(pkgDir, 'plugin', 'claude-otel', 'dist', 'cli.js'));
  await b.stopAgent();
  const payloads = b.payloads();
  expect(traceProblems(b.receiver.spans, payloads, b.ms.issuedToolUseIds())).toEqual([]);
  expect(spanTree(b.receiver.spans, payloads[0]!.session_id)).toEqual(TREE);
}

describe('the npm package from `npm pack`', () => {
  it('installs with no dependencies; `claude-otel install --scope user` traces a session; uninstall restores the settings byte for byte', async () => {
    expect(readdirSync(pkgDir)).not.toContain('node_modules');
    const b = await setupBridge(SCRIPT, { allowedTools: ['Bash'], preinstalled: true });
    bridges.push(b);
    // The user's own settings, in a layout of their own (4-space indent, no final newline).
    const settings = join(b.project.home, '.claude', 'settings.json');
    const original = JSON.stringify({ model: 'opus', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'true' }] }] } }, null, 4);
    b.project.file('home/.claude/settings.json', original);
    const env = { ...process.env, HOME: b.project.home, CLAUDE_OTEL_HOME: b.otelHome };
    const port = (JSON.parse(readFileSync(join(b.otelHome, 'config.json'), 'utf8')) as { agent: { port: number } }).agent.port;
    execFileSync(join(prefix, 'bin', 'claude-otel'), ['install', '--scope', 'user', '--port', String(port)], { env, stdio: 'pipe' });
    expect(readFileSync(settings, 'utf8')).toContain(JSON.stringify(join(pkgDir, 'plugin', 'claude-otel', 'bin', 'claude-otel-hook')));

    expect((await b.run('use tools')).exitCode).toBe(0);
    await expectTraced(b);

    execFileSync(join(prefix, 'bin', 'claude-otel'), ['uninstall', '--scope', 'user'], { env, stdio: 'pipe' });
    expect(readFileSync(settings, 'utf8')).toBe(original);
  });

  it('`npx claude-otel-bridge install --scope project` commits settings that trace a session in another clone', async () => {
    const b = await setupBridge(SCRIPT, { allowedTools: ['Bash'], preinstalled: true });
    bridges.push(b);
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, stdio: 'pipe', encoding: 'utf8' });
    git(b.project.dir, 'init', '-q');
    b.project.file('project/README.md', 'a project\n');
    const env = { ...process.env, HOME: b.project.home, CLAUDE_OTEL_HOME: b.otelHome, npm_config_cache: join(b.project.root, 'npm-cache') };
    execFileSync('npx', ['--yes', '--offline', '--package', tgz, '--', 'claude-otel-bridge', 'install', '--scope', 'project'], { cwd: b.project.dir, env, stdio: 'pipe' });
    const shared = readFileSync(join(b.project.dir, '.claude', 'settings.json'), 'utf8');
    const local = JSON.parse(readFileSync(join(b.project.dir, '.claude', 'settings.local.json'), 'utf8')) as { env: Record<string, string> };
    // The machine's path went to the private file only; the shared one names no path at all.
    expect(existsSync(local.env.CLAUDE_OTEL_HOOK!)).toBe(true);
    expect(shared.replaceAll('/dev/null', '')).not.toContain('/');
    expect(shared).toContain('claude-otel-hook');
    git(b.project.dir, 'add', 'README.md', '.claude/settings.json');
    git(b.project.dir, 'commit', '-qm', 'trace sessions with claude-otel');

    // A teammate's clone at another path, with the package on PATH (npm i -g) and no local settings.
    const clone = join(b.project.root, 'elsewhere', 'clone');
    git(b.project.root, 'clone', '-q', b.project.dir, clone);
    expect(readdirSync(join(clone, '.claude'))).toEqual(['settings.json']);
    writeFileSync(join(clone, 'note.txt'), 'x');
    const r = await b.run('use tools', { cwd: clone, env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` } });
    expect(r.exitCode).toBe(0);
    expect(b.payloads().every((p) => p.cwd === clone)).toBe(true);
    await expectTraced(b);
  });
});
