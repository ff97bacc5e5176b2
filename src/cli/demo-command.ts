/**
 * `claude-otel demo [--file F] [--keep]`: the main job on the embedded default, no collector needed.
 * Replays a real recorded Claude Code session (examples/recorded-session.jsonl) through the real
 * hook path — bin/claude-otel-hook, which spools each event and starts the agent on demand — into a
 * fresh CLAUDE_OTEL_HOME, waits for the agent to store the trace, prints the waterfall, stops the agent.
 * With `--ui` it then serves the web view over that store (src/ui/server.ts, local source) and
 * prints the replayed session's page URL, until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { listSessions } from '../store/session-reader.js';
import { runTraceCommand } from '../view/commands.js';
import { ensureUiSecret } from '../ui/auth.js';
import { homePaths } from '../agent/paths.js';
import { createLocalSource } from '../ui/local-source.js';
import { startUiServer } from '../ui/server.js';
import type { CommandIo } from './io.js';
import { packageRoot } from '../shared/package-root.js';
import { freePort } from '../shared/free-port.js';

function runHook(script: string, event: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(script, [], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('close', () => resolve());
    child.on('error', () => resolve());
    child.stdin.end(event);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runDemoCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { file: { type: 'string' }, keep: { type: 'boolean' }, width: { type: 'string' }, ui: { type: 'boolean' } } });
  const file = values.file ?? join(packageRoot(), 'examples', 'recorded-session.jsonl');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { offsetMs: number; event: Record<string, unknown> });
  const home = mkdtempSync(join(tmpdir(), 'claude-otel-demo-'));
  const paths = homePaths(home);
  const port = await freePort();
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(paths.configFile, JSON.stringify({ profile: 'testing', agent: { port, idleExitSeconds: 60 } }, null, 2));
  const sessionId = randomUUID();
  const env = { ...process.env, CLAUDE_OTEL_HOME: home, CLAUDE_PID: String(process.pid) } as NodeJS.ProcessEnv;
  delete env.CLAUDE_OTEL_PROFILE;
  delete env.CLAUDE_OTEL_PORT;
  const script = join(packageRoot(), 'bin', 'claude-otel-hook');
  io.stderr(`Replaying ${lines.length} hook events of a recorded Claude Code session through ${script}\n(CLAUDE_OTEL_HOME=${home}; the first event starts the agent on port ${port})\n`);
  const started = Date.now();
  for (const line of lines) {
    const wait = started + line.offsetMs - Date.now();
    if (wait > 0) await sleep(wait);
    await runHook(script, JSON.stringify({ ...line.event, session_id: sessionId }), env);
  }
  const store = paths.store;
  const deadline = Date.now() + 20_000;
  let done = false;
  while (!done && Date.now() < deadline) {
    const sessions = await listSessions(store).catch(() => []);
    done = sessions.some((s) => s.sessionId === sessionId && !s.open);
    if (!done) await sleep(100);
  }
  let code = 1;
  if (done) {
    io.stdout('\n');
    code = await runTraceCommand([sessionId, '--dir', store, ...(values.width ? ['--width', values.width] : [])], io);
    io.stdout(values.keep
      ? `\nKept ${home}. The same trace as JSON: claude-otel trace ${sessionId} --dir ${store} --json\n`
      : '\nRun with --keep to keep the agent\'s home (journal, store) for a look around.\n');
  } else {
    io.stderr(`The agent did not store the session within 20 s; see ${paths.log}\n`);
  }
  try {
    const pid = Number(readFileSync(paths.pidFile, 'utf8'));
    if (pid) process.kill(pid, 'SIGTERM');
    await sleep(300);
  } catch {
    /* already gone */
  }
  if (code === 0 && values.ui) await serveUi(paths.uiToken, store, sessionId, io);
  if (!values.keep && code === 0) rmSync(home, { recursive: true, force: true });
  return code;
}

/** The web view over the demo's store, the replayed session's page printed; until SIGINT/SIGTERM. */
async function serveUi(uiToken: string, store: string, sessionId: string, io: CommandIo): Promise<void> {
  const server = await startUiServer({
    source: createLocalSource({ storeDir: store, live: async () => ({ agent: { running: false }, sessions: [] }) }),
    assetsDir: join(packageRoot(), 'dist', 'ui'),
    secret: ensureUiSecret(uiToken),
  });
  // The fragment survives the login redirect (the browser keeps it), so this opens the session.
  io.stdout(`\nThe replayed session in the web view (Ctrl-C to stop):\n    ${server.loginUrl}#/s/${sessionId}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
}
