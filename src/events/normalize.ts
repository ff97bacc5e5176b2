/**
 * HookEvent → BridgeEvent: keeps what the trace needs, measures content, and captures content only
 * for the categories the user opted into (already redacted and capped by `captureValue`).
 */
import type {
  Attributes, BridgeEvent, KnownBridgeEvent, PermissionDeniedEvent, PermissionRequestEvent, PostCompactEvent, PostToolBatchEvent, PostToolUseEvent,
  PostToolUseFailureEvent, PreCompactEvent, PreSkillShellCommandEvent, PreToolUseEvent, SessionEndEvent, SessionStartEvent, StopFailureEvent,
  UserPromptSubmitEvent,
} from '../model/types.js';
import { isDenial } from '../model/tool-close.js';
import type { KnownHookEvent, ParseResult } from './schema.js';
import { validTraceparent } from './traceparent.js';

export interface CaptureOptions {
  prompts: boolean;
  toolInputs: boolean;
  toolOutputs: boolean;
}

export interface NormalizeOptions {
  capture: CaptureOptions;
  /** Redacts and caps one value (see src/privacy). */
  captureValue: (value: unknown) => string;
}

export interface Receipt {
  seq: number;
  timeMs: number;
  via: BridgeEvent['via'];
  pid?: number | undefined;
  /** TRACEPARENT as a command hook forwarded it: checked here, dropped when it is not W3C. */
  traceparent?: string | undefined;
}

/** Fields that hold user or model content: never copied into details. */
const CONTENT_KEYS = new Set([
  'prompt', 'delta', 'content', 'compact_summary', 'custom_instructions', 'last_assistant_message',
  'command_args', 'tool_input', 'tool_response', 'tool_calls', 'message', 'agent_transcript_path',
  'transcript_path', 'permission_suggestions', 'background_tasks', 'session_crons',
]);
const COMMON_KEYS = new Set(['session_id', 'cwd', 'hook_event_name', 'prompt_id', 'permission_mode', 'agent_id', 'agent_type', 'effort']);
const MAX_DETAIL = 200;

export function byteSize(value: unknown): number {
  if (value === undefined) return 0;
  return Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value) ?? '', 'utf8');
}

/**
 * Scalar fields of point and unknown events. Strings can quote anything: they are redacted, and with
 * no content category captured only short tokens survive (kinds, names, ids, paths; no text with spaces).
 */
function scalarDetails(event: Record<string, unknown>, allowMessage: boolean, redact: (text: string) => string, capture: CaptureOptions): Attributes | undefined {
  const details: Attributes = {};
  const anyCapture = capture.prompts || capture.toolInputs || capture.toolOutputs;
  let any = false;
  for (const [key, value] of Object.entries(event)) {
    if (COMMON_KEYS.has(key) || (CONTENT_KEYS.has(key) && !(allowMessage && key === 'message'))) continue;
    if (typeof value === 'string' && !anyCapture && !(allowMessage && key === 'message') && !TOKEN.test(value)) continue;
    if (typeof value === 'string') details[`claude_code.${key}`] = redact(value).slice(0, MAX_DETAIL);
    else if (typeof value === 'number' || typeof value === 'boolean') details[`claude_code.${key}`] = value;
    else continue;
    any = true;
  }
  return any ? details : undefined;
}

/** A value that can be an identifier but not a sentence: no spaces, short. */
const TOKEN = /^[\w.:@/+-]{1,100}$/;
const ERROR_KIND = /^[a-z][a-z0-9_]{0,39}$/;
const token = (text: string) => (TOKEN.test(text) ? text : 'other');

/**
 * A tool error with no content category captured: only what cannot carry tool output survives,
 * `Exit code <n>` (a Bash exit status), `timeout` and `interrupted`; anything else is dropped
 * (the span still says `error.type=tool_error`).
 */
