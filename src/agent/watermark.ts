/**
 * The export watermark (the highest journal seq below which every span was exported), persisted
 * to exported-seq every second and at stop, and the journal compaction policy that uses it.
 *
 * What compaction must keep to rebuild open spans: every event after the watermark (its spans may
 * still have to be exported), and every event of a session that is still open (the builder derives
 * the session's state from all of them). With content capture on, the bulk of an open session is
 * the captured input/output of tool calls that closed long ago: those spans were exported, so the
 * content is never needed again. Compaction strips it (input, output, long error text) from the
 * Pre/Post events of tools that are closed and whose closing event is at or below the watermark,
 * so a long captured session keeps a few hundred bytes per tool call instead of kilobytes. If the
 * journal is still above `softMaxBytes` after that, the successful Pre/PostToolUse pairs of those
 * closed, exported tools are dropped altogether (failures and Agent calls are kept: the root's
 * error count and subagent links derive from them); after a restart such a tool is just absent
 * from the builder's memory, which matters only if Claude Code repeats its Post event. Replay time
 * and memory then follow the open work, not the session's length.
 */
import { every, type Component, type Log } from './component.js';
import type { Journal } from './journal.js';
import { readNumber, writeAtomic } from './process-files.js';

export const COMPACT_FLOOR_BYTES = 4 * 1024 * 1024;
export const JOURNAL_SOFT_MAX_BYTES = 32 * 1024 * 1024;

export interface OpenState {
  sessionId: string;
  tools: { keys(): Iterable<string> };
}

export interface CompactionInput {
  watermark: number;
  open: OpenState[];
  /** Seqs that failed at replay: dropped. */
  failed?: ReadonlySet<number>;
  aggressive: boolean;
}

const TOOL_EVENTS = new Set(['PreToolUse', 'PostToolUse', 'PostToolUseFailure']);
const CLOSING = new Set(['PostToolUse', 'PostToolUseFailure']);
/** A journal line as compaction sees it: any event, read for the few fields compaction decides on. */
interface JournalLine {
  seq: number;
  name: string;
  sessionId: string;
  toolUseId?: string;
  toolName?: string;
  input?: string;
  output?: string;
  error?: string;
}

const key = (ev: Pick<JournalLine, 'sessionId' | 'toolUseId'>) => `${ev.sessionId}\u0000${ev.toolUseId}`;

const CLOSING_NAME = '"name":"PostToolUse';

/** Pass one: the tools whose closing event is at or below the watermark. `lines` may pass only the
 *  lines holding `"name":"PostToolUse` (the journal's replay filter): the others are not needed. */
export function closedAndExported(lines: (onLine: (line: string) => void, containing: string) => void, watermark: number): Set<string> {
  const closed = new Set<string>();
  lines((line) => {
    if (!line.includes(CLOSING_NAME)) return; // most lines: no parse needed
    const ev = parse(line);
    if (ev && ev.seq <= watermark && CLOSING.has(ev.name) && ev.toolUseId) closed.add(key(ev));
  }, CLOSING_NAME);
  return closed;
}

/** Pass two: what to write back for each line (undefined drops it). */
export function compactionTransform(input: CompactionInput, closed: ReadonlySet<string>): (line: string) => string | undefined {
  const live = new Set(input.open.map((s) => s.sessionId));
  const openTools = new Set(input.open.flatMap((s) => [...s.tools.keys()].map((id) => `${s.sessionId}\u0000${id}`)));
  return (line) => {
    // Most lines are decided by their head alone (seq, name, session): no parse.
    const head = JOURNAL_HEAD.exec(line);
    if (head) {
      const seq = Number(head[1]);
      if (!input.failed?.has(seq)) {
        if (seq > input.watermark) return line;
        if (!live.has(head[3]!)) return undefined;
        if (!TOOL_EVENTS.has(head[2]!)) return line;
      }
    }
    const ev = parse(line);
    if (!ev || input.failed?.has(ev.seq)) return undefined;
    if (ev.seq > input.watermark) return line;
    if (!live.has(ev.sessionId)) return undefined;
    if (!TOOL_EVENTS.has(ev.name) || !ev.toolUseId) return line;
    const k = key(ev);
    if (!closed.has(k) || openTools.has(k)) return line;
    if (input.aggressive && ev.name !== 'PostToolUseFailure' && ev.toolName !== 'Agent') return undefined;
    if (ev.input === undefined && ev.output === undefined && (ev.error === undefined || ev.error.length <= 200)) return line;
    const { input: _i, output: _o, ...rest } = ev;
    if (rest.error !== undefined) rest.error = rest.error.slice(0, 200);
    return JSON.stringify(rest);
  };
}

