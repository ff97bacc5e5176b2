// The local view end to end with the real Claude Code CLI and no OTLP endpoint (the embedded default):
// hooks (installed by `claude-otel install`, or loaded from the plugin with --plugin-dir) start the
// agent, which keeps the spans in $CLAUDE_OTEL_HOME/store; `claude-otel sessions` / `trace` read them.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, setupBridge, type Bridge } from '../support/bridge-e2e.js';
import { waitFor } from '../support/agent-harness.js';
import { bash, scenario, text, tool, tools } from '../support/model-server.js';
import { formatCost } from '../../src/view/cost.js';

const REPO = join(import.meta.dirname, '..', '..');

interface TreeNode {
  name: string;
  spanId: string;
  status: { code: string; message?: string };
  attributes: Record<string, unknown>;
  children: TreeNode[];
  missing?: boolean;
}
interface Tree {
  traceId: string;
  sessionId: string;
  spanCount: number;
  roots: TreeNode[];
}
interface Summary {
  sessionId: string;
  traceId: string;
  turns: number;
  tools: number;
  errors: number;
  spans: number;
  open: boolean;
  end?: string;
  cwd?: string;
  modelCalls?: number;
  costUsd?: number;
}

const bridges: Bridge[] = [];
afterEach(async () => {
  for (const b of bridges.splice(0)) await b.cleanup();
});

/**
 * setupBridge, then config.json rewritten without export.otlpEndpoint: the agent the hook starts
 * knows no collector, only the local store. (The receiver setupBridge starts stays unused.)
 */
async function localBridge(options: { plugin?: string }): Promise<Bridge> {
  const b = await setupBridge(
    scenario({
      // (the guard keeps a stray <task-notification> turn from replaying the script)
      main: (req) => req.promptText.includes('<task-notification>') ? text('noted') : [tools(bash('echo hello')), tools(bash('exit 3', 'fail on purpose')), tools(tool('Agent', { description: 'delegate', prompt: 'SUB1: echo', subagent_type: 'general-purpose', run_in_background: false })), text('done')][req.step] ?? text('done'),
      subagents: { 'SUB1:': [tools(bash('echo in-sub')), text('sub done')] },
    }),
    { allowedTools: ['Bash', 'Agent'], ...options },
  );
  bridges.push(b);
  const configFile = join(b.otelHome, 'config.json');
  const written = JSON.parse(readFileSync(configFile, 'utf8')) as { agent: { port: number } };
  writeFileSync(configFile, JSON.stringify({ profile: 'testing', agent: { port: written.agent.port } }));
  return b;
}

function cli(b: Bridge, ...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, CLAUDE_OTEL_HOME: b.otelHome, HOME: b.project.home, NO_COLOR: '1' },
    encoding: 'utf8',
  });
}

const walk = (nodes: TreeNode[]): TreeNode[] => nodes.flatMap((n) => [n, ...walk(n.children)]);

/** The model's responses: each is one `chat` span in the store (src/model-calls), besides the 7 hook-event spans. */
const modelCalls = (b: Bridge) => b.ms.requests.filter((q) => q.messageId).length;
/** A node's children without the model calls between them (asserted by count above). */
const hookChildren = (n: TreeNode) => n.children.filter((c) => !c.name.startsWith('chat '));

