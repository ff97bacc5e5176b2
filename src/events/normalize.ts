/**
 * HookEvent → BridgeEvent: keeps what the trace needs, measures content, and captures content only
 * for the categories the user opted into (already redacted and capped by `captureValue`).
 */
import type { Attributes, BridgeEvent } from '../model/types.js';
import type { KnownHookEvent, ParseResult } from './schema.js';

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

/** Scalar fields of point and unknown events; strings are redacted (they can quote anything). */
function scalarDetails(event: Record<string, unknown>, allowMessage: boolean, redact: (text: string) => string): Attributes | undefined {
  const details: Attributes = {};
  let any = false;
  for (const [key, value] of Object.entries(event)) {
    if (COMMON_KEYS.has(key) || (CONTENT_KEYS.has(key) && !(allowMessage && key === 'message'))) continue;
    if (typeof value === 'string') details[`claude_code.${key}`] = redact(value).slice(0, MAX_DETAIL);
    else if (typeof value === 'number' || typeof value === 'boolean') details[`claude_code.${key}`] = value;
    else continue;
    any = true;
  }
  return any ? details : undefined;
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function normalizeEvent(parsed: Extract<ParseResult, { ok: true }>, receipt: Receipt, options: NormalizeOptions): BridgeEvent {
  const e = parsed.event;
  const ev: BridgeEvent = { seq: receipt.seq, timeMs: receipt.timeMs, name: e.hook_event_name, known: parsed.known, sessionId: e.session_id };
  if (receipt.via) ev.via = receipt.via;
  if (receipt.pid) ev.pid = receipt.pid;
  if (e.prompt_id) ev.promptId = e.prompt_id;
  if (e.agent_id) ev.agentId = e.agent_id;
  if (e.agent_type !== undefined) ev.agentType = e.agent_type;
  if (e.cwd) ev.cwd = e.cwd;
  if (e.permission_mode) ev.permissionMode = e.permission_mode;
  if (e.transcript_path) ev.transcriptPath = e.transcript_path;
  if (!parsed.known) {
    const details = scalarDetails(e, false, options.captureValue);
    if (details) ev.details = details;
    return ev;
  }
  applyKnown(ev, parsed.event, options);
  return ev;
}

function applyKnown(ev: BridgeEvent, e: KnownHookEvent, options: NormalizeOptions) {
  const { capture, captureValue } = options;
  if (e.hook_event_name === 'SubagentStop' && e.agent_transcript_path) ev.agentTranscriptPath = e.agent_transcript_path;
  switch (e.hook_event_name) {
    case 'SessionStart':
      if (e.source) ev.source = e.source;
      break;
    case 'SessionEnd':
      if (e.reason) ev.reason = e.reason;
      break;
    case 'UserPromptSubmit':
      if (e.prompt !== undefined) {
        ev.promptSize = byteSize(e.prompt);
        ev.promptKind = e.prompt.startsWith('<task-notification>') ? 'task_notification' : 'user';
        if (capture.prompts) ev.prompt = captureValue(e.prompt);
      }
      break;
    case 'StopFailure':
      if (e.error) ev.error = captureValue(e.error).slice(0, MAX_DETAIL);
      break;
    case 'PreToolUse':
    case 'PostToolUse':
    case 'PostToolUseFailure': {
      ev.toolName = e.tool_name;
      ev.toolUseId = e.tool_use_id;
      if (e.tool_input !== undefined) {
        ev.inputSize = byteSize(e.tool_input);
        if (capture.toolInputs) ev.input = captureValue(e.tool_input);
      }
      const input = record(e.tool_input);
      if (e.tool_name === 'Agent' && input) {
        if (typeof input.run_in_background === 'boolean') ev.background = input.run_in_background;
        if (typeof input.subagent_type === 'string') ev.subagentType = input.subagent_type;
      }
      if (e.hook_event_name === 'PreToolUse') break;
      if (e.duration_ms !== undefined) ev.durationMs = e.duration_ms;
      if (e.hook_event_name === 'PostToolUseFailure') {
        // The error text can quote the tool's output (stderr): only its first line is kept unless
        // tool outputs are captured, and it is redacted either way.
        if (e.error !== undefined) ev.error = capture.toolOutputs ? captureValue(e.error) : captureValue(firstLine(e.error)).slice(0, MAX_DETAIL);
        if (e.is_interrupt !== undefined) ev.isInterrupt = e.is_interrupt;
        break;
      }
      if (e.tool_response !== undefined) {
        ev.outputSize = byteSize(e.tool_response);
        if (capture.toolOutputs) ev.output = captureValue(e.tool_response);
      }
      const response = record(e.tool_response);
      if (response && typeof response.agentId === 'string') ev.launchedAgentId = response.agentId;
      if (response && typeof response.status === 'string') ev.responseStatus = response.status;
      break;
    }
    case 'PostToolBatch':
      ev.batch = (e.tool_calls ?? []).flatMap((c) => {
        if (!c.tool_use_id) return [];
        const r = (c as Record<string, unknown>).tool_response;
        return [typeof r === 'string' ? { toolUseId: c.tool_use_id, response: r.slice(0, 512) } : { toolUseId: c.tool_use_id }];
      });
      break;
    case 'PreCompact':
    case 'PostCompact':
      if (e.trigger) ev.source = e.trigger;
      break;
    case 'PermissionDenied':
      if (e.tool_name) ev.toolName = e.tool_name;
      if (e.tool_use_id) ev.toolUseId = e.tool_use_id;
      if (e.reason) ev.reason = captureValue(e.reason).slice(0, MAX_DETAIL);
      break;
    case 'PermissionRequest':
      if (e.tool_name) ev.toolName = e.tool_name;
      break;
    case 'Notification': {
      const details = scalarDetails(e, true, captureValue);
      if (details) ev.details = details;
      break;
    }
    default: {
      const details = scalarDetails(e, false, captureValue);
      if (details) ev.details = details;
    }
  }
}
