/**
 * `claude-otel hook`: the Node command hook (the shell script bin/claude-otel-hook is the fast one).
 * Posts the event on stdin to the agent; if the agent cannot take it, spools it and starts the agent.
 * Prints nothing, exits 0, and imports only Node built-ins (a test checks this): it runs per event.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homedir } from 'node:os';
import { AGENT_NODE_FLAGS } from '../agent/node-flags.js';

const TIMEOUT_MS = 1500;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function post(url: string, token: string, body: Buffer, pid: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/v1/hooks`, {
      method: 'POST',
      timeout: TIMEOUT_MS,
      agent: false, // no keep-alive socket holding the process open after the answer
      headers: {
        connection: 'close',
        authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': body.length,
        'x-claude-otel-via': 'command', ...(pid ? { 'x-claude-pid': pid } : {}),
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

function spool(home: string, body: Buffer, pid: string | undefined) {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  const name = `${micros}-${pid ?? 0}-${process.pid}.json`;
  mkdirSync(join(home, 'spool', 'tmp'), { recursive: true, mode: 0o700 });
  mkdirSync(join(home, 'spool', 'new'), { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'spool', 'tmp', name), body, { mode: 0o600 });
  renameSync(join(home, 'spool', 'tmp', name), join(home, 'spool', 'new', name));
}

function startAgent(home: string) {
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, cli, 'agent', '--detached'], { detached: true, stdio: 'ignore', env: { ...process.env, CLAUDE_OTEL_HOME: home } });
  child.unref();
}

export async function runHookCommand(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const home = env.CLAUDE_OTEL_HOME || join(env.HOME || homedir(), '.claude-otel');
    const body = await readStdin();
    const pid = env.CLAUDE_PID;
    let info: { url?: string; pid?: number } = {};
    let token = '';
    try {
      info = JSON.parse(readFileSync(join(home, 'agent.json'), 'utf8')) as typeof info;
      token = readFileSync(join(home, 'token'), 'utf8').trim();
    } catch {
      /* agent never ran here */
    }
    if (info.url && token && (await post(info.url, token, body, pid))) return 0;
    spool(home, body, pid);
    startAgent(home);
  } catch {
    /* never harm the session */
  }
  return 0;
}
