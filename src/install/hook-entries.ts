/**
 * The hook entries we put into Claude Code settings (and the plugin's hooks.json), and how we
 * recognize them again so uninstall removes exactly ours.
 */
import type { TransportMode } from '../config/schema.js';

/** Events we subscribe to, in the order they are written. */
export const HOOK_EVENTS = [
  'SessionStart',
  'SessionEnd',
  'UserPromptSubmit',
  'Stop',
  'StopFailure',
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PostToolBatch',
  'SubagentStart',
  'SubagentStop',
  'PreCompact',
  'PostCompact',
  'Notification',
  'PermissionRequest',
  'PermissionDenied',
  'PreSkillShellCommand',
] as const;
export type HookEventName = (typeof HOOK_EVENTS)[number];

/** Events whose matcher is a tool name: we match every tool with "*". The others take no matcher (= all). */
export const TOOL_MATCHER_EVENTS: ReadonlySet<string> = new Set([
  'PreToolUse',
  'PostToolUse',
  'PostToolUseFailure',
  'PermissionRequest',
  'PermissionDenied',
  'PreSkillShellCommand',
]);

/**
 * With transport `http` these go straight to the agent: the events that can fire many times per
 * turn, so no process starts for them. The rest stay command
 * hooks: SessionStart must (http hooks do not run for it), and the once-per-turn events
 * (UserPromptSubmit, Stop, SessionEnd, subagent and compaction events) start the agent again if it
 * died, so a crash costs at most the events until the next of them (marked as gaps).
 */
export const HTTP_EVENTS: ReadonlySet<string> = new Set([
  'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'Notification', 'PermissionRequest', 'PermissionDenied',
  'PreSkillShellCommand', // a shell line of a skill or slash command (2.1.332): can fire per command
]);

/**
 * The http transport leaves out PostToolBatch (one per model response): it only closes tools that
 * got no Post event a little earlier than the turn's end would, and it would add a hook call per
 * model response. The durable transport (and the plugin) keep it.
 */
export const HTTP_TRANSPORT_EVENTS: ReadonlySet<string> = new Set(HOOK_EVENTS.filter((e) => e !== 'PostToolBatch'));

/**
 * Command hooks Claude Code does not wait for (`async: true`): the events that fire per tool call or
 * per model response. The script spools the event (named by its receipt time, so the agent still
 * takes events in order) and nothing it does can change what Claude Code does, so waiting for it
 * only adds latency to every tool call. The once-per-turn and lifecycle events stay awaited: they
 * start the agent when it is down, and under `-p` Claude Code kills async hooks still running at
 * exit, so the events that end a session must be on disk before it goes on. A tool event's hook
 * has the next model call and the awaited Stop to finish in; one killed before its spool file was
 * published is a lost event, marked as a gap on its span like any other (docs/install.md).
 */
export const ASYNC_COMMAND_EVENTS: ReadonlySet<string> = new Set([...HTTP_EVENTS, 'PostToolBatch']);

export const HOOK_SCRIPT_NAME = 'claude-otel-hook';
/**
 * The plugin's hook command: the script bundled in the plugin (plugin/claude-otel/bin/), with the
 * state in the plugin's data directory (kept across plugin updates, removed by
 * `claude plugin uninstall`) unless CLAUDE_OTEL_HOME names another.
 */
export const PLUGIN_HOOK_COMMAND = `CLAUDE_OTEL_HOME="\${CLAUDE_OTEL_HOME:-\${CLAUDE_PLUGIN_DATA}}" "\${CLAUDE_PLUGIN_ROOT}/bin/${HOOK_SCRIPT_NAME}"`;
/** Names the hook script's path on this machine for the portable command (in the private settings file). */
export const HOOK_PATH_ENV = 'CLAUDE_OTEL_HOOK';
/**
 * The hook command for a settings file shared in git: it names no path of this machine. It runs
 * $CLAUDE_OTEL_HOOK (set in .claude/settings.local.json by `claude-otel install`), else
 * claude-otel-hook from PATH (`npm i -g claude-otel-bridge`); with neither it does nothing and
 * exits 0, so a teammate without claude-otel is not bothered. `command -v` is a shell built-in.
 */
