/** CLI glue for `claude-otel install` and `claude-otel uninstall`; returns exit codes. */
import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import type { CommandIo } from '../cli/io.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { TRANSPORT_MODES, type TransportMode } from '../config/schema.js';
import { HOOK_SCRIPT_NAME } from './hook-entries.js';
import { describeHolder, holderOf, type PortListener } from '../agent/port-owner.js';
import { currentUid } from '../shared/home.js';
import { packagePath } from '../shared/package-root.js';
import { applyPurge, planPurge } from './purge.js';
import {
  InstallError,
  applyInstall,
  applyUninstall,
  formatPlan,
  planInstall,
  planUninstall,
  type InstallPlan,
  type InstallScope,
} from './plan.js';

const SCOPES: readonly InstallScope[] = ['user', 'project', 'local'];

/** The CLI's io, plus the working directory (default process.cwd()) used when --project-dir is absent. */
export type InstallIo = CommandIo & { cwd?: string; /** Who listens on a port (tests); default: /proc/net/tcp. */ portHolder?: (host: string, port: number) => PortListener | undefined };

export const INSTALL_USAGE = `Usage: claude-otel install [--scope user|project|local] [--transport http|durable]
                          [--project-dir DIR] [--port N] [--hook-script PATH] [--dry-run]
       claude-otel uninstall [--scope user|project|local] [--project-dir DIR] [--purge] [--dry-run]

  --scope        user: ~/.claude/settings.json (default); project: .claude/settings.json, shared
                 in git, naming no machine path (this machine's script path and the token go to
                 .claude/settings.local.json); local: .claude/settings.local.json
  --transport    http (default from config; durable for --scope project): tool events go straight
                 to the agent over HTTP; durable: every event goes through the hook script and its
                 on-disk spool
  --purge        (uninstall) also remove our state in CLAUDE_OTEL_HOME (default ~/.claude-otel):
                 token, spool, local store, journal, logs; stops its agent first. config.json and
                 files we did not write stay. Without --purge uninstall leaves the home alone.
  --dry-run      print the changes as a diff and change nothing
`;

/** bin/claude-otel-hook of this package (the repository's, or the bundled plugin's). */
export function defaultHookScript(): string {
  return packagePath('bin', HOOK_SCRIPT_NAME);
}

interface ParsedArgs {
  scope: InstallScope;
  transport?: TransportMode;
  projectDir: string;
  port?: number;
  hookScript?: string;
  dryRun: boolean;
  purge: boolean;
}

function parse(argv: readonly string[], io: InstallIo, install: boolean): ParsedArgs | string {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        scope: { type: 'string' },
        transport: { type: 'string' },
        'project-dir': { type: 'string' },
        port: { type: 'string' },
        'hook-script': { type: 'string' },
        'dry-run': { type: 'boolean' },
        purge: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return (err as Error).message;
  }
  if (values.help) return 'help';
  const scope = (values.scope ?? 'user') as string;
  if (!(SCOPES as readonly string[]).includes(scope)) return `--scope must be user, project or local, got "${scope}"`;
  const transport = values.transport as string | undefined;
  if (transport !== undefined && !(TRANSPORT_MODES as readonly string[]).includes(transport)) {
    return `--transport must be http or durable, got "${transport}"`;
  }
  if (install && values.purge) return '--purge is an option of uninstall';
  if (!install && (transport !== undefined || values['hook-script'] !== undefined)) {
    return 'uninstall takes no --transport or --hook-script: it removes our hooks of either kind';
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `--port must be a port number, got "${String(values.port)}"`;
  }
  return {
    scope: scope as InstallScope,
    ...(transport ? { transport: transport as TransportMode } : {}),
    projectDir: (values['project-dir'] as string | undefined) ?? io.cwd ?? process.cwd(),
    ...(port !== undefined ? { port } : {}),
    ...(typeof values['hook-script'] === 'string' ? { hookScript: values['hook-script'] } : {}),
    dryRun: values['dry-run'] === true,
    purge: values.purge === true,
  };
}

