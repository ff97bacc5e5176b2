import { parseArgs } from 'node:util';
import { findSession, listSessions } from '../store/session-reader.js';
import { defaultStoreDir } from '../store/store-dir.js';
import { renderSessionsTable } from './sessions.js';
import { withSlowNotice } from './slow-notice.js';
import { toTraceTree } from './trace-tree.js';
import { renderWaterfall } from './waterfall.js';
import type { CommandIo } from '../cli/io.js';

export type { CommandIo } from '../cli/io.js';

/** 0 ok · 1 session not found (or prefix ambiguous) · 2 usage error */
export type ExitCode = 0 | 1 | 2;

const SESSIONS_USAGE = `usage: claude-otel sessions [--dir PATH] [--limit N] [--json]
  Lists the sessions kept in the local store, newest first.
  --dir PATH   store directory (default: $CLAUDE_OTEL_HOME/store, else ~/.claude-otel/store)
  --limit N    show at most N sessions (default 20; 0 = all)
  --json       print the list as JSON
`;

const TRACE_USAGE = `usage: claude-otel trace [SESSION | --last] [--dir PATH] [--json] [--width N] [--color | --no-color]
  Shows one session's spans as a waterfall. SESSION is a session id or a unique prefix of one;
  without it (or with --last) the newest session is shown.
  --json       print the span tree as JSON instead
`;

interface Common {
  dir: string;
  json: boolean;
}

function parse(
  argv: readonly string[],
  io: CommandIo,
  extra: Record<string, { type: 'string' | 'boolean' }>,
): { common: Common; values: Record<string, string | boolean | undefined>; positionals: string[] } | string {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        dir: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...extra,
      },
    });
    const v = values as Record<string, string | boolean | undefined>;
    const dir = typeof v['dir'] === 'string' && v['dir'] ? v['dir'] : defaultStoreDir(io.env, io.homedir);
    return { common: { dir, json: v['json'] === true }, values: v, positionals };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function positiveInt(text: string | boolean | undefined, fallback: number): number | undefined {
  if (text === undefined || typeof text === 'boolean') return fallback;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** `claude-otel sessions` */
export async function runSessionsCommand(argv: readonly string[], io: CommandIo): Promise<ExitCode> {
  const parsed = parse(argv, io, { limit: { type: 'string' } });
  if (typeof parsed === 'string') {
    io.stderr(`${parsed}\n${SESSIONS_USAGE}`);
    return 2;
  }
  if (parsed.values['help']) {
    io.stdout(SESSIONS_USAGE);
    return 0;
  }
  const limit = positiveInt(parsed.values['limit'], 20);
  if (limit === undefined || parsed.positionals.length > 0) {
    io.stderr(SESSIONS_USAGE);
    return 2;
  }
  const { dir, json } = parsed.common;
  const all = await withSlowNotice(io, 'reading the local store', () => listSessions(dir));
  const shown = limit === 0 ? all : all.slice(0, limit);
  if (json) {
    io.stdout(JSON.stringify(shown, null, 2) + '\n');
    return 0;
  }
  if (all.length === 0) {
    io.stdout(`No sessions in ${dir}.\n`);
    return 0;
  }
  io.stdout(renderSessionsTable(shown, { width: io.columns ?? 80, color: useColor(io) }));
  if (shown.length < all.length) {
    io.stdout(`(${all.length - shown.length} older not shown; --limit 0 shows all)\n`);
  }
  return 0;
}

/** `claude-otel trace` */
export async function runTraceCommand(argv: readonly string[], io: CommandIo): Promise<ExitCode> {
  const parsed = parse(argv, io, {
    last: { type: 'boolean' },
    width: { type: 'string' },
    color: { type: 'boolean' },
    'no-color': { type: 'boolean' },
  });
  if (typeof parsed === 'string') {
    io.stderr(`${parsed}\n${TRACE_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values['help']) {
    io.stdout(TRACE_USAGE);
    return 0;
  }
  const width = positiveInt(values['width'], io.columns ?? 80);
  if (positionals.length > 1 || (positionals.length === 1 && values['last']) || width === undefined) {
    io.stderr(TRACE_USAGE);
    return 2;
  }
  const query = positionals[0] ?? 'last';
  const { dir, json } = parsed.common;
  const result = await withSlowNotice(io, 'reading the local store', () => findSession(dir, query));
  if (result.status === 'not_found') {
    io.stderr(query === 'last' ? `No sessions in ${dir}.\n` : `No session matching '${query}' in ${dir}.\n`);
    return 1;
  }
  if (result.status === 'ambiguous') {
    const list = result.candidates.slice(0, 10).map((c) => `  ${c}\n`).join('');
    io.stderr(`'${query}' matches ${result.candidates.length} sessions; give more of the id:\n${list}`);
    return 1;
  }
  if (json) {
    io.stdout(JSON.stringify(toTraceTree(result.spans), null, 2) + '\n');
    return 0;
  }
  const color = values['no-color'] ? false : values['color'] ? true : useColor(io);
  io.stdout(renderWaterfall(result.spans, { width, color, now: (io.now ?? Date.now)() }));
  return 0;
}

function useColor(io: CommandIo): boolean {
  if (io.env['NO_COLOR']) return false;
  if (io.env['FORCE_COLOR'] && io.env['FORCE_COLOR'] !== '0') return true;
  return io.stdoutIsTTY === true && io.env['TERM'] !== 'dumb';
}
