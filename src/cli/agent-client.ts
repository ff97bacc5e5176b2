/**
 * Talking to a running agent: where it listens (agent.json) and its token, both under
 * CLAUDE_OTEL_HOME, read without following links. The token is only ever sent to an agent that
 * first proved it holds it (GET /v1/identity, see src/agent/identity.ts): whoever else holds the
 * port gets nothing.
 */
import { homePaths, readToken, resolveHome } from '../agent/paths.js';
import { loopbackUrl, probeAgentIdentity } from '../agent/identity.js';
import { readPrivateFile } from '../shared/home.js';

export interface AgentInfo {
  pid: number;
  url: string;
  port: number;
  startedAt: string;
  version: string;
}

export class NotOurAgent extends Error {}

export function readAgentInfo(env: Record<string, string | undefined>): { info?: AgentInfo; token?: string; home: string } {
  const home = resolveHome(env as NodeJS.ProcessEnv);
  const paths = homePaths(home);
  const result: { info?: AgentInfo; token?: string; home: string } = { home };
  try {
    const text = readPrivateFile(paths.agentInfo, 64 * 1024)?.text;
    if (text) result.info = JSON.parse(text) as AgentInfo;
  } catch {
    /* not running */
  }
  const token = readToken(paths);
  if (token) result.token = token;
  return result;
}

/** GET `path` from the agent; with a token, only after the agent proved it holds it (else NotOurAgent). */
export async function fetchAgentJson(url: string, path: string, token?: string, timeoutMs = 2000): Promise<unknown> {
  if (token) {
    const target = loopbackUrl(url);
    if (!target) throw new NotOurAgent(`${url} is not a loopback http address; the token was not sent`);
    const identity = await probeAgentIdentity(target, token, timeoutMs);
    if (identity === 'stranger') throw new NotOurAgent(`whatever answers at ${url} cannot prove it holds our token (it is not our agent); the token was not sent`);
    if (identity === 'unreachable') throw new Error(`nothing answers at ${url}`);
  }
  const res = await fetch(`${url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}
