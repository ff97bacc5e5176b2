/** Talking to a running agent: where it listens (agent.json) and its token, both under CLAUDE_OTEL_HOME. */
import { readFileSync } from 'node:fs';
import { homePaths, resolveHome } from '../agent/paths.js';

export interface AgentInfo {
  pid: number;
  url: string;
  port: number;
  startedAt: string;
  version: string;
}

export function readAgentInfo(env: Record<string, string | undefined>): { info?: AgentInfo; token?: string; home: string } {
  const home = resolveHome(env as NodeJS.ProcessEnv);
  const paths = homePaths(home);
  const result: { info?: AgentInfo; token?: string; home: string } = { home };
  try {
    result.info = JSON.parse(readFileSync(paths.agentInfo, 'utf8')) as AgentInfo;
  } catch {
    /* not running */
  }
  try {
    result.token = readFileSync(paths.token, 'utf8').trim();
  } catch {
    /* no token yet */
  }
  return result;
}

export async function fetchAgentJson(url: string, path: string, token?: string, timeoutMs = 2000): Promise<unknown> {
  const res = await fetch(`${url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}
