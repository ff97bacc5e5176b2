/**
 * An agent outage, marked on the sessions it may have cost events: those fed by http hooks, which
 * Claude Code does not retry while the agent is down (spooled events are never lost, so sessions
 * fed only by the command hook are not marked).
 */
import type { SessionState } from './open-span.js';

export function markOutage(sessions: Iterable<SessionState>, atMs: number): number {
  let marked = 0;
  for (const s of sessions) {
    if (!s.viaHttp) continue;
    const span = [...s.turns.values()].at(-1) ?? s.segment ?? s.root;
    if (!span) continue;
    span.events.push({ name: 'claude_code.bridge.gap', timeMs: atMs, attributes: { 'claude_code.gap': 'agent_down', 'claude_code.gap.since_ms': s.lastEventMs } });
    span.attributes['claude_code.gap'] ??= 'agent_down';
    marked++;
  }
  return marked;
}
