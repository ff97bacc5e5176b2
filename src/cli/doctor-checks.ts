/** The checks behind `claude-otel doctor`: each returns a verdict and, when it fails, the fix. */
import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { ConfigError, loadConfig, otlpSignalUrl, type LoadedConfig } from '../config/load.js';
import { homePaths, readToken, tokenFileMode } from '../agent/paths.js';
import { createRejectedBound, REJECTED_MAX_BYTES, REJECTED_MAX_ENTRIES } from '../agent/rejected-bound.js';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import type { ExportBufferStats } from '../agent/export-buffer.js';
import { createHeaderSource } from '../agent/otlp-headers.js';
import { readTlsMaterial } from '../agent/otlp-options.js';
import type { HeaderSourceStats } from '../agent/otlp-headers.js';
import { readScopeSettings } from './doctor-install.js';

export type Verdict = 'pass' | 'warn' | 'fail';
export interface CheckResult {
  name: string;
  verdict: Verdict;
  detail: string;
  fix?: string;
}

export interface DoctorContext {
  env: Record<string, string | undefined>;
  projectDir: string;
  userHome: string;
  claudeBinary?: string;
  /** The agent's configured port: an http hook to it is ours even without our token variable (isOurHook, as install and uninstall judge). */
  agentPort?: number;
}

export function checkConfig(ctx: DoctorContext): { result: CheckResult; loaded?: LoadedConfig } {
  try {
    const loaded = loadConfig({ env: ctx.env, home: ctx.userHome });
    return { loaded, result: { name: 'config', verdict: 'pass', detail: `valid (profile ${loaded.config.profile}: ${loaded.profileReason})` } };
  } catch (err) {
    if (err instanceof ConfigError) {
      return { result: { name: 'config', verdict: 'fail', detail: err.issues.map((i) => `${i.path}: ${i.problem}`).join('; '), fix: err.issues.map((i) => i.fix).join('; ') } };
    }
    // An unreadable config file (a directory, no permission, ...) is a failed check, not a crash of doctor.
    const file = ctx.env.CLAUDE_OTEL_CONFIG || 'config.json in CLAUDE_OTEL_HOME';
    return { result: { name: 'config', verdict: 'fail', detail: `cannot read the config file (${(err as Error).message})`, fix: `make ${file} a readable JSON file, or remove it` } };
  }
}

/** Our hooks in a settings file, and our plugin (`claude-otel@<marketplace>`) where it is enabled. */
export function checkHooks(ctx: DoctorContext): CheckResult {
  const scopes = readScopeSettings(ctx);
  const found = scopes.filter((s) => s.hasOurHooks).map((s) => s.scope);
  const plugins = scopes.flatMap((s) => (s.plugin ? [`plugin ${s.plugin} (scope ${s.scope})`] : []));
  if (plugins.length === 0 && ctx.env.CLAUDE_PLUGIN_ROOT) plugins.push(`plugin at ${ctx.env.CLAUDE_PLUGIN_ROOT}`);
  const where = [...(found.length ? [`in scope ${found.join(', ')}`] : []), ...plugins];
  return where.length
    ? { name: 'hooks', verdict: 'pass', detail: `installed ${where.join('; ')}` }
    : { name: 'hooks', verdict: 'fail', detail: 'no claude-otel hooks in user, project or local settings, and no claude-otel plugin enabled', fix: 'run `claude-otel install --scope user` (or --scope project), or `claude plugin install claude-otel@claude-otel-bridge`' };
}

export function checkClaudeVersion(ctx: DoctorContext): Promise<CheckResult> {
  return new Promise((resolve) => {
    execFile(ctx.claudeBinary ?? 'claude', ['--version'], { timeout: 10_000, env: { ...process.env, ...ctx.env } as NodeJS.ProcessEnv }, (err, stdout) => {
      if (err) resolve({ name: 'claude code', verdict: 'warn', detail: 'the `claude` command was not found on PATH', fix: 'install Claude Code (npm i -g @anthropic-ai/claude-code) or ignore if it runs elsewhere' });
      else resolve({ name: 'claude code', verdict: 'pass', detail: stdout.trim() });
    });
  });
}

export function checkToken(home: string): CheckResult {
  const paths = homePaths(home);
  const mode = tokenFileMode(paths);
  let link = false;
  try {
    link = lstatSync(paths.token).isSymbolicLink();
  } catch {
    /* absent */
  }
  if (link) return { name: 'token', verdict: 'fail', detail: `${paths.token} is a symbolic link: the token could be written to or read from someone else's file`, fix: `rm ${paths.token} (a new token is created; then run \`claude-otel install\` again)` };
  if (mode !== undefined && readToken(paths) === undefined) return { name: 'token', verdict: 'fail', detail: `${paths.token} is not a valid token file of ours (owner, type or content)`, fix: `rm ${paths.token} (a new token is created; then run \`claude-otel install\` again)` };
  if (mode === undefined) return { name: 'token', verdict: 'warn', detail: `no token at ${paths.token} yet`, fix: 'start the agent or run `claude-otel install` (both create it)' };
  if ((mode & 0o077) !== 0) return { name: 'token', verdict: 'fail', detail: `${paths.token} has mode ${mode.toString(8)}: other users can read it`, fix: `chmod 600 ${paths.token}` };
  return { name: 'token', verdict: 'pass', detail: `${paths.token} (mode 600)` };
}

