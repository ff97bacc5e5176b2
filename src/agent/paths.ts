/** Everything the bridge keeps lives under one directory, CLAUDE_OTEL_HOME (default ~/.claude-otel). */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface HomePaths {
  home: string;
  token: string;
  pidFile: string;
  agentInfo: string;
  journal: string;
  watermark: string;
  /** Written by a clean shutdown, removed at start: its absence means the last run crashed. */
  cleanStop: string;
  spoolNew: string;
  spoolTmp: string;
  spoolRejected: string;
  store: string;
  log: string;
  configFile: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAUDE_OTEL_HOME || join(env.HOME || homedir(), '.claude-otel');
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    token: join(home, 'token'),
    pidFile: join(home, 'agent.pid'),
    agentInfo: join(home, 'agent.json'),
    journal: join(home, 'journal.jsonl'),
    watermark: join(home, 'exported-seq'),
    cleanStop: join(home, 'clean-stop'),
    spoolNew: join(home, 'spool', 'new'),
    spoolTmp: join(home, 'spool', 'tmp'),
    spoolRejected: join(home, 'spool', 'rejected'),
    store: join(home, 'store'),
    log: join(home, 'agent.log'),
    configFile: join(home, 'config.json'),
  };
}

export function ensureHome(paths: HomePaths) {
  for (const dir of [paths.home, paths.spoolNew, paths.spoolTmp, paths.spoolRejected, paths.store]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
}

/** The per-install token, created with mode 0600 on first use. */
export function ensureToken(paths: HomePaths): string {
  try {
    const token = readFileSync(paths.token, 'utf8').trim();
    if (token) return token;
  } catch {
    /* created below */
  }
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString('hex');
  writeFileSync(paths.token, `${token}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(paths.token, 0o600);
  return token;
}

export function tokenFileMode(paths: HomePaths): number | undefined {
  try {
    return statSync(paths.token).mode & 0o777;
  } catch {
    return undefined;
  }
}
