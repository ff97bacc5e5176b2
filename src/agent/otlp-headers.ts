/**
 * The headers of each OTLP request: `export.otlpHeaders` from config, overlaid by what
 * `export.otlpHeadersCommand` prints (short-lived tokens, as Claude Code's own `otelHeadersHelper`):
 * a JSON object of string values on stdout, e.g. `{"Authorization": "Bearer eyJ..."}`.
 *
 * The command runs through /bin/sh with a timeout (killed past it), never more than one at a time,
 * and its output is cached for `ttlMs`; a 401/403 from the gateway (`invalidate`) makes the next
 * request run it again. It runs on the export path only (the SDK awaits this as its headers
 * factory), never on ingest. A failed run keeps the last good headers (a token that expired makes
 * the gateway answer 401, and the spans wait in the export buffer). What it prints is never logged:
 * a failure is described by its exit code, signal or the shape of the output, and the header names.
 */
import { execFile } from 'node:child_process';
import type { Log } from './component.js';

export interface HeaderSourceOptions {
  headers: Record<string, string>;
  command?: string | undefined;
  timeoutMs: number;
  ttlMs: number;
  log: Log;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export interface HeaderSourceStats {
  command: boolean;
  runs: number;
  failures: number;
  lastSuccessMs: number | null;
  /** Why the last run failed (never the output), or null when it succeeded. */
  lastError: string | null;
}

export interface HeaderSource {
  /** Never rejects (the SDK's headers factory must not throw). */
  headers(): Promise<Record<string, string>>;
  /** The gateway refused the credentials: run the command again before the next request. */
  invalidate(): void;
  stats(): HeaderSourceStats;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_OUTPUT_BYTES = 64 * 1024;

/** The command's stdout as headers, or why it is not (without quoting it). */
export function parseHeadersOutput(stdout: string): { ok: true; headers: Record<string, string> } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return { ok: false, reason: `output is not JSON (${stdout.length} characters)` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'output is not a JSON object' };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!TOKEN.test(name)) return { ok: false, reason: `a header name is not a valid HTTP token (${JSON.stringify(name.slice(0, 40))})` };
    if (typeof value !== 'string') return { ok: false, reason: `the value of ${name} is not a string` };
    if (/[\r\n\0]/.test(value)) return { ok: false, reason: `the value of ${name} holds a line break or NUL` };
    headers[name] = value;
  }
  return { ok: true, headers };
}

function run(command: string, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<{ ok: true; stdout: string } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_OUTPUT_BYTES, env, windowsHide: true }, (error, stdout) => {
      if (!error) return resolve({ ok: true, stdout });
      const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string | null };
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return resolve({ ok: false, reason: `printed more than ${MAX_OUTPUT_BYTES} bytes` });
      if (e.killed || e.signal) return resolve({ ok: false, reason: e.killed ? `timed out after ${timeoutMs} ms` : `killed by ${e.signal}` });
      resolve({ ok: false, reason: typeof e.code === 'number' ? `exited with code ${e.code}` : `could not run (${e.code ?? e.message})` });
    });
  });
}

export function createHeaderSource(options: HeaderSourceOptions): HeaderSource {
  const now = options.now ?? Date.now;
  const fixed = { ...options.headers };
  let fromCommand: Record<string, string> = {};
  let fetchedAtMs = -Infinity;
  let running: Promise<void> | undefined;
  let runs = 0;
  let failures = 0;
  let lastSuccessMs: number | null = null;
  let lastError: string | null = null;

  const refresh = async (command: string) => {
    runs++;
    const out = await run(command, options.timeoutMs, options.env ?? process.env);
    const result = out.ok ? parseHeadersOutput(out.stdout) : out;
    if (result.ok) {
      fromCommand = result.headers;
      fetchedAtMs = now();
      lastSuccessMs = fetchedAtMs;
      if (lastError) options.log(`export headers command works again (headers ${Object.keys(result.headers).join(', ') || 'none'})`);
      lastError = null;
      return;
    }
    failures++;
    if (lastError !== result.reason) options.log(`export headers command failed: ${result.reason}; keeping the last headers it printed`);
    lastError = result.reason;
    fetchedAtMs = now() - options.ttlMs + Math.min(options.ttlMs, 5_000); // try again in 5 s, not on every request
  };

  return {
    async headers() {
      const command = options.command;
      if (command && now() - fetchedAtMs >= options.ttlMs) {
        running ??= refresh(command).catch((err: unknown) => {
          failures++;
          lastError = `could not run (${(err as Error).message})`;
        }).finally(() => {
          running = undefined;
        });
        await running;
      }
      return { ...fixed, ...fromCommand };
    },
    invalidate() {
      if (options.command) fetchedAtMs = -Infinity;
    },
    stats: () => ({ command: Boolean(options.command), runs, failures, lastSuccessMs, lastError }),
  };
}
