/** `claude-otel status [--json]`: the running agent's open sessions and counters. Exit 0 up, 1 down. */
import type { CommandIo } from './io.js';
import { fetchAgentJson, readAgentInfo } from './agent-client.js';
import type { AgentStatus } from '../agent/status.js';

function exportBufferLine(b: AgentStatus['exportBuffer']): string {
  const dropped = b.dropped.buffer_full + b.dropped.refused;
  return `  buffer    ${b.spans} spans, ${Math.round(b.bytes / 1024)} of ${Math.round(b.maxBytes / 1024)} KiB; dropped ${dropped} (${b.dropped.buffer_full} oldest past the bound, ${b.dropped.refused} refused)${b.lastError ? `; last error: ${b.lastError}` : ''}`;
}

export async function runStatusCommand(argv: string[], io: CommandIo): Promise<number> {
  const { info, token } = readAgentInfo(io.env);
  if (!info || !token) {
    io.stderr('agent: not running (no agent.json under CLAUDE_OTEL_HOME)\n');
    return 1;
  }
  let status: AgentStatus;
  try {
    status = (await fetchAgentJson(info.url, '/v1/status', token)) as AgentStatus;
  } catch (err) {
    io.stderr(`agent: not reachable at ${info.url} (${(err as Error).message})\n`);
    return 1;
  }
  if (argv.includes('--json')) {
    io.stdout(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  const now = io.now?.() ?? Date.now();
  io.stdout(
    [
      `agent       pid ${status.pid}, version ${status.version}, ${info.url}`,
      `export      ${status.otlp ?? 'local store only'}; pending ${status.exportPending}, retrying ${status.retryBacklog}`,
      ...(status.exportBuffer ? [exportBufferLine(status.exportBuffer)] : []),
      `spool       ${status.spoolBacklog} waiting`,
      `open spans  ${status.openSpans}; gaps marked ${status.gaps}`,
      `sessions    ${status.sessions.length} open`,
      ...status.sessions.map((s) => `  ${s.sessionId}  turns ${s.openTurns}  tools ${s.openTools}  agents ${s.openAgents}  last event ${Math.round((now - s.lastEventMs) / 1000)}s ago`),
    ].join('\n') + '\n',
  );
  return 0;
}
