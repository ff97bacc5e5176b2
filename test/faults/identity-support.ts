/**
 * Real processes for the identity and home fault tests: temp homes, the two command hooks, the agent
 * as a child process (`node dist/cli.js agent`), a listener running as another uid (setpriv, uid
 * 65534) that records what reaches it, and raw HTTP requests with any Host header.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/agent-harness.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const BASH_HOOK = join(ROOT, 'bin', 'claude-otel-hook');
export const HOOKS = { bash: [BASH_HOOK], node: [process.execPath, CLI, 'hook'] } as const;
export const OTHER_UID = 65534;

/** The environment the hooks and the agent get: ours, minus any CLAUDE_/OTEL_ settings of the machine. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CLAUDE_|OTEL_|NODE_ENV$|VITEST)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export function tempRoot(prefix: string): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A home with a config naming the port (profile testing), as `claude-otel install` users have. */
export function writeConfig(home: string, port: number, extra: Record<string, unknown> = {}) {
  writeFileSync(join(home, 'config.json'), JSON.stringify({ profile: 'testing', agent: { port }, ...extra }));
}

export interface HookRun {
  code: number | null;
  output: string;
}

export function runHook(kind: keyof typeof HOOKS, input: string | Buffer, env: NodeJS.ProcessEnv, stdin?: (child: ChildProcess) => void): Promise<HookRun> {
  return new Promise((resolve) => {
    const [cmd, ...args] = HOOKS[kind];
    const child = spawn(cmd!, args, { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
    child.stdin!.on('error', () => {});
    if (stdin) stdin(child);
    else child.stdin!.end(input);
  });
}

export interface AgentProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
}

export function spawnAgent(env: NodeJS.ProcessEnv): AgentProcess {
  const child = spawn(process.execPath, [CLI, 'agent'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stderr: () => stderr };
}

/** Starts the agent and waits until it listens (its agent.json names its pid). */
export async function startAgentProcess(home: string, env: NodeJS.ProcessEnv): Promise<AgentProcess & { url: string; stop(): Promise<void> }> {
  const agent = spawnAgent(env);
  const info = await waitFor(() => {
    if (agent.child.exitCode !== null) throw new Error(`agent exited ${agent.child.exitCode}: ${agent.stderr()}`);
    try {
      const i = JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as { pid: number; url: string };
      return i.pid === agent.child.pid && i;
    } catch {
      return false;
    }
  }, 20_000, 'the agent to listen');
  return {
    ...agent,
    url: info.url,
    async stop() {
      if (agent.child.exitCode === null && agent.child.signalCode === null) {
        agent.child.kill('SIGTERM');
        await agent.exited;
      }
    },
  };
}

export interface Squatter {
  /** Everything that reached the listener: request lines, headers, bodies. */
  received(): string;
  stop(): Promise<void>;
}

/** A listener on 127.0.0.1:port owned by uid 65534 (another local user), answering `{}` to everything. */
export async function startSquatter(port: number): Promise<Squatter> {
  if (spawnSync('setpriv', ['--version']).status !== 0) throw new Error('setpriv (util-linux) is needed for this test');
  const script = `require('http').createServer((q,s)=>{let b='';q.on('data',d=>b+=d);q.on('end',()=>{process.stdout.write(q.method+' '+q.url+'\\n'+JSON.stringify(q.headers)+'\\n'+b+'\\n');s.end('{}')})}).listen(${port},'127.0.0.1',()=>process.stdout.write('LISTENING\\n'))`;
  const child = spawn('setpriv', [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`squatter exited: ${err}`);
    return out.includes('LISTENING');
  }, 10_000, 'the squatter to listen');
  return {
    received: () => out.replace('LISTENING\n', ''),
    stop: () => new Promise<void>((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGKILL');
    }),
  };
}

/** A raw HTTP request (fetch cannot set Host). */
export function rawRequest(port: number, options: { method?: string; path: string; host?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, agent: false, headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export const SECRET = 'AKIAIOSFODNN7EXAMPLE-wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const postToolUse = (sid: string) => JSON.stringify({
  session_id: sid, transcript_path: '/dev/null', cwd: '/tmp', hook_event_name: 'PostToolUse', tool_name: 'Bash', tool_use_id: 'toolu_1',
  tool_input: { command: `export AWS_SECRET_ACCESS_KEY=${SECRET}` }, tool_response: { stdout: SECRET, stderr: '', interrupted: false },
});