export const PORTABLE_HOOK_COMMAND = `command -v "\${${HOOK_PATH_ENV}:-${HOOK_SCRIPT_NAME}}" >/dev/null 2>&1 && exec "\${${HOOK_PATH_ENV}:-${HOOK_SCRIPT_NAME}}"; exit 0`;
export const TOKEN_ENV = 'CLAUDE_OTEL_TOKEN';
export const HOOKS_URL_PATH = '/v1/hooks';
export const COMMAND_HOOK_TIMEOUT_SECONDS = 10;
export const HTTP_HOOK_TIMEOUT_SECONDS = 2;

/** Authentication of http hooks: the one place that knows Claude Code's header interpolation syntax. */
export const HTTP_HOOK_AUTH = {
  headers: { Authorization: `Bearer $${TOKEN_ENV}` },
  allowedEnvVars: [TOKEN_ENV],
} as const;

export interface CommandHook {
  type: 'command';
  command: string;
  timeout: number;
  /** Not awaited by Claude Code (ASYNC_COMMAND_EVENTS). */
  async?: true;
}

export interface HttpHook {
  type: 'http';
  url: string;
  timeout: number;
  headers: Record<string, string>;
  allowedEnvVars: string[];
}

export type OurHook = CommandHook | HttpHook;

export interface MatcherGroup {
  matcher?: string;
  hooks: OurHook[];
}

export type HookEntries = Partial<Record<HookEventName, MatcherGroup[]>>;

export interface HookEntryOptions {
  /** The shell command that runs our hook script (already quoted if needed). */
  hookCommand: string;
  /** Agent port; required for transport `http`. */
  port?: number;
  host?: string;
}

/** Quotes a path for `/bin/sh -c` when it holds anything but safe characters. */
export function shellQuote(path: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(path)) return path;
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

export function hookUrl(port: number, host = '127.0.0.1'): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}${HOOKS_URL_PATH}`;
}

function commandHook(command: string, async: boolean): CommandHook {
  const hook: CommandHook = { type: 'command', command, timeout: COMMAND_HOOK_TIMEOUT_SECONDS };
  if (async) hook.async = true;
  return hook;
}

/** The `hooks` object for a transport: one matcher group per event holding only our hook. */
export function hookEntries(transport: TransportMode, options: HookEntryOptions): HookEntries {
  if (transport === 'http' && options.port === undefined) throw new Error('hookEntries: transport http needs a port');
  const entries: HookEntries = {};
  for (const event of HOOK_EVENTS) {
    if (transport === 'http' && !HTTP_TRANSPORT_EVENTS.has(event)) continue;
    const hook: OurHook =
      transport === 'http' && HTTP_EVENTS.has(event)
        ? {
            type: 'http',
            url: hookUrl(options.port as number, options.host),
            timeout: HTTP_HOOK_TIMEOUT_SECONDS,
            headers: { ...HTTP_HOOK_AUTH.headers },
            allowedEnvVars: [...HTTP_HOOK_AUTH.allowedEnvVars],
          }
        : commandHook(options.hookCommand, ASYNC_COMMAND_EVENTS.has(event));
    entries[event] = [TOOL_MATCHER_EVENTS.has(event) ? { matcher: '*', hooks: [hook] } : { hooks: [hook] }];
  }
  return entries;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * True for a hook we wrote: the portable command, or a command running a script named
 * claude-otel-hook (from any install path, so a moved install is still replaced), or an http hook to /v1/hooks on a loopback address
 * that is either on our port or authenticates with CLAUDE_OTEL_TOKEN.
 */
export function isOurHook(hook: unknown, port?: number): boolean {
  if (typeof hook !== 'object' || hook === null) return false;
  const h = hook as Record<string, unknown>;
  if (h.type === 'command' && typeof h.command === 'string') {
    return h.command === PORTABLE_HOOK_COMMAND || new RegExp(`(^|[/\\\\'"\\s])${HOOK_SCRIPT_NAME}(['"\\s]|$)`).test(h.command);
  }
  if (h.type === 'http' && typeof h.url === 'string') {
    let url: URL;
    try {
      url = new URL(h.url);
    } catch {
      return false;
    }
    if (!LOOPBACK.has(url.hostname) || url.pathname !== HOOKS_URL_PATH) return false;
    const usesOurToken = Array.isArray(h.allowedEnvVars) && h.allowedEnvVars.includes(TOKEN_ENV);
    return usesOurToken || (port !== undefined && url.port === String(port));
  }
  return false;
}
