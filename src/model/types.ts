/** The data that flows through the middle of the pipeline: no I/O, plain values. */

/** string[] for the few array-valued conventions (gen_ai.response.finish_reasons). */
export type AttrValue = string | number | boolean | string[];
export type Attributes = Record<string, AttrValue>;

/** A hook event after validation and privacy filtering: what the journal stores and replays. */
export interface BridgeEvent {
  /** Order of acceptance, assigned by the agent. */
  seq: number;
  /** Receipt time, milliseconds since the epoch (fractional). No payload carries a time. */
  timeMs: number;
  name: string;
  known: boolean;
  sessionId: string;
  promptId?: string;
  agentId?: string;
  agentType?: string;
  cwd?: string;
  permissionMode?: string;
  toolName?: string;
  toolUseId?: string;
  durationMs?: number;
  error?: string;
  isInterrupt?: boolean;
  /** SessionStart source, SessionEnd reason, PermissionDenied reason, compaction trigger. */
  source?: string;
  reason?: string;
  /** Agent tool: launched in the background, the requested subagent type, the agent it started. */
  background?: boolean;
  subagentType?: string;
  launchedAgentId?: string;
  responseStatus?: string;
  /** Tool use ids named by a PostToolBatch, with their response text when it is a string. */
  batch?: { toolUseId: string; response?: string }[];
  inputSize?: number;
  outputSize?: number;
  promptSize?: number;
  promptKind?: string;
  /** Captured content: present only when the user opted in; already redacted and capped. */
  input?: string;
  output?: string;
  prompt?: string;
  /** Small scalar fields of point events and unknown events. */
  details?: Attributes;
  /** The session's transcript (every payload's transcript_path) and, on SubagentStop, the
   *  subagent's own (agent_transcript_path). Paths only: read by src/agent/model-calls.ts. */
  transcriptPath?: string;
  agentTranscriptPath?: string;
  /** The Claude Code process that sent the event, when known (command hooks). */
  pid?: number;
  /** The transport that delivered the event. */
  via?: 'http' | 'spool' | 'command';
}

export interface SpanEventRecord {
  name: string;
  timeMs: number;
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
