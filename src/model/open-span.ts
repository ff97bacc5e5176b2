/** Open spans: what the builder holds between an opening and a closing event, and the session state. */
import { ATTR_GEN_AI_AGENT_NAME, ATTR_GEN_AI_CONVERSATION_ID, ATTR_GEN_AI_OPERATION_NAME, ATTR_SESSION_ID, CC, GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT, MAIN_AGENT_NAME, type SpanKind } from './attributes.js';
import { spanIdFor, spanKeys } from './ids.js';
import { isEvent, type Attributes, type BridgeEvent, type SpanEventRecord, type SpanLinkRecord, type SpanRecord } from './types.js';

export type { SpanKind };

export interface OpenSpan {
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  attributes: Attributes;
  events: SpanEventRecord[];
  links?: SpanLinkRecord[];
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
  /** Opened after its owner (turn) had closed: exported under it, outside its time. */
  late?: boolean;
  /** A shell command of a skill or slash command (PreSkillShellCommand), not a model tool call. */
  skillCommand?: boolean;
}

export interface OpenAgent extends OpenSpan {
  agentId: string;
  promptId?: string;
  /** True once the Agent tool's PostToolUse named this agent (or a background launch did). */
  parentConfirmed: boolean;
  parentToolUseId?: string;
  /** A finished span held back until its parent is confirmed. */
  finished?: SpanRecord;
  /** Ended by its Agent call's failure: held back (until its turn ends) for the StopFailure that
   *  names the cause; Claude Code runs that hook concurrently, so it may arrive after the failure. */
  awaitingCause?: boolean;
}

export interface SessionState {
  sessionId: string;
  traceId: string;
  rootSpanId: string;
  root?: OpenSpan;
  rootEnded: boolean;
  segment?: OpenSpan;
  turns: Map<string, OpenSpan>;
  /** Turns (by prompt_id) already closed, with their span ids: their late events still find them. */
  closedTurns: Map<string, string>;
  /** Turns of the current run (root or segment); numbers restart with each run. */
  turnCount: number;
  tools: Map<string, OpenTool>;
  closedTools: Set<string>;
  agents: Map<string, OpenAgent>;
  /** Subagents already exported, with their span ids (late events of theirs still find them). */
  closedAgents: Map<string, string>;
  /** Failed Agent calls (tool_use_id → failure time) whose subagent is only guessed: the StopFailure
   *  that names its agent_id settles which one it was; else it ends with its turn. */
  failedAgentCalls?: Map<string, number>;
  /** Agent ids whose launching Agent call is known before SubagentStart (background agents). */
  launchedBy: Map<string, { toolUseId: string; background: boolean }>;
  compaction?: OpenSpan;
  lastEventMs: number;
  /** The error of the last turn when it ended in StopFailure (an API error), cleared by a Stop. */
  lastTurnError?: string | undefined;
  toolErrors: number;
  /** Some of its events come over http hooks, which Claude Code does not retry when the agent is down. */
  viaHttp?: boolean;
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
  if (span.links?.length) record.links = span.links;
  return record;
}

export function openSpan(s: SessionState, kind: SpanKind, key: string, name: string, startMs: number, parentSpanId: string | undefined, attributes: Attributes): OpenSpan {
  const span: OpenSpan = {
    kind,
    traceId: s.traceId,
    spanId: key === 'root' ? s.rootSpanId : spanIdFor(s.sessionId, key),
    name,
    startMs,
    attributes: { [CC.spanKind]: kind, [ATTR_SESSION_ID]: s.sessionId, [ATTR_GEN_AI_CONVERSATION_ID]: s.sessionId, ...attributes },
    events: [],
  };
  if (parentSpanId) span.parentSpanId = parentSpanId;
  return span;
}

/** The session's root span: `invoke_agent claude-code`. */
export function openRoot(s: SessionState, ev: BridgeEvent, gap?: string) {
  const attrs: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT, [ATTR_GEN_AI_AGENT_NAME]: MAIN_AGENT_NAME };
  if (isEvent(ev, 'SessionStart') && ev.source) attrs[CC.sessionSource] = ev.source;
  if (ev.cwd) attrs[CC.cwd] = ev.cwd;
  if (ev.permissionMode) attrs[CC.permissionMode] = ev.permissionMode;
  if (gap) attrs[CC.gap] = gap;
  s.root = openSpan(s, 'session', spanKeys.root(), `invoke_agent ${MAIN_AGENT_NAME}`, ev.timeMs, undefined, attrs);
}

/** A resumed segment (`claude --resume`) under the root that an earlier run wrote. */
export function openSegment(s: SessionState, ev: BridgeEvent, why?: string) {
  const source = why ?? (isEvent(ev, 'SessionStart') ? ev.source : undefined);
  s.segment = openSpan(s, 'segment', spanKeys.resume(ev.timeMs), 'claude_code.session.resume', ev.timeMs, s.rootSpanId, {
    [CC.sessionSource]: source ?? 'unknown',
  });
  // A new run of the CLI: its turns, tool errors and last error are counted afresh.
  s.turnCount = 0;
  s.toolErrors = 0;
  s.lastTurnError = undefined;
}
