// Settings with a plain command hook that appends every hook payload to a JSONL file, and a reader.
// Not product code: it is the ground truth the product is compared against.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every hook event Claude Code 2.1.332 knows (the binary's own list, in its order): 2.1.328's 33
 *  plus PreSkillShellCommand. */
export const ALL_HOOK_EVENTS = [
  'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PostToolBatch', 'Notification', 'UserPromptSubmit',
  'UserPromptExpansion', 'SessionStart', 'SessionEnd', 'Stop', 'StopFailure', 'SubagentStart', 'SubagentStop',
  'PreCompact', 'PostCompact', 'PreModelSwitch', 'PostModelSwitch', 'PermissionRequest', 'PermissionDenied',
  'Setup', 'TeammateIdle', 'TaskCreated', 'TaskCompleted', 'Elicitation', 'ElicitationResult', 'ConfigChange',
  'WorktreeCreate', 'WorktreeRemove', 'InstructionsLoaded', 'CwdChanged', 'FileChanged', 'DirectoryAdded',
  'MessageDisplay', 'PreSkillShellCommand',
] as const;

export type HookSettings = { hooks: Record<string, Array<{ matcher?: string; hooks: unknown[] }>>; [k: string]: unknown };

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command that stores stdin (one JSON payload) as `<dir>/<epoch ns>-<pid>.json`. One file per
 *  payload keeps hooks that run concurrently (parallel tools, two sessions) from interleaving;
 *  the name orders them by the time the hook started. */
export function recordCommand(dir: string): string {
  // Written under a temporary name and renamed: a reader polling the directory while a hook runs
  // never sees a half-written payload.
  return `f=${shellQuote(dir)}/$(date +%s%N)-$$; cat > "$f.part" && mv "$f.part" "$f.json"`;
}

/** Settings that record every event (or `events`) into directory `dir` (created) with a command hook. */
export function recorderSettings(dir: string, events: readonly string[] = ALL_HOOK_EVENTS): HookSettings {
  mkdirSync(dir, { recursive: true });
  const hooks: HookSettings['hooks'] = {};
  for (const e of events) hooks[e] = [{ matcher: '*', hooks: [{ type: 'command', command: recordCommand(dir) }] }];
  return { hooks };
}

export interface HookPayload {
  hook_event_name: string;
  session_id: string;
  prompt_id?: string;
  tool_name?: string;
  tool_use_id?: string;
  tool_input?: Record<string, unknown>;
  tool_response?: unknown;
  agent_id?: string;
  agent_type?: string;
  source?: string;
  reason?: string;
  error?: string;
  prompt?: string;
  [k: string]: unknown;
}

/** The recorded payloads in the order their hooks started. */
export function readHookPayloads(dir: string): HookPayload[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as HookPayload);
}

/** A compact label per event, for asserting sequences: `PreToolUse:Bash`, `SubagentStart`,
 *  `PostToolUse:Bash@sub` (inside a subagent), `SessionStart(startup)`. */
export function label(p: HookPayload): string {
  let s = p.hook_event_name;
  if (p.tool_name) s += `:${p.tool_name}`;
  if (p.hook_event_name === 'SessionStart' && p.source) s += `(${p.source})`;
  if (p.hook_event_name === 'SessionEnd' && p.reason) s += `(${p.reason})`;
  if (p.agent_id && p.hook_event_name !== 'SubagentStart' && p.hook_event_name !== 'SubagentStop') s += '@sub';
  return s;
}

export const labels = (ps: HookPayload[]): string[] => ps.map(label);
