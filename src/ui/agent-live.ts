/**
 * The agent's live state for the web view: its /v1/status (token from CLAUDE_OTEL_HOME), reduced to
 * what the page draws: the open sessions and their open spans (name, parent, start, attributes), so
 * running tools and turns show before they reach the store. An agent that is not running is a state
 * (`running: false`), never an error: the next hook starts it.
 */
import { fetchAgentJson, readAgentInfo } from '../cli/agent-client.js';

export interface LiveSpan {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  startMs: number;
  attributes: Record<string, unknown>;
}

export interface LiveSession {
  sessionId: string;
  traceId: string;
  lastEventMs: number;
  spans: LiveSpan[];
}

export interface LiveState {
  agent: { running: boolean; pid?: number };
  sessions: LiveSession[];
}

interface StatusBody {
  pid?: number;
  sessions?: Array<{ sessionId?: unknown; traceId?: unknown; lastEventMs?: unknown; spans?: unknown }>;
}

function asSpans(value: unknown): LiveSpan[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (s): s is LiveSpan =>
      typeof s === 'object' && s !== null && typeof (s as LiveSpan).spanId === 'string' && typeof (s as LiveSpan).name === 'string' && typeof (s as LiveSpan).startMs === 'number',
  );
}

/** Pure: the status body as the page's live state. */
export function toLiveState(body: unknown): LiveState {
  const status = (body ?? {}) as StatusBody;
  const sessions: LiveSession[] = [];
  for (const s of Array.isArray(status.sessions) ? status.sessions : []) {
    if (typeof s.sessionId !== 'string' || typeof s.traceId !== 'string') continue;
    sessions.push({ sessionId: s.sessionId, traceId: s.traceId, lastEventMs: typeof s.lastEventMs === 'number' ? s.lastEventMs : 0, spans: asSpans(s.spans) });
  }
  return { agent: { running: true, ...(typeof status.pid === 'number' ? { pid: status.pid } : {}) }, sessions };
}

export type LiveSource = () => Promise<LiveState>;

export function createAgentLiveSource(env: Record<string, string | undefined>, timeoutMs = 1000): LiveSource {
  return async () => {
    const { info, token } = readAgentInfo(env);
    if (!info) return { agent: { running: false }, sessions: [] };
    try {
      return toLiveState(await fetchAgentJson(info.url, '/v1/status', token, timeoutMs));
    } catch {
      return { agent: { running: false }, sessions: [] };
    }
  };
}
