// The plugin as Claude Code users install it: `claude plugin marketplace add <this repository>`, then
// `claude plugin install claude-otel@claude-otel-bridge`, in a temporary HOME, with the real CLI.
// The marketplace is a copy of the repository's .claude-plugin/ and plugin/claude-otel/ with no
// node_modules anywhere above it; the hooks run the bundle, with the state in the plugin's data directory.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claudeBinaryPath, claudeEnv } from '../support/claude-cli.js';
import { setupBridge, traceProblems, type Bridge } from '../support/bridge-e2e.js';
import { spanTree } from '../support/span-tree.js';
import { bash, scenario, text, tool, tools } from '../support/model-server.js';

const REPO = join(import.meta.dirname, '..', '..');
const PLUGIN_ID = 'claude-otel@claude-otel-bridge';

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.cleanup();
});

/** Every file under dir, relative to it. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

function claudePlugin(b: Bridge, ...args: string[]): string {
  return execFileSync(claudeBinaryPath(), ['plugin', ...args], { cwd: b.project.dir, env: claudeEnv(b.project.home, b.ms.url), encoding: 'utf8', timeout: 60_000 });
}

describe('the plugin installed from the repository as a local marketplace', () => {
  it('runs the bundle with no node_modules (no npm install) and traces the session exactly', async () => {
    let b!: Bridge;
    b = await setupBridge(
      scenario({
        main: (req) => req.promptText.includes('<task-notification>') ? text('noted') : [
          tools(bash('echo hello'), tool('Read', { file_path: `${b.project.dir}/a.txt` })),
          tools(bash('exit 3', 'fail on purpose')),
          text('done'),
        ][req.step] ?? text('done'),
      }),
      {
        allowedTools: ['Bash', 'Read'],
        preinstalled: true,
        // Where Claude Code keeps the plugin's data (${CLAUDE_PLUGIN_DATA}); the test writes config.json there.
        otelHome: (p) => join(p.home, '.claude', 'plugins', 'data', 'claude-otel-claude-otel-bridge'),
      },
    );
    bridges.push(b);
    b.project.file('project/a.txt', 'hello\n');
    // The marketplace: the repository's marketplace file and plugin directory, copied where no
    // node_modules is above them (Claude Code loads a directory marketplace's plugin in place).
    const market = join(b.project.root, 'marketplace');
    for (const part of ['.claude-plugin', 'plugin/claude-otel']) cpSync(join(REPO, part), join(market, part), { recursive: true });
    expect(claudePlugin(b, 'marketplace', 'add', market)).toContain('claude-otel-bridge');
    expect(claudePlugin(b, 'install', PLUGIN_ID)).toContain(PLUGIN_ID);

    const installed = JSON.parse(readFileSync(join(b.project.home, '.claude', 'plugins', 'installed_plugins.json'), 'utf8')) as { plugins: Record<string, Array<{ installPath: string }>> };
    const installPath = installed.plugins[PLUGIN_ID]![0]!.installPath;
    expect(relative(b.project.home, installPath).startsWith('..')).toBe(false);
    // The cache holds the repository's plugin directory as it is: nothing installed, nothing added.
    expect(files(installPath)).toEqual(files(join(REPO, 'plugin', 'claude-otel')));

    const r = await b.run('use tools');
    expect(r.exitCode).toBe(0);
    // The agent the hook started runs the bundle from the plugin root (${CLAUDE_PLUGIN_ROOT}: for a
    // directory marketplace, 2.1.332 runs the plugin in place; from a git marketplace, from its clone).
    const pluginRoot = join(market, 'plugin', 'claude-otel');
    const pid = b.agentPid()!;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv.map((arg) => resolve(arg)), argv.join(' ')).toContain(join(pluginRoot, 'dist', 'cli.js'));
    for (const start of [pluginRoot, installPath]) {
      for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules')), dir).toBe(false);
    }
    await b.stopAgent();

    const payloads = b.payloads();
    expect(traceProblems(b.receiver.spans, payloads, b.ms.issuedToolUseIds())).toEqual([]);
    // Bash and Read are one response's parallel calls: their PreToolUse hooks (commands of the
    // plugin) reach the agent in either order, so siblings are compared in canonical order, and the
    // failing Bash of the next response is checked to start after both.
    expect(spanTree(b.receiver.spans, payloads[0]!.session_id, 'canonical')).toEqual([
      'invoke_agent claude-code',
      '  claude_code.turn outcome=stop',
      '    execute_tool Bash outcome=error ERROR',
      '    execute_tool Bash outcome=success',
      '    execute_tool Read outcome=success',
    ]);
    const toolSpans = b.receiver.spans.filter((s) => s.name.startsWith('execute_tool'));
    const failing = toolSpans.find((s) => s.status.code === 2)!;
    for (const t of toolSpans) if (t !== failing) expect(failing.startMs).toBeGreaterThanOrEqual(t.startMs);
    // No npm install ran in the plugin: still exactly the repository's files, no node_modules.
    expect(files(installPath)).toEqual(files(join(REPO, 'plugin', 'claude-otel')));
    expect(files(pluginRoot)).toEqual(files(join(REPO, 'plugin', 'claude-otel')));
    expect(files(installPath).filter((f) => f.includes('node_modules'))).toEqual([]);

    // The plugin's slash command runs the bundled doctor in the plugin's context; its output is the prompt.
    const before = b.ms.requests.length;
    expect((await b.run('/claude-otel:doctor')).exitCode).toBe(0);
    const prompt = b.ms.requests.slice(before).find((q) => q.agent === 'main')?.promptText ?? '';
    expect(prompt).toContain(`[ok  ] hooks            installed plugin ${PLUGIN_ID} (scope user)`);
    expect(prompt).toContain(`[ok  ] home             ${b.otelHome}: ours, private`);
  });
});
