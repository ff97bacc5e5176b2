/** The data that flows through the middle of the pipeline: no I/O, plain values. */

/** string[] for the few array-valued conventions (gen_ai.response.finish_reasons). */
export type AttrValue = string | number | boolean | string[];
export type Attributes = Record<string, AttrValue>;

/** Fields every event carries after validation and privacy filtering. */
interface EventBase {
  /** Order of acceptance, assigned by the agent. */
  seq: number;
  /** Receipt time, milliseconds since the epoch (fractional). No payload carries a time. */
  timeMs: number;
  sessionId: string;
  promptId?: string;
  /** Present only on events from inside a subagent. */
  agentId?: string;
  agentType?: string;
  cwd?: string;
  permissionMode?: string;
  /** The Claude Code process that sent the event, when known (command hooks). */
  pid?: number;
  /** Claude Code's own trace context for the prompt (W3C traceparent of its claude_code.interaction
   *  span), validated; present when its native tracing is on and a command hook forwarded it. */
  traceparent?: string;
  /** The transport that delivered the event. */
  via?: 'http' | 'spool' | 'command';
  /** Small scalar fields kept for point events (strings redacted and capped; never content fields). */
  details?: Attributes;
  /** The session's transcript (every payload's transcript_path) and, on SubagentStop, the
   *  subagent's own (agent_transcript_path). Paths only: read by src/agent/model-calls.ts. */
  transcriptPath?: string;
  agentTranscriptPath?: string;
}

interface Known<N extends string> extends EventBase {
  name: N;
  known: true;
}

/** Captured content: present only when the user opted in; already redacted and capped. */
interface ToolInput {
  toolName: string;
  toolUseId: string;
  inputSize?: number;
  input?: string;
  /** Agent tool: launched in the background, the requested subagent type. */
  background?: boolean;
  subagentType?: string;
}

export interface SessionStartEvent extends Known<'SessionStart'> { source?: string }
export interface SessionEndEvent extends Known<'SessionEnd'> { reason?: string }
export interface UserPromptSubmitEvent extends Known<'UserPromptSubmit'> { promptSize?: number; promptKind?: string; prompt?: string }
export type StopEvent = Known<'Stop'>;
/** `error` is StopFailure's error kind (`server_error`, `rate_limit`, ...): a fixed vocabulary, not content. */
export interface StopFailureEvent extends Known<'StopFailure'> { error?: string }
export type PreToolUseEvent = Known<'PreToolUse'> & ToolInput;
export interface PostToolUseEvent extends Known<'PostToolUse'>, ToolInput {
  durationMs?: number;
  outputSize?: number;
  output?: string;
  /** Agent tool: the agent it started and the launch status (`async_launched`, `completed`). */
  launchedAgentId?: string;
  responseStatus?: string;
}
export interface PostToolUseFailureEvent extends Known<'PostToolUseFailure'>, ToolInput {
  durationMs?: number;
  /** Error text: a content-free kind (`Exit code 3`) unless tool outputs are captured (see normalize). */
  error?: string;
  isInterrupt?: boolean;
}
/** Tool use ids named by a PostToolBatch; `response` only when tool outputs are captured (redacted). */
export interface PostToolBatchEvent extends Known<'PostToolBatch'> {
  batch?: { toolUseId: string; response?: string; denied?: boolean }[];
}
export type SubagentStartEvent = Known<'SubagentStart'>;
export type SubagentStopEvent = Known<'SubagentStop'>;
export interface PreCompactEvent extends Known<'PreCompact'> { source?: string }
export interface PostCompactEvent extends Known<'PostCompact'> { source?: string }
export type NotificationEvent = Known<'Notification'>;
export interface PermissionRequestEvent extends Known<'PermissionRequest'> { toolName?: string }
export interface PermissionDeniedEvent extends Known<'PermissionDenied'> { toolName?: string; toolUseId?: string; reason?: string }
/** A shell command inside a skill or slash command (2.1.332): its tool_use_id names no transcript tool call. */
export interface PreSkillShellCommandEvent extends Known<'PreSkillShellCommand'>, ToolInput {
  commandName?: string;
  commandSource?: string;
  invokedBy?: string;
}

export type KnownBridgeEvent =
  | SessionStartEvent | SessionEndEvent | UserPromptSubmitEvent | StopEvent | StopFailureEvent
  | PreToolUseEvent | PostToolUseEvent | PostToolUseFailureEvent | PostToolBatchEvent
  | SubagentStartEvent | SubagentStopEvent | PreCompactEvent | PostCompactEvent
  | NotificationEvent | PermissionRequestEvent | PermissionDeniedEvent | PreSkillShellCommandEvent;

export type KnownEventName = KnownBridgeEvent['name'];
export type EventOf<N extends KnownEventName> = Extract<KnownBridgeEvent, { name: N }>;

/** Any other event (a future version's, or the agent's own `@SessionClose`): point event and log record. */
export interface OtherBridgeEvent extends EventBase {
  name: string;
  known: false;
  reason?: string;
}

/** A hook event after validation and privacy filtering: what the journal stores and replays. */
export type BridgeEvent = KnownBridgeEvent | OtherBridgeEvent;

export interface SpanEventRecord {
  name: string;
  timeMs: number;
  attributes: Attributes;
}

/** A span link: to a span of another trace (Claude Code's own interaction span). */
export interface SpanLinkRecord {
  traceId: string;
  spanId: string;
  traceFlags: number;
  attributes: Attributes;
}

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  events: SpanEventRecord[];
  status: { code: 'unset' | 'error'; message?: string };
  links?: SpanLinkRecord[];
}

export interface LogRecordOut {
  timeMs: number;
  eventName: string;
  severity: 'INFO' | 'WARN';
  body: string;
  attributes: Attributes;
  traceId: string;
  spanId: string;
}

export type BuilderOutput = { type: 'span'; span: SpanRecord; seq: number } | { type: 'log'; log: LogRecordOut; seq: number };

/** What one call into the builder produced: the outputs, and how many of them are gap-marked. */
export interface ApplyResult {
  outputs: BuilderOutput[];
  gaps: number;
}

/** Narrows an event to one known kind (`name` alone cannot: an unknown event's name is any string). */
export function isEvent<N extends KnownEventName>(ev: BridgeEvent, name: N): ev is EventOf<N> {
  return ev.known && ev.name === name;
}
