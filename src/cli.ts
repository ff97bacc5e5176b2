#!/usr/bin/env node
/**
 * claude-otel: one binary, one module per command, loaded on demand so that `claude-otel hook`
 * (run once per Claude Code event) loads nothing but Node built-ins.
 */
import type { CommandIo } from './cli/io.js';

type Command = (argv: string[], io: CommandIo) => Promise<number> | number;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  agent: { summary: 'run the local agent in the foreground', load: async () => (await import('./cli/agent-command.js')).runAgentCommand },
  hook: { summary: 'read one hook event on stdin and hand it to the agent (command hook)', load: async () => async () => (await import('./hook/hook-command.js')).runHookCommand() },
  install: { summary: 'add our hooks to Claude Code settings', load: async () => { const { runInstallCommand } = await import('./install/commands.js'); return (argv, io) => runInstallCommand(argv, plainIo(io)); } },
  uninstall: { summary: 'remove exactly our hooks from Claude Code settings', load: async () => { const { runUninstallCommand } = await import('./install/commands.js'); return (argv, io) => runUninstallCommand(argv, plainIo(io)); } },
  config: { summary: 'print the effective configuration and where each value came from', load: async () => { const { runConfigCommand } = await import('./config/command.js'); return (argv, io) => runConfigCommand(argv, plainIo(io)); } },
  sessions: { summary: 'list recent sessions from the local store', load: async () => (await import('./view/commands.js')).runSessionsCommand },
  trace: { summary: 'show one session as a terminal waterfall', load: async () => (await import('./view/commands.js')).runTraceCommand },
  status: { summary: 'open sessions and counters of the running agent', load: async () => (await import('./cli/status-command.js')).runStatusCommand },
  doctor: { summary: 'check the installation, agent, token, endpoint and backlog', load: async () => (await import('./cli/doctor-command.js')).runDoctorCommand },
  demo: { summary: 'replay a recorded Claude Code session through the hook path and show its trace', load: async () => (await import('./cli/demo-command.js')).runDemoCommand },
  ui: { summary: 'serve the web view of sessions and their traces on loopback', load: async () => (await import('./cli/ui-command.js')).runUiCommand },
  sink: { summary: 'run the sink service (Postgres, Redis Streams, webhooks) behind the collector', load: async () => { const { runSinkCommand } = await import('./sink/index.js'); return (argv) => runSinkCommand(argv); } },
};

/** The subset of CommandIo every command module understands. */
const plainIo = (io: CommandIo) => ({ stdout: io.stdout, stderr: io.stderr, env: io.env });

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `usage: claude-otel <command> [options]\n\n${Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === 'hook') {
    // The hot path: no io object, no other module.
    return (await import('./hook/hook-command.js')).runHookCommand();
  }
  const { consoleIo } = await import('./cli/io.js');
  const io = consoleIo();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`claude-otel: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (process.argv[2] !== 'hook') process.stderr.write(`claude-otel: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = process.argv[2] === 'hook' ? 0 : 1;
  },
);
