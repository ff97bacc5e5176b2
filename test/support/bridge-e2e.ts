/**
 * A temp project with our hooks installed by `claude-otel install`, an OTLP receiver standing in for
 * the collector, and the real Claude Code CLI. The agent is started on demand by our hook, exactly
 * as on a user's machine; its endpoint comes from config.json in CLAUDE_OTEL_HOME (hooks never see OTEL_*).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempProject, runClaude, type RunClaudeOptions, type TempProject } from './claude-cli.js';
import { readHookPayloads, recorderSettings, type HookPayload } from './hook-recorder.js';
import { createModelServer, type ModelServer, type Script } from './model-server.js';
import { startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
import { freePort } from './ports.js';
import { waitFor } from './agent-harness.js';
import { isAlive } from '../../src/agent/agent.js';
import { traceInvariants, type InvariantOptions } from './trace-invariants.js';

export const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');

export interface Bridge {
  project: TempProject;
  ms: ModelServer;
  receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  otelHome: string;
  run(prompt: string, opts?: Partial<RunClaudeOptions>): ReturnType<typeof runClaude>;
  payloads(): HookPayload[];
  agentPid(): number | undefined;
  stopAgent(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface BridgeOptions {
  allowedTools: string[];
  transport?: 'http' | 'durable';
  /** Loaded with --plugin-dir instead of `claude-otel install`. */
  plugin?: string;
  /** The test installs the hooks itself (a marketplace plugin, an npm package): setupBridge installs nothing. */
  preinstalled?: boolean;
  /** The state directory, found by the hooks on their own (e.g. the plugin's data dir under HOME): then
   *  the CLI runs without CLAUDE_OTEL_HOME. Default: <root>/otel-home, passed as CLAUDE_OTEL_HOME. */
  otelHome?: (project: TempProject) => string;
  otlpEndpoint?: string;
  agent?: Record<string, unknown>;
}

export async function setupBridge(script: Script, options: BridgeOptions): Promise<Bridge> {
  const project = makeTempProject();
  const ms = await createModelServer(script);
  const receiver = await startOtlpReceiver();
  const otelHome = options.otelHome ? options.otelHome(project) : join(project.root, 'otel-home');
  const port = await freePort();
  const env = { ...process.env, CLAUDE_OTEL_HOME: otelHome, HOME: project.home };
  execFileSync('mkdir', ['-p', otelHome]);
  writeFileSync(join(otelHome, 'config.json'), JSON.stringify({ profile: 'testing', agent: { ...options.agent, port }, export: { otlpEndpoint: options.otlpEndpoint ?? receiver.url } }));
  if (!options.plugin && !options.preinstalled) {
    execFileSync(process.execPath, [CLI, 'install', '--scope', 'project', '--project-dir', project.dir, '--port', String(port), '--transport', options.transport ?? 'http'], { env, stdio: 'pipe' });
  }
  const hookDir = join(project.root, 'hook-payloads');
  const recorder = recorderSettings(hookDir);
  const bridge: Bridge = {
    project, ms, receiver, otelHome,
    run: (prompt, opts = {}) =>
      runClaude({
        cwd: project.dir, home: project.home, baseUrl: ms.url, prompt, settings: recorder, allowedTools: options.allowedTools,
        ...opts,
        extraArgs: [...(options.plugin ? ['--plugin-dir', options.plugin] : []), ...(opts.extraArgs ?? [])],
        env: { ...(options.otelHome ? {} : { CLAUDE_OTEL_HOME: otelHome }), ...(opts.env ?? {}) },
      }),
    payloads: () => readHookPayloads(hookDir),
    agentPid() {
      try {
        const pid = Number(readFileSync(join(otelHome, "agent.pid"), "utf8")) || undefined;
        return pid && isAlive(pid) ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    async stopAgent() {
      const pid = bridge.agentPid();
      if (!pid) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 15_000, 'agent exit');
    },
    async cleanup() {
      await bridge.stopAgent().catch(() => {});
      await ms.close();
      await receiver.close();
      project.cleanup();
    },
  };
  return bridge;
}

/**
 * The invariants of a correct trace (test/support/trace-invariants.ts) for every session the hooks
 * saw, plus: each tool span's duration_ms is its Post payload's. Gap marks count as problems unless
 * the test removed events (`eventsRemoved`: a killed agent, dropped payloads).
 */
export function traceProblems(spans: ReceivedSpan[], payloads: HookPayload[], issuedToolIds: string[], options: Pick<InvariantOptions, 'eventsRemoved' | 'allowLate'> = {}): string[] {
  const sessions = [...new Set(payloads.map((p) => p.session_id))];
  const problems = traceInvariants(spans, { ...options, sessions, issuedToolIds, toleranceMs: 0.01 });
  for (const s of spans.filter((x) => x.name.startsWith('execute_tool '))) {
    const id = s.attributes['gen_ai.tool.call.id'] as string;
    const post = payloads.find((p) => (p.hook_event_name === 'PostToolUse' || p.hook_event_name === 'PostToolUseFailure') && p.tool_use_id === id);
    if (post && s.attributes['claude_code.gap'] === undefined && s.attributes['claude_code.tool.duration_ms'] !== (post as { duration_ms?: number }).duration_ms) {
      problems.push(`tool ${id}: duration_ms ${String(s.attributes['claude_code.tool.duration_ms'])} != payload ${String((post as { duration_ms?: number }).duration_ms)}`);
    }
  }
  return problems;
}

export const spansOf = (spans: ReceivedSpan[], sessionId: string) => spans.filter((s) => s.traceId === sessionId.replace(/-/g, ''));
export const parentOf = (spans: ReceivedSpan[], span: ReceivedSpan | undefined) => spans.find((s) => s.spanId === span?.parentSpanId);
