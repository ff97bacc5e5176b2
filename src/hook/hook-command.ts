/**
 * `claude-otel hook`: the Node command hook (the shell script bin/claude-otel-hook is the fast one).
 * Posts the event on stdin to the agent once the agent has proved it holds the token (identity.ts:
 * a stranger on the port gets neither the token nor the payload); if the agent cannot take it,
 * spools it and starts the agent, at most once per back-off interval while starts keep failing
 * (start-marker.ts), never waiting for it. A home that is not ours (a link, another owner) gets
 * nothing. Prints nothing, exits 0, and imports only Node built-ins (a test checks this): it runs
 * per event.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { closeSync, constants, lstatSync, mkdirSync, openSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../shared/package-root.js';
import { AGENT_NODE_FLAGS } from '../agent/node-flags.js';
import { homePaths, readToken, resolveHome, type HomePaths } from '../agent/paths.js';
import { runningAgentPid } from '../agent/agent-pid.js';
import { loopbackUrl, verifyAgentIdentity } from '../agent/identity.js';
import { startDecision } from '../agent/start-marker.js';
import { createFileExclusive, currentUid, readPrivateFile } from '../shared/home.js';

const TIMEOUT_MS = 1500;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** TRACEPARENT (Claude Code's interaction span, when its tracing is on), only in its W3C shape: it
 *  goes into a header and a file name. The agent checks it again (src/events/traceparent.ts). */
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const traceparentOf = (env: NodeJS.ProcessEnv) => (env.TRACEPARENT && TRACEPARENT.test(env.TRACEPARENT) ? env.TRACEPARENT : undefined);

function post(url: URL, token: string, body: Buffer, pid: string | undefined, traceparent: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(new URL('/v1/hooks', url), {
      method: 'POST',
      timeout: TIMEOUT_MS,
      agent: false, // no keep-alive socket holding the process open after the answer
      headers: {
        connection: 'close',
        authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length,
        'x-claude-otel-via': 'command', ...(pid ? { 'x-claude-pid': pid } : {}), ...(traceparent ? { traceparent } : {}),
      },
    }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

/** A directory of ours, not a link: created (0700) when absent. False when it is someone else's. */
function ownDir(dir: string): boolean {
  try {
    const s = lstatSync(dir);
    return s.isDirectory() && !s.isSymbolicLink() && s.uid === currentUid();
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return ownDir(dir);
  }
}

function spool(paths: HomePaths, body: Buffer, pid: string | undefined, traceparent: string | undefined): void {
  if (!ownDir(paths.spool) || !ownDir(paths.spoolTmp) || !ownDir(paths.spoolNew)) return;
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  const name = `${micros}-${pid ?? 0}-${process.pid}${traceparent ? `-${traceparent}` : ''}.json`;
  const tmp = join(paths.spoolTmp, name);
  if (!createFileExclusive(tmp, body, 0o600)) return;
  renameSync(tmp, join(paths.spoolNew, name));
}

/** The agent, detached, in the hook's environment (`env`: the one runHookCommand was given). */
function startAgent(paths: HomePaths, env: NodeJS.ProcessEnv) {
  const cli = packagePath('dist', 'cli.js');
  // Its stderr goes to agent.log (never through a link), as with bin/claude-otel-hook: doctor shows it.
  let log: number | 'ignore' = 'ignore';
  try {
    log = openSync(paths.log, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch {
    /* no log then */
  }
  const child = spawn(env.CLAUDE_OTEL_NODE || process.execPath, [...AGENT_NODE_FLAGS, cli, 'agent', '--detached'], { detached: true, stdio: ['ignore', log, log], env: { ...env, CLAUDE_OTEL_HOME: paths.home } });
  child.unref();
  if (typeof log === 'number') closeSync(log);
}

export async function runHookCommand(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const paths = homePaths(resolveHome(env));
    const body = await readStdin();
    if (!ownDir(paths.home)) return 0; // not our home: nothing goes there
    const pid = env.CLAUDE_PID;
    const traceparent = traceparentOf(env);
    const agentPid = runningAgentPid(paths);
    if (agentPid !== undefined) {
      const info = JSON.parse(readPrivateFile(paths.agentInfo, 64 * 1024)?.text ?? '{}') as { url?: string; pid?: number };
      const url = info.pid === agentPid ? loopbackUrl(info.url) : undefined;
      const token = url && readToken(paths);
      if (url && token && (await verifyAgentIdentity(url, token)) && (await post(url, token, body, pid, traceparent))) return 0;
    }
    spool(paths, body, pid, traceparent);
    if (agentPid === undefined && startDecision(paths) !== 'skip') startAgent(paths, env);
  } catch {
    /* never harm the session */
  }
  return 0;
}
