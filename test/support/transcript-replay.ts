/**
 * The recorded real-CLI session of test/fixtures/claude-code-2.1.332/transcripts (main agent on
 * claude-opus-5-5, a foreground subagent on claude-haiku-5-5, distinct usage per response; see
 * scripts/record-transcript.ts) replayed through the real agent: the transcript rows are written to
 * a temporary Claude Code projects directory as the CLI wrote them (timestamps moved to now, gaps
 * kept), and at each row the hook Claude Code fires there is posted to the agent, built from the
 * recorded 2.1.332 hook payloads with the transcript's own ids. The agent reads the transcripts
 * and exports over OTLP to `otlpEndpoint` (a sink, a collector).
 *
 * Which hook fires where: SessionStart before the first row; UserPromptSubmit at a prompt's first
 * user row; PreToolUse at each tool_use block (in the subagent's file: with agent_id/agent_type);
 * PostToolUse(Failure) at its tool_result; SubagentStart at the subagent file's first row and
 * SubagentStop after its last; Stop after the main agent's last response; SessionEnd after the rest
 * (cost-state). That is the order docs/e2e-harness.md records for 2.1.332.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestAgent } from './agent-harness.js';

export const TRANSCRIPT_FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'claude-code-2.1.332', 'transcripts');
const HOOKS = join(import.meta.dirname, '..', 'fixtures', 'claude-code-2.1.332', 'hooks');

export interface ExpectedUsage { input_tokens: number; output_tokens: number; cache_creation_input_tokens: number; cache_read_input_tokens: number }
export interface TranscriptExpected {
  sessionId: string;
  totalCostUsd: number;
  modelUsage: Record<string, { inputTokens: number; outputTokens: number; cacheReadInputTokens: number; cacheCreationInputTokens: number; costUSD: number }>;
  responses: { agent: 'main' | 'subagent'; messageId: string; model: string; usage: ExpectedUsage; toolUseIds: string[] }[];
}
/** What Claude Code and the scripted model said about the recorded session. */
export const transcriptExpected = JSON.parse(readFileSync(join(TRANSCRIPT_FIXTURE, 'expected.json'), 'utf8')) as TranscriptExpected;

type Row = Record<string, unknown> & { type?: string; timestamp?: string; promptId?: string; message?: { content?: unknown } };
interface Line { file: 'main' | string; text: string; ms: number }
interface Step { atMs: number; lines: Line[]; payload?: Record<string, unknown> }

const hook = (name: string, overrides: Record<string, unknown>) =>
  ({ ...(JSON.parse(readFileSync(join(HOOKS, `${name}.json`), 'utf8')) as Record<string, unknown>), ...overrides });
const blocks = (r: Row): Record<string, unknown>[] => (Array.isArray(r.message?.content) ? (r.message!.content as Record<string, unknown>[]) : []);

/** Rows of one file with a time each (a row without a timestamp has its predecessor's). */
function rowsOf(path: string, file: string): { row: Row; line: Line }[] {
  let last = 0;
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((text) => {
    const row = JSON.parse(text) as Row;
    if (row.timestamp) last = Date.parse(row.timestamp);
    return { row, line: { file, text, ms: last } };
  });
}

export interface TranscriptSession {
  sessionId: string;
  agentId: string;
  promptId: string;
  /** The first row's recorded time (epoch ms): step offsets count from it. */
  firstRowMs: number;
  /** Hook payloads, each with the transcript lines written before it and its offset from the first row. */
  steps: Step[];
}