export function errorKind(error: string): string | undefined {
  const line = firstLine(error);
  const exit = /^Exit code (\d{1,3})$/.exec(line.trim());
  if (exit) return `Exit code ${exit[1]}`;
  if (/\btimed? ?out\b/i.test(line) && line.length <= 80) return 'timeout';
  if (/^interrupted\b/i.test(line.trim())) return 'interrupted';
  return undefined;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * The event is built as one object, then filled in per kind: every event starts with the same fields
 * in the same order (one hidden class for V8), and nothing is copied by spread on this per-event path.
 */
export function normalizeEvent(parsed: Extract<ParseResult, { ok: true }>, receipt: Receipt, options: NormalizeOptions): BridgeEvent {
  const e = parsed.event;
  const ev = { seq: receipt.seq, timeMs: receipt.timeMs, name: e.hook_event_name, known: parsed.known, sessionId: e.session_id } as BridgeEvent;
  if (receipt.via) ev.via = receipt.via;
  if (receipt.pid) ev.pid = receipt.pid;
  const traceparent = validTraceparent(receipt.traceparent);
  if (traceparent) ev.traceparent = traceparent;
  if (e.prompt_id) ev.promptId = e.prompt_id;
  if (e.agent_id) ev.agentId = e.agent_id;
  if (e.agent_type !== undefined) ev.agentType = e.agent_type;
  if (e.cwd) ev.cwd = e.cwd;
  if (e.permission_mode) ev.permissionMode = e.permission_mode;
  if (e.transcript_path) ev.transcriptPath = e.transcript_path;
  if (!parsed.known) {
    const details = scalarDetails(e, false, options.captureValue, options.capture);
    if (details) ev.details = details;
    return ev;
  }
  fillKnown(ev as KnownBridgeEvent, parsed.event, options);
  return ev;
}

function fillToolInput(ev: ToolInputFields, e: { tool_name: string; tool_use_id: string; tool_input?: unknown }, options: NormalizeOptions) {
  ev.toolName = e.tool_name;
  ev.toolUseId = e.tool_use_id;
  if (e.tool_input !== undefined) {
    ev.inputSize = byteSize(e.tool_input);
    if (options.capture.toolInputs) ev.input = options.captureValue(e.tool_input);
  }
  const input = record(e.tool_input);
  if (e.tool_name === 'Agent' && input) {
    if (typeof input.run_in_background === 'boolean') ev.background = input.run_in_background;
    if (typeof input.subagent_type === 'string') ev.subagentType = input.subagent_type;
  }
}

type ToolInputFields = PreToolUseEvent | PostToolUseEvent | PostToolUseFailureEvent | PreSkillShellCommandEvent;

/** Documented value sets of enum fields (Claude Code's hooks reference): a value outside one is
 *  recorded as `other`, so a field that should hold a keyword can never carry content. */
const SESSION_START_SOURCES = new Set(['startup', 'resume', 'clear', 'compact']);
const SESSION_END_REASONS = new Set(['clear', 'resume', 'logout', 'prompt_input_exit', 'bypass_permissions_disabled', 'other']);
const COMPACTION_TRIGGERS = new Set(['manual', 'auto']);
const oneOf = (value: string, known: ReadonlySet<string>): string => (known.has(value) ? value : 'other');

/** Adds what the trace needs from one known event to `event` (whose name is `e`'s). */
function fillKnown(event: KnownBridgeEvent, e: KnownHookEvent, options: NormalizeOptions): void {
  const { capture, captureValue } = options;
  if (e.hook_event_name === 'SubagentStop' && e.agent_transcript_path) event.agentTranscriptPath = e.agent_transcript_path;
  switch (e.hook_event_name) {
    case 'SessionStart':
      if (e.source) (event as SessionStartEvent).source = oneOf(e.source, SESSION_START_SOURCES);
      return;
    case 'SessionEnd':
      if (e.reason) (event as SessionEndEvent).reason = oneOf(e.reason, SESSION_END_REASONS);
      return;
    case 'UserPromptSubmit': {
      const ev = event as UserPromptSubmitEvent;
      if (e.prompt !== undefined) {
        ev.promptSize = byteSize(e.prompt);
        ev.promptKind = e.prompt.startsWith('<task-notification>') ? 'task_notification' : 'user';
        if (capture.prompts) ev.prompt = captureValue(e.prompt);
      }
      return;
    }
    case 'StopFailure':
      // `error` is a kind (server_error, rate_limit, unknown, ...): kept only while it looks like one.
      if (e.error) (event as StopFailureEvent).error = ERROR_KIND.test(e.error) ? e.error : 'stop_failure';
      return;
    case 'PreSkillShellCommand': {
      const ev = event as PreSkillShellCommandEvent;
      fillToolInput(ev, { ...e, tool_name: e.tool_name ?? 'unknown' }, options);
      if (e.command_name) ev.commandName = token(e.command_name);
      if (e.command_source) ev.commandSource = token(e.command_source);
      if (e.invoked_by) ev.invokedBy = token(e.invoked_by);
      return;
    }
    case 'PreToolUse':
      fillToolInput(event as PreToolUseEvent, e, options);
      return;
    case 'PostToolUseFailure': {
      const ev = event as PostToolUseFailureEvent;
      fillToolInput(ev, e, options);
      if (e.duration_ms !== undefined) ev.durationMs = e.duration_ms;
      // The error text can quote the tool's output (stderr): with tool outputs captured it is kept
      // (redacted, capped); otherwise only a content-free kind survives (see errorKind).
      if (e.error !== undefined) {
        const error = capture.toolOutputs ? captureValue(e.error) : errorKind(e.error);
        if (error !== undefined) ev.error = error;
      }
      if (e.is_interrupt !== undefined) ev.isInterrupt = e.is_interrupt;
      return;
    }
    case 'PostToolUse': {
      const ev = event as PostToolUseEvent;
      fillToolInput(ev, e, options);
      if (e.duration_ms !== undefined) ev.durationMs = e.duration_ms;
      if (e.tool_response !== undefined) {
        ev.outputSize = byteSize(e.tool_response);
        if (capture.toolOutputs) ev.output = captureValue(e.tool_response);
      }
      const response = record(e.tool_response);
      if (response && typeof response.agentId === 'string') ev.launchedAgentId = response.agentId;
      if (response && typeof response.status === 'string') ev.responseStatus = response.status;
      return;
    }
    case 'PostToolBatch':
      (event as PostToolBatchEvent).batch = (e.tool_calls ?? []).flatMap((c) => {
        if (!c.tool_use_id) return [];
        // The response text is tool output: only a content-free verdict (refused or not) is kept,
        // and the text itself only when tool outputs are captured (redacted and capped).
        const r = (c as Record<string, unknown>).tool_response;
        if (typeof r !== 'string') return [{ toolUseId: c.tool_use_id }];
        const call: { toolUseId: string; response?: string; denied?: boolean } = { toolUseId: c.tool_use_id };
        if (isDenial(r.slice(0, 2048))) call.denied = true;
        if (capture.toolOutputs) call.response = captureValue(firstLine(r)).slice(0, MAX_DETAIL);
        return [call];
      });
      return;
    case 'PreCompact':
    case 'PostCompact':
      if (e.trigger) (event as PreCompactEvent | PostCompactEvent).source = oneOf(e.trigger, COMPACTION_TRIGGERS);
      return;
    case 'PermissionDenied': {
      const ev = event as PermissionDeniedEvent;
      if (e.tool_name) ev.toolName = e.tool_name;
      if (e.tool_use_id) ev.toolUseId = e.tool_use_id;
      // The classifier's reason can quote the command: kept (redacted) only when tool inputs are captured.
      if (e.reason) ev.reason = capture.toolInputs ? captureValue(e.reason).slice(0, MAX_DETAIL) : 'permission_denied';
      return;
    }
    case 'PermissionRequest':
      if (e.tool_name) (event as PermissionRequestEvent).toolName = e.tool_name;
      return;
    case 'Notification': {
      // Its message is UI text that can name files and commands: kept (redacted) only with prompts captured.
      const details = scalarDetails(e, capture.prompts, captureValue, capture);
      if (details) event.details = details;
      return;
    }
    default: {
      const details = scalarDetails(e, false, captureValue, capture);
      if (details) event.details = details;
    }
  }
}
