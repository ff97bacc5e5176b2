/**
 * Hook event schemas: the edge where Claude Code's JSON becomes typed data.
 *
 * Every schema is loose (unknown fields are kept: Claude Code adds fields between versions) and
 * tolerant: an optional field that is missing or of the wrong type degrades the span, it does not
 * reject the event. Only what identifies an event is required (session_id, hook_event_name and,
 * for tool events, the tool_use_id that keys the span).
 */
import { z } from 'zod';
import { fastSafeParse } from '../shared/fast-check.js';

/** A field that is kept when it has the right type and dropped (undefined) otherwise. */
const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

const str = lenient(z.string());
const num = lenient(z.number());
const bool = lenient(z.boolean());

const common = {
  session_id: z.string().min(1).max(200),
  transcript_path: str,
  cwd: str,
  prompt_id: str,
  permission_mode: str,
  agent_id: str,
  agent_type: str,
};

const event = <N extends string, S extends z.ZodRawShape>(name: N, shape: S) =>
  z.looseObject({ ...common, hook_event_name: z.literal(name), ...shape });

const toolId = z.string().min(1).max(200);

export const sessionStartSchema = event('SessionStart', { source: str, model: str });
export const sessionEndSchema = event('SessionEnd', { reason: str });
export const userPromptSubmitSchema = event('UserPromptSubmit', { prompt: str });
export const stopSchema = event('Stop', { stop_hook_active: bool, last_assistant_message: str });
export const stopFailureSchema = event('StopFailure', { error: str, last_assistant_message: str });
export const preToolUseSchema = event('PreToolUse', {
  tool_name: z.string().min(1),
  tool_use_id: toolId,
  tool_input: z.unknown().optional(),
});
export const postToolUseSchema = event('PostToolUse', {
  tool_name: z.string().min(1),
  tool_use_id: toolId,
  tool_input: z.unknown().optional(),
  tool_response: z.unknown().optional(),
  duration_ms: num,
});
export const postToolUseFailureSchema = event('PostToolUseFailure', {
  tool_name: z.string().min(1),
  tool_use_id: toolId,
  tool_input: z.unknown().optional(),
  error: str,
  is_interrupt: bool,
  duration_ms: num,
});
export const postToolBatchSchema = event('PostToolBatch', {
  tool_calls: lenient(z.array(z.looseObject({ tool_use_id: str, tool_name: str }))),
});
export const subagentStartSchema = event('SubagentStart', {});
export const subagentStopSchema = event('SubagentStop', { last_assistant_message: str, agent_transcript_path: str });
export const preCompactSchema = event('PreCompact', { trigger: str });
export const postCompactSchema = event('PostCompact', { trigger: str });
export const notificationSchema = event('Notification', { message: str, notification_type: str });
export const permissionRequestSchema = event('PermissionRequest', {
  tool_name: str,
  tool_input: z.unknown().optional(),
});
export const permissionDeniedSchema = event('PermissionDenied', {
  tool_name: str,
  tool_use_id: str,
  tool_input: z.unknown().optional(),
  reason: str,
});

/** 2.1.332: a shell command embedded in a skill or slash command. Its tool_use_id names no transcript tool call. */
export const preSkillShellCommandSchema = event('PreSkillShellCommand', {
  tool_name: lenient(z.string().min(1).max(100)),
  tool_use_id: toolId,
  tool_input: z.unknown().optional(),
  command_name: str,
  command_source: str,
  invoked_by: str,
});

const knownSchemas = [
  sessionStartSchema,
  sessionEndSchema,
  userPromptSubmitSchema,
  stopSchema,
  stopFailureSchema,
  preToolUseSchema,
  postToolUseSchema,
  postToolUseFailureSchema,
  postToolBatchSchema,
  subagentStartSchema,
  subagentStopSchema,
  preCompactSchema,
  postCompactSchema,
  notificationSchema,
  permissionRequestSchema,
  permissionDeniedSchema,
  preSkillShellCommandSchema,
] as const;

export const knownHookEventSchema = z.discriminatedUnion('hook_event_name', knownSchemas);

/** Any other event Claude Code sends (ConfigChange, CwdChanged, events of future versions). */
export const otherHookEventSchema = z.looseObject({
  ...common,
  hook_event_name: z.string().min(1).max(100),
});

export type KnownHookEvent = z.infer<typeof knownHookEventSchema>;
export type OtherHookEvent = z.infer<typeof otherHookEventSchema> & { known: false };
export type HookEvent = KnownHookEvent | OtherHookEvent;
export type KnownEventName = KnownHookEvent['hook_event_name'];

export const KNOWN_EVENT_NAMES: ReadonlySet<string> = new Set(
  knownSchemas.map((s) => s.shape.hook_event_name.value),
);

export type ParseResult =
  | { ok: true; event: KnownHookEvent; known: true }
  | { ok: true; event: z.infer<typeof otherHookEventSchema>; known: false }
  | { ok: false; reason: string };

/** Per event name: its schema's safeParse, taking a value it would leave unchanged as it is (fast-check.ts). */
const PARSE_BY_NAME: ReadonlyMap<string, (value: unknown) => z.ZodSafeParseResult<unknown>> = new Map(
  knownSchemas.map((schema) => [schema.shape.hook_event_name.value, fastSafeParse(schema)]),
);
const parseOther = fastSafeParse(otherHookEventSchema);

/**
 * Validates one decoded JSON value. Never throws. One schema runs per event (chosen by its name);
 * a value the schema would leave as it is (the usual case) is taken as it is, without zod's copy.
 */
export function parseHookEvent(value: unknown): ParseResult {
  const name = typeof value === 'object' && value !== null ? (value as { hook_event_name?: unknown }).hook_event_name : undefined;
  const parse = typeof name === 'string' ? PARSE_BY_NAME.get(name) : undefined;
  if (parse) {
    const known = parse(value);
    if (!known.success) return { ok: false, reason: describe(known.error) };
    return { ok: true, event: known.data as KnownHookEvent, known: true };
  }
  const base = parseOther(value);
  if (!base.success) return { ok: false, reason: describe(base.error) };
  return { ok: true, event: base.data, known: false };
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid event';
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`.slice(0, 200);
}