/**
 * The head of a journal line as the agent writes it (normalize and ingest build every event with
 * these fields first, in this order). Names and session ids with an escape in them do not match:
 * those lines are parsed.
 */
export const JOURNAL_HEAD = /^\{"seq":(\d{1,15}),"timeMs":[-\d.e+]+,"name":"([^"\\]*)","known":(?:true|false),"sessionId":"([^"\\]*)"[,}]/;

function parse(line: string): JournalLine | undefined {
  try {
    const ev = JSON.parse(line) as JournalLine;
    return typeof ev === 'object' && ev !== null && typeof ev.seq === 'number' ? ev : undefined;
  } catch {
    return undefined;
  }
}

export interface WatermarkOptions {
  file: string;
  journal: Journal;
  current(): number;
  openState(): OpenState[];
  /** Settles the exporter before the last persist (telemetry.forceFlush). */
  flush(): Promise<void>;
  log: Log;
  intervalMs?: number;
  floorBytes?: number;
  softMaxBytes?: number;
}

export interface Watermark extends Component {
  /** The watermark persisted by the last run. */
  readonly initial: number;
  persist(): void;
  compact(failed?: ReadonlySet<number>): void;
}

export function createWatermark(options: WatermarkOptions): Watermark {
  const initial = readNumber(options.file) ?? 0;
  const floor = options.floorBytes ?? COMPACT_FLOOR_BYTES;
  const softMax = options.softMaxBytes ?? JOURNAL_SOFT_MAX_BYTES;
  let persisted = initial;
  let compactedSize = 0;
  let stop: (() => void) | undefined;
  let stopped = false;

  const persist = () => {
    const mark = options.current();
    if (mark === persisted) return;
    writeAtomic(options.file, `${mark}\n`);
    persisted = mark;
  };

  const pass = (aggressive: boolean, failed?: ReadonlySet<number>) => {
    const watermark = options.current();
    const closed = closedAndExported((onLine, containing) => options.journal.replay(onLine, { containing }), watermark);
    return options.journal.rewrite(compactionTransform({ watermark, open: options.openState(), failed, aggressive }, closed));
  };

  const compact = (failed?: ReadonlySet<number>) => {
    const before = options.journal.sizeBytes();
    if (!pass(false, failed)) return;
    if (options.journal.sizeBytes() > softMax) {
      pass(true);
      options.log(`journal above ${softMax} bytes after compaction: dropped the closed, exported tool calls of open sessions (${before} → ${options.journal.sizeBytes()} bytes)`);
    }
    // Compaction re-reads the journal: next time only when it has doubled (the watermark can lag).
    compactedSize = options.journal.sizeBytes();
  };

  return {
    name: 'watermark',
    initial,
    persist,
    compact,
    start() {
      stop ??= every(options.intervalMs ?? 1000, 'watermark', () => {
        persist();
        if (options.journal.sizeBytes() > Math.max(floor, 2 * compactedSize)) compact();
      }, options.log);
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      stop?.();
      if (!stop) return; // never started: nothing of ours to settle
      await options.flush();
      try {
        persist();
      } catch (err) {
        options.log(`watermark: could not persist at stop: ${(err as Error).message}`);
      }
      compact();
    },
  };
}
