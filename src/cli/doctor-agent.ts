/**
 * The doctor checks about the home and the agent process: is the home ours (lstat: owner, links,
 * modes), is the agent up and is it ours (it must prove it holds the token before we send it), and
 * if it cannot start, why: the failed-start marker, the tail of agent.log, and who holds the port
 * (/proc/net/tcp: a listener of another uid gets the http hooks' token and payloads).
 */
import { homeLayout, homePaths } from '../agent/paths.js';
import { readStartFailure } from '../agent/start-marker.js';
import { describeHolder, holderOf } from '../agent/port-owner.js';
import { currentUid, inspectHome, readPrivateFile } from '../shared/home.js';
import { NotOurAgent, fetchAgentJson, readAgentInfo } from './agent-client.js';
import type { AgentStatus, CheckResult, DoctorContext } from './doctor-checks.js';

export function checkHome(home: string): CheckResult {
  const problems = inspectHome(homeLayout(homePaths(home)));
  const refused = problems.filter((p) => !p.repairable);
  if (refused.length) {
    return {
      name: 'home', verdict: 'fail', detail: refused.map((p) => p.problem).join('; '),
      fix: `the agent and hooks refuse this home: remove what is not yours, or set CLAUDE_OTEL_HOME to a directory you own (not a link, parent not world-writable without the sticky bit)`,
    };
  }
  if (problems.length) {
    return { name: 'home', verdict: 'warn', detail: problems.map((p) => p.problem).join('; '), fix: `chmod go-rwx ${problems.map((p) => p.path).join(' ')} (the agent also does this when it starts)` };
  }
  return { name: 'home', verdict: 'pass', detail: `${home}: ours, private` };
}

/** The last lines of agent.log (the agent's stderr when a hook starts it), for a failure's detail. */
function logTail(home: string, lines = 3): string {
  const text = readPrivateFile(homePaths(home).log, 8 * 1024 * 1024)?.text ?? '';
  return text.trimEnd().split('\n').slice(-lines).join(' | ').slice(-600);
}

const durable = 'or run `claude-otel install --transport durable` (command hooks only: nothing is sent over TCP)';

/** Not running: say why, from the failed-start marker, agent.log and the port's holder. */
function whyNotRunning(home: string, port: number | undefined, host: string): CheckResult {
  const failure = readStartFailure(homePaths(home));
  const holder = port !== undefined ? holderOf(host, port) : undefined;
  const foreign = holder !== undefined && holder.uid !== currentUid();
  if (foreign) {
    return {
      name: 'agent', verdict: 'fail',
      detail: `not running: port ${host}:${port} is held by another user (${describeHolder(holder)}); Claude Code's http hooks would send it the token and tool payloads`,
      fix: `stop that process, or set agent.port to a free port and reinstall, ${durable}`,
    };
  }
  if (failure) {
    const tail = logTail(home);
    const when = new Date(failure.failedAtSec * 1000).toISOString();
    const who = failure.holderUid !== undefined ? ` (port held by uid ${failure.holderUid})` : '';
    return {
      name: 'agent', verdict: 'fail',
      detail: `cannot start (${failure.code}${who}): ${failure.reason}; ${failure.failures} failed start(s), last at ${when}, next attempt after ${new Date(failure.retryAtSec * 1000).toISOString()}${tail ? `; agent.log: ${tail}` : ''}`,
      fix: failure.code === 'EADDRINUSE' ? `free the port or change agent.port, ${durable}` : 'fix the cause above, then run `claude-otel agent` (events are spooled meanwhile)',
    };
  }
  return { name: 'agent', verdict: 'fail', detail: 'not running', fix: 'it starts with the next Claude Code session; or run `claude-otel agent`' };
}

export async function checkAgent(ctx: DoctorContext, where: { port?: number | undefined; host?: string | undefined } = {}): Promise<{ result: CheckResult; status?: AgentStatus }> {
  const { info, token, home } = readAgentInfo(ctx.env);
  const host = where.host ?? '127.0.0.1';
  if (!info) return { result: whyNotRunning(home, where.port, host) };
  try {
    const status = (await fetchAgentJson(info.url, '/v1/status', token)) as AgentStatus;
    return { status, result: { name: 'agent', verdict: 'pass', detail: `pid ${info.pid} at ${info.url}, version ${info.version}` } };
  } catch (err) {
    if (err instanceof NotOurAgent) {
      const holder = holderOf(host, info.port);
      return {
        result: {
          name: 'agent', verdict: 'fail', detail: `${err.message}${holder ? `; the port is held by ${describeHolder(holder)}` : ''}`,
          fix: `stop that process, then run \`claude-otel agent\`; ${durable}`,
        },
      };
    }
    if (/answered 401/.test((err as Error).message)) {
      return { result: { name: 'agent', verdict: 'fail', detail: `the agent at ${info.url} refused the token in CLAUDE_OTEL_HOME`, fix: 'restart the agent so it reads the current token file (kill its pid; a hook starts it again)' } };
    }
    const why = whyNotRunning(home, undefined, host);
    const extra = why.detail === 'not running' ? '' : ` (${why.detail})`;
    return { result: { name: 'agent', verdict: 'fail', detail: `agent.json names ${info.url} but it does not answer (${(err as Error).message})${extra}`, fix: 'run `claude-otel agent` to start it again (a stale agent.json is replaced)' } };
  }
}