/** The hook sequence of the recorded session, for a transcript at `mainPath`. */
export function transcriptSession(mainPath: string, cwd = '/home/dev/project'): TranscriptSession {
  const sessionId = transcriptExpected.sessionId;
  const subFile = readdirSync(join(TRANSCRIPT_FIXTURE, 'subagents')).find((f) => f.endsWith('.jsonl'))!;
  const agentId = subFile.replace(/^agent-|\.jsonl$/g, '');
  const main = rowsOf(join(TRANSCRIPT_FIXTURE, 'session.jsonl'), 'main');
  const sub = rowsOf(join(TRANSCRIPT_FIXTURE, 'subagents', subFile), agentId);
  const promptId = main.find((r) => r.row.promptId)!.row.promptId!;
  const t0 = main.find((r) => r.line.ms > 0)!.line.ms;
  const base = { session_id: sessionId, transcript_path: mainPath, cwd, prompt_id: promptId };
  const inSub = { agent_id: agentId, agent_type: 'general-purpose' };
  // Merge the files by time (stable: a file's own order is kept).
  const all = [...main, ...sub].map((r, i) => ({ ...r, i })).sort((a, b) => a.line.ms - b.line.ms || a.i - b.i);
  const toolUses = new Map<string, Record<string, unknown>>();
  const steps: Step[] = [{ atMs: 0, lines: [], payload: hook('SessionStart', { ...base, prompt_id: undefined }) }];
  let pending: Line[] = [];
  const emit = (ms: number, payload: Record<string, unknown>) => {
    steps.push({ atMs: ms - t0, lines: pending, payload });
    pending = [];
  };
  const lastMainResponse = Math.max(...main.map((r, i) => (r.row.type === 'assistant' ? i : -1)));
  let prompted = false;
  let subStarted = false;
  for (const { row, line } of all) {
    const fromSub = line.file !== 'main';
    if (fromSub && !subStarted) {
      subStarted = true;
      emit(line.ms, hook('SubagentStart', { ...base, ...inSub }));
    }
    pending.push(line);
    const ms = Math.max(line.ms, t0);
    if (!fromSub && row.type === 'user' && !prompted && !blocks(row).some((b) => b.type === 'tool_result')) {
      prompted = true;
      emit(ms, hook('UserPromptSubmit', { ...base, prompt: 'go' }));
    }
    for (const b of row.type === 'assistant' ? blocks(row) : []) {
      if (b.type !== 'tool_use') continue;
      toolUses.set(b.id as string, b);
      emit(ms, hook(fromSub ? 'PreToolUse.in-subagent' : 'PreToolUse', { ...base, ...(fromSub ? inSub : {}), tool_name: b.name, tool_input: b.input, tool_use_id: b.id }));
    }
    for (const b of row.type === 'user' ? blocks(row) : []) {
      if (b.type !== 'tool_result') continue;
      const use = toolUses.get(b.tool_use_id as string)!;
      const common = { ...base, ...(fromSub ? inSub : {}), tool_name: use.name, tool_input: use.input, tool_use_id: use.id };
      if (b.is_error) emit(ms, hook('PostToolUseFailure.exit3', { ...common, error: String(b.content) }));
      else if (use.name === 'Agent') emit(ms, hook('PostToolUse.Agent', { ...common, tool_response: { status: 'completed', agentId, agentType: 'general-purpose' } }));
      else emit(ms, hook(fromSub ? 'PostToolUse.in-subagent' : 'PostToolUse', { ...common, tool_response: { stdout: String(b.content), stderr: '', interrupted: false } }));
    }
    if (fromSub && line === sub.at(-1)!.line) {
      emit(ms, hook('SubagentStop', { ...base, ...inSub, agent_transcript_path: join(mainPath.replace(/\.jsonl$/, ''), 'subagents', subFile), last_assistant_message: 'sub done' }));
    }
    if (!fromSub && line === main[lastMainResponse]!.line) emit(ms, hook('Stop', { ...base, last_assistant_message: 'done' }));
  }
  const end = all.at(-1)!.line.ms;
  emit(end, hook('SessionEnd', { ...base, reason: 'other' }));
  return { sessionId, agentId, promptId, firstRowMs: t0, steps };
}

/** A row's timestamp moved by `shiftMs` (the rest of the row byte for byte). */
function shifted(text: string, shiftMs: number): string {
  return text.replace(/"timestamp":"([^"]+)"/, (_, ts: string) => `"timestamp":"${new Date(Date.parse(ts) + shiftMs).toISOString()}"`);
}

export interface ReplayResult {
  sessionId: string;
  agentId: string;
  promptId: string;
  /** When the first transcript row was written (epoch ms); the rows' timestamps start there. */
  startedMs: number;
  agentHome: string;
}

/**
 * Replays the session through a real agent (in-process, `testing` profile) exporting to
 * `otlpEndpoint` (without one: only to its local store, `<agentHome>/store`), in real time
 * (about 3 s), and stops the agent (which flushes its export).
 */
export async function replayTranscriptSession(options: { otlpEndpoint?: string; otlpHeaders?: Record<string, string> } = {}): Promise<ReplayResult> {
  const root = mkdtempSync(join(tmpdir(), 'cob-transcript-'));
  const home = join(root, 'home');
  const agentHome = join(root, 'otel');
  const projectDir = join(home, '.claude', 'projects', '-home-dev-project');
  const sessionId = transcriptExpected.sessionId;
  const mainPath = join(projectDir, `${sessionId}.jsonl`);
  const session = transcriptSession(mainPath);
  mkdirSync(join(projectDir, sessionId, 'subagents'), { recursive: true });
  mkdirSync(agentHome, { recursive: true });
  const exporting = options.otlpEndpoint ? { export: { otlpEndpoint: options.otlpEndpoint, otlpHeaders: options.otlpHeaders ?? {} } } : {};
  writeFileSync(join(agentHome, 'config.json'), JSON.stringify({ profile: 'testing', ...exporting }));
  const agent = await startTestAgent({ home: agentHome, env: { HOME: home } });
  const startedMs = Date.now();
  const shift = startedMs - session.firstRowMs;
  try {
    for (const step of session.steps) {
      const wait = startedMs + step.atMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (const line of step.lines) {
        const path = line.file === 'main' ? mainPath : join(projectDir, sessionId, 'subagents', `agent-${line.file}.jsonl`);
        appendFileSync(path, `${shifted(line.text, shift)}\n`);
      }
      const res = await agent.post(JSON.stringify(step.payload));
      if (res.status !== 200) throw new Error(`agent answered ${res.status} to ${String(step.payload!.hook_event_name)}: ${await res.text()}`);
    }
  } finally {
    await agent.stop();
  }
  return { sessionId, agentId: session.agentId, promptId: session.promptId, startedMs, agentHome };
}
