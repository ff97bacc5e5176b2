/**
 * The doctor's check for a stale installation: hooks that run a script that is no longer there (an
 * old clone or package path, a portable project hook that finds no claude-otel-hook), settings that
 * still hold an old agent token (the agent refuses those http hooks: tool events are lost), and two
 * installs firing every hook twice (the plugin and a settings install, or two different commands in
 * two scopes; Claude Code runs identical commands once).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { homePaths, readToken } from '../agent/paths.js';
import { HOOK_PATH_ENV, HOOK_SCRIPT_NAME, PLUGIN_HOOK_COMMAND, PORTABLE_HOOK_COMMAND, TOKEN_ENV, isOurHook } from '../install/hook-entries.js';
import { settingsPaths } from '../install/plan.js';
import type { CheckResult, DoctorContext } from './doctor-checks.js';

type Scope = 'user' | 'project' | 'local';

interface ScopeSettings {
  scope: Scope;
  file: string;
  /** Whether it holds a hook of ours (isOurHook: command or http), on any event. */
  hasOurHooks: boolean;
  /** Our command hooks' identities (every transport has some): command strings. */
  commands: string[];
  env: Record<string, unknown>;
  plugin?: string;
}

function read(scope: Scope, file: string, port: number | undefined): ScopeSettings | undefined {
  let s: { hooks?: Record<string, unknown>; env?: Record<string, unknown>; enabledPlugins?: Record<string, unknown> };
  try {
    s = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof s !== 'object' || s === null) return undefined;
  const commands = new Set<string>();
  let hasOurHooks = false;
  for (const groups of Object.values(s.hooks ?? {})) {
    if (!Array.isArray(groups)) continue;
    for (const g of groups as { hooks?: unknown[] }[]) {
      for (const h of Array.isArray(g?.hooks) ? g.hooks : []) {
        if (!isOurHook(h, port)) continue;
        hasOurHooks = true;
        if ((h as { type: string }).type === 'command') commands.add((h as { command: string }).command);
      }
    }
  }
  const plugin = Object.entries(s.enabledPlugins ?? {}).find(([id, on]) => on === true && id.startsWith('claude-otel@'))?.[0];
  const env = typeof s.env === 'object' && s.env !== null ? s.env : {};
  return { scope, file, hasOurHooks, commands: [...commands], env, ...(plugin ? { plugin } : {}) };
}

/** The script a command hook of ours runs: `/path/bin/claude-otel-hook` or `'/my dir/bin/claude-otel-hook'`. */
export function scriptOf(command: string): string | undefined {
  const quoted = /^'((?:[^']|'\\'')*)'$/.exec(command);
  if (quoted) return quoted[1]!.replace(/'\\''/g, "'");
  return /^\S+$/.test(command) ? command : undefined;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) if (dir && executable(join(dir, name))) return join(dir, name);
  return undefined;
}

const reinstall = (scope: Scope) => `claude-otel install --scope ${scope}${scope === 'user' ? '' : ' (in this project)'}`;

/** The settings of the user, project and local scopes that exist and parse (the one reading doctor's checks share). */
export function readScopeSettings(ctx: Pick<DoctorContext, 'userHome' | 'projectDir' | 'agentPort'>): ScopeSettings[] {
  return Object.entries(settingsPaths(ctx.userHome, ctx.projectDir)).map(([scope, file]) => read(scope as Scope, file, ctx.agentPort)).filter((s): s is ScopeSettings => s !== undefined);
}

export function checkInstall(ctx: DoctorContext, home: string): CheckResult {
  const scopes = readScopeSettings(ctx);
  const local = scopes.find((s) => s.scope === 'local');
  const problems: string[] = [];
  const fixes: string[] = [];

  // Hooks that run a script that is not there.
  for (const s of scopes) {
    for (const command of s.commands) {
      if (command === PLUGIN_HOOK_COMMAND) continue;
      if (command === PORTABLE_HOOK_COMMAND) {
        const named = local?.env[HOOK_PATH_ENV] ?? ctx.env[HOOK_PATH_ENV];
        const found = typeof named === 'string' && named ? (executable(named) ? named : undefined) : onPath(HOOK_SCRIPT_NAME, ctx.env.PATH);
        if (!found) {
          problems.push(typeof named === 'string' && named
            ? `the ${s.scope} hooks run $${HOOK_PATH_ENV} = ${named}, which is not there (an old install?): they do nothing`
            : `the ${s.scope} hooks look for ${HOOK_SCRIPT_NAME} (no $${HOOK_PATH_ENV} in .claude/settings.local.json, none on PATH): they do nothing`);
          fixes.push(`${reinstall('project')} sets ${HOOK_PATH_ENV}, or \`npm i -g claude-otel-bridge\` puts ${HOOK_SCRIPT_NAME} on PATH`);
        }
        continue;
      }
      const script = scriptOf(command);
      if (script && isAbsolute(script) && !executable(script)) {
        problems.push(`the ${s.scope} hooks run ${script}, which no longer exists (a moved or removed install): every event is lost`);
        fixes.push(`${reinstall(s.scope)} (replaces them in place)`);
      }
    }
  }

  // An old token: the agent answers 401 to http hooks that send it. The hooks' home is the one the
  // same settings file names (CLAUDE_OTEL_HOME in its env), else the doctor's.
  for (const s of scopes) {
    const sent = s.env[TOKEN_ENV];
    const named = s.env.CLAUDE_OTEL_HOME;
    const paths = homePaths(typeof named === 'string' && named ? named : home);
    const current = readToken(paths);
    if (typeof sent !== 'string' || sent === current) continue;
    problems.push(`${s.file} holds ${current ? 'an old agent token' : `a token, and ${paths.token} has none`}: the agent refuses the http hooks (401) and tool events are lost`);
    fixes.push(`${reinstall(s.scope === 'local' && scopes.some((x) => x.scope === 'project' && x.commands.length) ? 'project' : s.scope)} (writes the current token)`);
  }

  // Twice: different commands of ours for the same event run one after the other.
  const plugin = scopes.find((s) => s.plugin)?.plugin ?? (ctx.env.CLAUDE_PLUGIN_ROOT ? 'the plugin' : undefined);
  const installs = scopes.filter((s) => s.commands.some((c) => c !== PLUGIN_HOOK_COMMAND));
  const distinct = new Set(installs.flatMap((s) => s.commands));
  if (plugin && installs.length) {
    problems.push(`both ${plugin} and the hooks in scope ${installs.map((s) => s.scope).join(', ')} are installed: every hook fires twice`);
    fixes.push(`keep one: \`claude-otel uninstall --scope ${installs[0]!.scope}\`, or \`claude plugin uninstall ${plugin.startsWith('claude-otel@') ? plugin : 'claude-otel'}\``);
  } else if (distinct.size > 1) {
    problems.push(`scopes ${installs.map((s) => s.scope).join(', ')} install different hook commands (${[...distinct].join(' | ')}): every hook fires once per command`);
    fixes.push(`keep one: \`claude-otel uninstall --scope ${installs.find((s) => s.scope !== 'project')?.scope ?? installs[0]!.scope}\``);
  }

  if (problems.length === 0) {
    return { name: 'install', verdict: 'pass', detail: installs.length || plugin ? 'current: the hooks run a script that exists, the token matches, one install' : 'nothing installed' };
  }
  return { name: 'install', verdict: 'fail', detail: `stale installation: ${problems.join('; ')}`, fix: [...new Set(fixes)].join('; ') };
}
