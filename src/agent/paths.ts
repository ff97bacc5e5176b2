/**
 * Everything the bridge keeps lives under one directory, CLAUDE_OTEL_HOME (default ~/.claude-otel):
 * its layout, and the per-install token. Node built-ins only (the hook hot path imports it); the
 * checks that the home is ours are in src/shared/home.ts.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync } from 'node:fs';
import { HomeRefused, createFileExclusive, currentUid, readPrivateFile, secureHome, writeFileAtomic, type HomeLayout } from '../shared/home.js';

export interface HomePaths {
  home: string;
  token: string;
  pidFile: string;
  /** `<pid> <start time in clock ticks>`: who claimed the home, robust against pid reuse. */
  lockFile: string;
  agentInfo: string;
  journal: string;
  watermark: string;
  /** Written by a clean shutdown, removed at start: its absence means the last run crashed. */
  cleanStop: string;
  /** Written by an agent that failed to start (time, reason, back-off); removed once one listens. */
  startFailed: string;
  /** The last start attempt a hook made (epoch seconds): one attempt per back-off interval. */
  startAttempt: string;
  spool: string;
  spoolNew: string;
  spoolTmp: string;
  spoolRejected: string;
  store: string;
  log: string;
  configFile: string;
  /** Poison events kept for inspection (src/agent/quarantine.ts). */
  quarantine: string;
  /** The model-call component's saved state: transcript offsets, half-read responses, the ledger. */
  modelCalls: string;
  /** The web view's login secret. */
  uiToken: string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAUDE_OTEL_HOME || join(env.HOME || homedir(), '.claude-otel');
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    token: join(home, 'token'),
    pidFile: join(home, 'agent.pid'),
    lockFile: join(home, 'agent.lock'),
    agentInfo: join(home, 'agent.json'),
    journal: join(home, 'journal.jsonl'),
    watermark: join(home, 'exported-seq'),
    cleanStop: join(home, 'clean-stop'),
    startFailed: join(home, 'agent.start-failed'),
    startAttempt: join(home, 'agent.start-attempt'),
    spool: join(home, 'spool'),
    spoolNew: join(home, 'spool', 'new'),
    spoolTmp: join(home, 'spool', 'tmp'),
    spoolRejected: join(home, 'spool', 'rejected'),
    store: join(home, 'store'),
    log: join(home, 'agent.log'),
    configFile: join(home, 'config.json'),
    quarantine: join(home, 'quarantine'),
    modelCalls: join(home, 'model-calls.json'),
    uiToken: join(home, 'ui-token'),
  };
}

/**
 * What the bridge keeps in its home, the one list: secureHome checks it (our directories and every
 * file we write; config.json is the user's own) and `uninstall --purge` removes it.
 */
export function homeLayout(paths: HomePaths): HomeLayout {
  return {
    home: paths.home,
    dirs: [paths.spool, paths.spoolNew, paths.spoolTmp, paths.spoolRejected, paths.store, paths.quarantine],
    files: [paths.token, paths.pidFile, paths.lockFile, paths.agentInfo, paths.journal, paths.watermark, paths.cleanStop, paths.startFailed, paths.startAttempt, paths.log, paths.modelCalls, paths.uiToken],
  };
}

/** Creates the home and its directories (0700) or throws HomeRefused; tightens modes we own. */
export function ensureHome(paths: HomePaths, log?: (message: string) => void): { repaired: string[] } {
  return secureHome(homeLayout(paths), log ? { log } : {});
}

/** The token, read without following a link and only from a regular file of ours; undefined otherwise. */
export function readToken(paths: HomePaths): string | undefined {
  const read = readPrivateFile(paths.token, 4096);
  const token = read?.text.trim();
  return token && !/\s/.test(token) ? token : undefined;
}

/** The per-install token, created with mode 0600 on first use (exclusively: never through a planted link). */
export function ensureToken(paths: HomePaths): string {
  const existing = readToken(paths);
  if (existing) {
    const mode = lstatSync(paths.token).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(paths.token, 0o600);
    return existing;
  }
  const s = (() => {
    try {
      return lstatSync(paths.token);
    } catch {
      return undefined;
    }
  })();
  const token = randomBytes(32).toString('hex');
  if (s && s.isFile() && s.uid === currentUid()) {
    writeFileAtomic(paths.token, `${token}\n`, 0o600); // ours but empty or malformed: replaced
    return token;
  }
  if (s) throw new HomeRefused(`${paths.token} is not a token file of ours (${s.isSymbolicLink() ? 'a symbolic link' : s.uid !== currentUid() ? `owned by uid ${s.uid}` : 'not a regular file'}); remove it to have a new one created`);
  if (!createFileExclusive(paths.token, `${token}\n`, 0o600)) throw new HomeRefused(`${paths.token} appeared while creating it; start again`);
  return token;
}

/** Mode of the token file itself (lstat: a link is not a token file); undefined when absent. */
export function tokenFileMode(paths: HomePaths): number | undefined {
  try {
    return lstatSync(paths.token).mode & 0o777;
  } catch {
    return undefined;
  }
}
