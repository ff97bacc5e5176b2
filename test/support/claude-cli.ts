// Runs the real Claude Code CLI (`-p` mode) against a local model server, with a temporary HOME.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The native binary shipped by the `@anthropic-ai/claude-code` devDependency. */
export function claudeBinaryPath(): string {
  const override = process.env.CLAUDE_BIN;
  if (override) return override;
  const p = join(repoRoot, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude');
  if (!existsSync(p)) throw new Error(`Claude Code binary not found at ${p} (npm ci?)`);
  return p;
}

export interface TempProject {
  root: string;
  /** Used as HOME for the CLI (holds ~/.claude). */
  home: string;
  /** The project directory (the CLI's cwd). */
  dir: string;
  /** Writes a file under root and returns its path. */
  file(name: string, content: string): string;
  cleanup(): void;
}

export function makeTempProject(prefix = 'cc-e2e-'): TempProject {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const home = join(root, 'home');
  const dir = join(root, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(dir, { recursive: true });
  return {
    root,
    home,
    dir,
    file(name, content) {
      const p = join(root, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
      return p;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface RunClaudeOptions {
  cwd: string;
  home: string;
  prompt: string;
  /** ANTHROPIC_BASE_URL, e.g. the model server's url. */
  baseUrl: string;
  /** Settings object (written to a temp file) or the path of a settings file. */
  settings?: Record<string, unknown> | string;
  allowedTools?: string[];
  extraArgs?: string[];
  /** Added to (and overriding) the environment. A value of `undefined` removes the variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Defaults to `json`. */
  outputFormat?: 'json' | 'stream-json' | 'text';
  /** Written to the CLI's stdin, then closed (e.g. `--input-format stream-json` user messages);
   *  without it stdin is /dev/null. */
  input?: string;
  /** Keep stdin open as a pipe for `onSpawn` to write to and end (ignored when `input` is set). */
  openStdin?: boolean;
  /** Called with the spawned process (e.g. to signal it while a tool runs). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface ClaudeResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed `--output-format json` result (has `session_id`, `is_error`, `result`), if parseable. */
  json: ClaudeJsonResult | undefined;
  durationMs: number;
  timedOut: boolean;
}

export interface ClaudeJsonResult {
  type: string;
  subtype?: string;
  is_error?: boolean;
  result?: string;
  session_id: string;
  num_turns?: number;
  [k: string]: unknown;
}

/** Environment variables of the parent that must not leak into the CLI. */
const SCRUB = /^(ANTHROPIC_|CLAUDE_|CLAUDECODE|OTEL_|AWS_|GOOGLE_|VERTEX_)/;

export function claudeEnv(home: string, baseUrl: string, extra: RunClaudeOptions['env'] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SCRUB.test(k)) env[k] = v;
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: 'dummy',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    NO_PROXY: '127.0.0.1,localhost',
    // Keep 529 retries cheap; override per test.
    CLAUDE_CODE_MAX_RETRIES: '0',
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function claudeArgs(opts: RunClaudeOptions, settingsPath: string | undefined): string[] {
  const args = ['-p', opts.prompt, '--output-format', opts.outputFormat ?? 'json'];
  if ((opts.outputFormat ?? 'json') === 'stream-json') args.push('--verbose');
  if (settingsPath) args.push('--settings', settingsPath);
  if (opts.allowedTools?.length) args.push('--allowedTools', opts.allowedTools.join(','));
  args.push(...(opts.extraArgs ?? []));
  return args;
}

export async function runClaude(opts: RunClaudeOptions): Promise<ClaudeResult> {
  let settingsPath: string | undefined;
  if (typeof opts.settings === 'string') settingsPath = opts.settings;
  else if (opts.settings) {
    settingsPath = join(opts.home, `settings-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(settingsPath, JSON.stringify(opts.settings, null, 2));
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started = Date.now();
  const child = spawn(claudeBinaryPath(), claudeArgs(opts, settingsPath), {
    cwd: opts.cwd,
    env: claudeEnv(opts.home, opts.baseUrl, opts.env),
    stdio: [opts.input === undefined && !opts.openStdin ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, sig) => res([code, sig]));
  }).finally(() => clearTimeout(timer));
  let json: ClaudeJsonResult | undefined;
  if ((opts.outputFormat ?? 'json') === 'json') {
    try {
      json = JSON.parse(stdout.trim()) as ClaudeJsonResult;
    } catch {
      json = undefined;
    }
  }
  return { exitCode, signal, stdout, stderr, json, durationMs: Date.now() - started, timedOut };
}