export interface AgentStatus {
  spoolBacklog: number;
  exportPending: number;
  exportFailuresLastHour: number;
  otlp: string | null;
  /** Absent from agents older than the export buffer. */
  exportBuffer?: Pick<ExportBufferStats, 'spans' | 'bytes' | 'maxBytes' | 'dropped' | 'lastError'>;
  exportHeaders?: Pick<HeaderSourceStats, 'command' | 'lastError'>;
}

export async function checkEndpoint(loaded: LoadedConfig | undefined, env: Record<string, string | undefined>): Promise<CheckResult> {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  const url = (loaded && otlpSignalUrl(loaded.config, 'traces')) ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base}/v1/traces` : undefined);
  if (!url) return { name: 'otlp endpoint', verdict: 'pass', detail: 'none configured: spans stay in the local store (claude-otel sessions / trace)' };
  try {
    const e = loaded?.config.export;
    // The same credentials and TLS the agent uses: the headers command runs, the CA and client certificate are read.
    const fromSource = e ? await createHeaderSource({ headers: e.otlpHeaders, command: e.otlpHeadersCommand, timeoutMs: e.otlpHeadersCommandTimeoutMs, ttlMs: 1, log: () => {} }).headers() : {};
    const headers = { 'content-type': 'application/json', ...fromSource };
    const tls = e ? readTlsMaterial(e.tls) : {};
    const dispatcher = url.startsWith('https:') && Object.keys(tls).length ? new UndiciAgent({ connect: tls }) : undefined;
    const res = await undiciFetch(url, { method: 'POST', headers, body: '{"resourceSpans":[]}', signal: AbortSignal.timeout(3000), ...(dispatcher ? { dispatcher } : {}) });
    await dispatcher?.close();
    if (res.status >= 500) return { name: 'otlp endpoint', verdict: 'fail', detail: `${url} answered ${res.status}`, fix: 'check the collector logs' };
    if (res.status === 401 || res.status === 403) {
      return { name: 'otlp endpoint', verdict: 'fail', detail: `${url} refused our credentials (${res.status})`, fix: 'set export.otlpHeaders (or OTEL_EXPORTER_OTLP_HEADERS), or fix export.otlpHeadersCommand, to what the endpoint expects' };
    }
    return { name: 'otlp endpoint', verdict: 'pass', detail: `${url} answered ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return { name: 'otlp endpoint', verdict: 'fail', detail: `${url} is unreachable (${why})`, fix: 'start the collector (npm run stack:up) or fix export.otlpEndpoint / OTEL_EXPORTER_OTLP_ENDPOINT' };
  }
}

export function checkBacklog(home: string, status: AgentStatus | undefined): CheckResult {
  const paths = homePaths(home);
  const count = (dir: string) => {
    try {
      return readdirSync(dir).length;
    } catch {
      return 0;
    }
  };
  const spooled = count(paths.spoolNew);
  const { entries: rejected, bytes: rejectedBytes } = createRejectedBound({ dir: paths.spoolRejected }).stats(); // one scan, read only
  let journal = 0;
  try {
    journal = statSync(paths.journal).size;
  } catch {
    /* none yet */
  }
  const pending = status?.exportPending ?? 0;
  const detail = `spool ${spooled} waiting, ${rejected} rejected; journal ${Math.round(journal / 1024)} KiB; ${pending} spans awaiting export`;
  if (spooled > 0 && !status) return { name: 'backlog', verdict: 'fail', detail, fix: 'start the agent: `claude-otel agent` ingests the spool' };
  if (rejected > 0) {
    const bound = `kept up to ${REJECTED_MAX_ENTRIES} entries / ${REJECTED_MAX_BYTES / 1024 / 1024} MiB, the oldest removed first (claude_otel_spool_rejected_evicted_total)`;
    return { name: 'backlog', verdict: 'warn', detail: `${detail}; rejected: ${Math.round(rejectedBytes / 1024)} KiB, ${bound}`, fix: `inspect ${paths.spoolRejected} (events that could not be parsed; the quarantine says why)` };
  }
  return { name: 'backlog', verdict: 'pass', detail };
}

export function checkExportFailures(status: AgentStatus | undefined): CheckResult {
  if (!status) return { name: 'export failures', verdict: 'warn', detail: 'unknown (agent not running)' };
  const n = status.exportFailuresLastHour;
  const b = status.exportBuffer;
  const dropped = b ? b.dropped.buffer_full + b.dropped.refused : 0;
  const held = b && b.spans > 0 ? `; ${b.spans} spans held for retry (${Math.round(b.bytes / 1024)} of ${Math.round(b.maxBytes / 1024)} KiB)` : '';
  const last = b?.lastError ? `; last error: ${b.lastError}` : '';
  const headers = status.exportHeaders?.lastError ? `; headers command: ${status.exportHeaders.lastError}` : '';
  if (dropped > 0) {
    return {
      name: 'export failures', verdict: 'fail',
      detail: `${dropped} spans dropped since the agent started (${b!.dropped.buffer_full} oldest past export.bufferMaxBytes, ${b!.dropped.refused} refused by the endpoint)${held}${last}${headers}`,
      fix: 'bring the OTLP endpoint back (see above); raise export.bufferMaxBytes to ride out longer outages',
    };
  }
  return n > 0
    ? { name: 'export failures', verdict: 'fail', detail: `${n} span exports failed in the last hour (kept and retried; nothing dropped)${held}${last}${headers}`, fix: 'check that the OTLP endpoint is up and accepts our credentials (see above)' }
    : { name: 'export failures', verdict: 'pass', detail: `none in the last hour${held}` };
}