function report(plan: InstallPlan, io: InstallIo, dryRun: boolean): number {
  io.stdout(formatPlan(plan));
  if (dryRun) {
    io.stdout('Dry run: nothing was changed.\n');
    return 0;
  }
  const clock = io.now;
  const applyOptions = clock ? { now: () => new Date(clock()) } : {};
  const result = plan.action === 'install' ? applyInstall(plan, applyOptions) : applyUninstall(plan, applyOptions);
  for (const backup of result.backups) io.stdout(`Backup: ${backup}\n`);
  for (const file of result.scrubbed ?? []) io.stdout(`Removed the token from the old backup ${file}\n`);
  if (result.tokenCreated) io.stdout(`Created token: ${result.tokenCreated}\n`);
  io.stdout(
    result.written.length === 0
      ? `Nothing to change: claude-otel is already ${plan.action === 'install' ? 'installed' : 'uninstalled'} (scope ${plan.scope}).\n`
      : `${plan.action === 'install' ? 'Installed' : 'Uninstalled'} (scope ${plan.scope}): ${result.written.join(', ')}\n`,
  );
  return 0;
}

/** --purge: our state in the home, after the hooks are gone (so no hook recreates it meanwhile). */
function purge(home: string, userHome: string, io: InstallIo, dryRun: boolean): number {
  const plan = planPurge(home, userHome);
  if (plan.refused) {
    io.stderr(`claude-otel uninstall --purge: ${plan.refused}; nothing was removed\n`);
    return 1;
  }
  if (plan.remove.length === 0 && plan.keep.length === 0) {
    io.stdout(`Nothing to purge: ${home} does not exist.\n`);
    return 0;
  }
  const kept = plan.keep.length ? `; kept: ${plan.keep.join(', ')}` : '';
  if (dryRun) {
    io.stdout(`Would remove: ${plan.remove.join(', ') || 'nothing'}${plan.agentPid ? ` (after stopping the agent, pid ${plan.agentPid})` : ''}${kept}\n`);
    return 0;
  }
  try {
    const r = applyPurge(plan);
    if (r.stoppedAgent) io.stdout(`Stopped the agent (pid ${r.stoppedAgent}).\n`);
    io.stdout(`Purged ${home}: ${r.removed.map((p) => p.slice(home.length + 1)).join(', ') || 'nothing of ours'}${r.homeRemoved ? ` (and ${home} itself, now empty)` : ''}${kept}\n`);
  } catch (err) {
    io.stderr(`claude-otel uninstall --purge: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}

function run(argv: readonly string[], io: InstallIo, install: boolean): number {
  const args = parse(argv, io, install);
  if (args === 'help') {
    io.stdout(INSTALL_USAGE);
    return 0;
  }
  if (typeof args === 'string') {
    io.stderr(`claude-otel ${install ? 'install' : 'uninstall'}: ${args}\n${INSTALL_USAGE}`);
    return 2;
  }
  const home = io.homedir ? io.homedir() : homedir();
  try {
    const { config } = loadConfig({ env: io.env, home });
    const port = args.port ?? config.agent.port;
    // A shared project file is for teammates whose agents have their own tokens: durable needs none.
    let transport = args.transport ?? (args.scope === 'project' ? 'durable' : config.transport.mode);
    if (install && transport === 'http') {
      // The http hooks send the token and raw payloads to whoever holds the port: never to another user.
      const holder = (io.portHolder ?? holderOf)(config.agent.host, port);
      if (holder && holder.uid !== currentUid()) {
        io.stdout(`Port ${config.agent.host}:${port} is held by another user (${describeHolder(holder)}): http hooks would send it the agent token and tool payloads. Installing the durable transport instead (command hooks only, nothing sent over TCP); free the port or choose another --port to use http.\n`);
        transport = 'durable';
      }
    }
    const plan = install
      ? planInstall({
          scope: args.scope,
          transport,
          projectDir: args.projectDir,
          home,
          hookScript: args.hookScript ?? defaultHookScript(),
          port,
          stateDir: config.home,
        })
      : planUninstall({ scope: args.scope, projectDir: args.projectDir, home, port });
    const code = report(plan, io, args.dryRun);
    return args.purge ? purge(config.home, home, io, args.dryRun) : code;
  } catch (err) {
    if (err instanceof InstallError || err instanceof ConfigError) {
      io.stderr(`claude-otel ${install ? 'install' : 'uninstall'}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export function runInstallCommand(argv: readonly string[], io: InstallIo): number {
  return run(argv, io, true);
}

export function runUninstallCommand(argv: readonly string[], io: InstallIo): number {
  return run(argv, io, false);
}