async function checkLocalView(b: Bridge) {
  const r = await b.run('use tools', { timeoutMs: 30_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  const sessionId = r.json!.session_id as string;
  expect(b.agentPid()).toBeDefined();
  // The agent was configured without an endpoint: it says so and exports nothing over OTLP.
  const info = JSON.parse(readFileSync(join(b.otelHome, 'agent.json'), 'utf8')) as { url: string };
  const token = readFileSync(join(b.otelHome, 'token'), 'utf8').trim();
  const status = (await (await fetch(`${info.url}/v1/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { otlp: string | null };
  expect(status.otlp).toBeNull();

  // While the agent runs, the ended session reaches the store (testing profile: 50 ms flush delay).
  const live = await waitFor(() => {
    const rows = JSON.parse(cli(b, 'sessions', '--json')) as Summary[];
    const row = rows.find((s) => s.sessionId === sessionId);
    return row && !row.open && row.spans >= 7 + modelCalls(b) && row;
  }, 15_000, 'the ended session in the store while the agent runs');
  expect(live.tools).toBe(4);

  await b.stopAgent();
  expect(b.receiver.spans).toEqual([]);
  expect(readdirSync(join(b.otelHome, 'store')).filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);

  const rows = JSON.parse(cli(b, 'sessions', '--json')) as Summary[];
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ sessionId, traceId: sessionId.replace(/-/g, ''), turns: 1, tools: 4, errors: 1, spans: 7 + modelCalls(b), open: false, cwd: b.project.dir });
  expect(rows[0]!.end).toBeTypeOf('string');

  // The table names it too (shortest unique prefix of at least 8 characters).
  expect(cli(b, 'sessions')).toContain(sessionId.slice(0, 8));

  const tree = JSON.parse(cli(b, 'trace', sessionId, '--json')) as Tree;
  expect(tree.sessionId).toBe(sessionId);
  expect(tree.traceId).toBe(sessionId.replace(/-/g, ''));
  expect(tree.spanCount).toBe(7 + modelCalls(b));
  expect(walk(tree.roots).filter((n) => n.name.startsWith('chat '))).toHaveLength(modelCalls(b));
  expect(tree.roots).toHaveLength(1);
  const root = tree.roots[0]!;
  expect(root.name).toBe('invoke_agent claude-code');
  expect(root.missing).toBeFalsy();
  expect(root.attributes['claude_code.span.kind']).toBe('session');
  expect(hookChildren(root).map((c) => c.name)).toEqual(['claude_code.turn']);
  const turn = hookChildren(root)[0]!;
  expect(turn.attributes['claude_code.turn.outcome']).toBe('stop');
  // Children are ordered by start time: echo, exit 3, Agent.
  expect(hookChildren(turn).map((c) => c.name)).toEqual(['execute_tool Bash', 'execute_tool Bash', 'execute_tool Agent']);
  const [ok, failed, agentCall] = hookChildren(turn) as [TreeNode, TreeNode, TreeNode];
  expect(ok.status.code).not.toBe('error');
  expect(ok.attributes['claude_code.tool.outcome']).toBe('success');
  expect(failed.status.code).toBe('error');
  expect(failed.attributes['error.type']).toBe('exit_code_3');
  expect(agentCall.status.code).not.toBe('error');
  expect(agentCall.children.map((c) => c.name)).toEqual(['invoke_agent general-purpose']);
  const sub = agentCall.children[0]!;
  expect(sub.attributes['claude_code.span.kind']).toBe('subagent');
  expect(hookChildren(sub).map((c) => c.name)).toEqual(['execute_tool Bash']);
  const inner = hookChildren(sub)[0]!;
  expect(inner.attributes['gen_ai.agent.id']).toBe(sub.attributes['gen_ai.agent.id']);
  expect(inner.children).toEqual([]);
  // Every tool call the model issued is in the tree exactly once, and nothing else is.
  const toolIds = walk(tree.roots).filter((n) => n.name.startsWith('execute_tool ')).map((n) => n.attributes['gen_ai.tool.call.id']);
  expect(toolIds.sort()).toEqual([...b.ms.issuedToolUseIds()].sort());
  expect(walk(tree.roots).filter((n) => n.attributes['claude_code.gap'] !== undefined)).toEqual([]);

  // `trace --last` is the same session, and the waterfall renders it.
  expect((JSON.parse(cli(b, 'trace', '--last', '--json')) as Tree).sessionId).toBe(sessionId);
  const waterfall = cli(b, 'trace', sessionId.slice(0, 8), '--width', '100');
  expect(waterfall).toContain('invoke_agent general-purpose');
  expect(waterfall).toContain('exit_code_3');

  // Cost: the session lists Claude Code's own total_cost_usd (the transcript's cost-state, on the
  // root), and the waterfall shows every model call and the session's cost in its header.
  const total = r.json!.total_cost_usd as number;
  expect(total).toBeGreaterThan(0);
  expect(rows[0]).toMatchObject({ modelCalls: modelCalls(b), costUsd: total });
  expect(cli(b, 'sessions')).toContain(formatCost(total));
  expect(waterfall.split('\n').filter((l) => /^\s+chat claude-/.test(l))).toHaveLength(modelCalls(b));
  expect(waterfall).toContain(`${modelCalls(b)} model calls`);
  expect(waterfall).toContain(formatCost(total));
}

describe('local store and view with the real Claude Code CLI (no OTLP endpoint)', () => {
  it('hooks installed with `claude-otel install --scope project`', async () => {
    const b = await localBridge({});
    await checkLocalView(b);
  });

  it('hooks loaded with --plugin-dir <repo>/plugin/claude-otel (the bundle, no install)', async () => {
    const b = await localBridge({ plugin: join(REPO, 'plugin', 'claude-otel') });
    expect(readdirSync(b.project.dir)).not.toContain('.claude');
    await checkLocalView(b);
  });
});
