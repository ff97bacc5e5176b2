/** Open spans: what the builder holds between an opening and a closing event. */
import type { Attributes, SpanEventRecord, SpanRecord } from './types.js';

export type SpanKind = 'session' | 'segment' | 'turn' | 'tool' | 'subagent' | 'compaction';

export interface OpenSpan {
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  attributes: Attributes;
  events: SpanEventRecord[];
}

export interface OpenTool extends OpenSpan {
  toolUseId: string;
  toolName: string;
  promptId?: string;
  agentId?: string;
  subagentType?: string;
  background?: boolean;
  /** The agent this Agent call started, once known (tentatively or from its PostToolUse). */
  agentLinked?: string;
  deniedReason?: string;
  permissionRequested?: boolean;
}

export interface OpenAgent extends OpenSpan {
  agentId: string;
  promptId?: string;
  /** True once the Agent tool's PostToolUse named this agent (or a background launch did). */
  parentConfirmed: boolean;
  parentToolUseId?: string;
  /** A finished span held back until its parent is confirmed. */
  finished?: SpanRecord;
}

export interface SessionState {
  sessionId: string;
  traceId: string;
  rootSpanId: string;
  root?: OpenSpan;
  rootEnded: boolean;
  segment?: OpenSpan;
  segments: number;
  turns: Map<string, OpenSpan>;
  turnCount: number;
  gapTurns: number;
  tools: Map<string, OpenTool>;
  closedTools: Set<string>;
  agents: Map<string, OpenAgent>;
  /** Agent ids whose launching Agent call is known before SubagentStart (background agents). */
  launchedBy: Map<string, { toolUseId: string; background: boolean }>;
  compaction?: OpenSpan;
  compactions: number;
  lastEventMs: number;
  pid?: number;
  endedAtMs?: number;
}

export function finish(
  span: OpenSpan,
  endMs: number,
  extra: Attributes = {},
  status: SpanRecord['status'] = { code: 'unset' },
): SpanRecord {
  const record: SpanRecord = {
    traceId: span.traceId,
    spanId: span.spanId,
    name: span.name,
    startMs: span.startMs,
    endMs: Math.max(endMs, span.startMs),
    attributes: { ...span.attributes, ...extra },
    events: span.events,
    status,
  };
  if (span.parentSpanId) record.parentSpanId = span.parentSpanId;
  return record;
}
