/**
 * Transcripts for bench/agent-load --transcripts: what Claude Code 2.1.332 writes to a session's
 * transcript, templated from the real records in test/fixtures/claude-code-2.1.332/transcripts/
 * session.jsonl (every line of the fixture is used as it was written, only ids, times and usage
 * numbers are replaced). A session of T tools, one tool call per model step (as the hook-cost bench's
 * scripted model does), gets, before the hook event that Claude Code fires after writing them:
 *
 *   UserPromptSubmit  queue-operation ×2, the user prompt row (its promptId), attachments, atis-latch
 *   PreToolUse i      [attachment], api-request(-shape/-blob ×2 on the first), tools-used (first),
 *                     the assistant row whose tool_use id is the event's tool_use_id (usage varies by i),
 *                     last-prompt, atis-latch
 *   PostToolBatch i   the user tool_result row of that tool_use id (completes response i)
 *   Stop              api-request, the final assistant text row (end_turn), last-prompt
 *   SessionEnd        cost-state
 *
 * so T + 1 responses (chat spans) per session, each under the session's turn.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Rec = Record<string, any>;

/** A record as a string template: "@KEY@" inside strings, "#KEY#" (quotes included) for numbers. */
type Template = string;

const fillRe = /"#(\w+)#"|@(\w+)@/g;
/** A template split once into literal, key, literal, key, ..., literal (the generator's own CPU shares the machine with the agent). */
interface Compiled { parts: string[]; hasUuid: boolean }
const compiled = new Map<Template, Compiled>();
function compile(tpl: Template): Compiled {
  let c = compiled.get(tpl);
  if (!c) {
    const parts: string[] = [];
    let at = 0;
    let hasUuid = false;
    for (const m of tpl.matchAll(fillRe)) {
      const key = (m[1] ?? m[2])!;
      parts.push(tpl.slice(at, m.index), key);
      hasUuid ||= key === 'UUID';
      at = m.index + m[0].length;
    }
    parts.push(tpl.slice(at));
    c = { parts, hasUuid };
    compiled.set(tpl, c);
  }
  return c;
}
function fill({ parts }: Compiled, vars: Record<string, string | number>): string {
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) out += String(vars[parts[i]!]) + parts[i + 1]!;
  return out;
}

export interface TranscriptTemplates {
  prelude: Template[];
  firstRequestExtras: Template[];
  attachment: Template;
  firstApiRequest: Template;
  apiRequest: Template;
  toolsUsed: Template;
  toolUse: Template;
  lastPrompt: Template;
  atisLatch: Template;
  toolResult: Template;
  finalText: Template;
  costState: Template;
}

/** Reads the fixture and turns the lines this generator uses into templates (throws if the fixture changed shape). */
export function loadTemplates(fixture: string): TranscriptTemplates {
  const lines = readFileSync(fixture, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const recs = lines.map((l) => JSON.parse(l) as Rec);
  const sid = recs[0]!.sessionId as string;
  const promptRow = recs.find((r) => r.type === 'user' && typeof r.message?.content === 'string')!;
  const pid = promptRow.promptId as string;
  const tpl = (r: Rec, edit: (r: Rec) => void = () => {}): Template => {
    const copy = JSON.parse(JSON.stringify(r).split(sid).join('@SID@').split(pid).join('@PID@')) as Rec;
    if ('uuid' in copy) copy.uuid = '@UUID@';
    if ('parentUuid' in copy) copy.parentUuid = '@PARENT@';
    if ('timestamp' in copy) copy.timestamp = '@TS@';
    edit(copy);
    return JSON.stringify(copy);
  };
  const first = (pred: (r: Rec) => boolean, what: string): Rec => {
    const r = recs.find(pred);
    if (!r) throw new Error(`transcript fixture ${fixture}: no ${what}`);
    return r;
  };
  const promptIdx = recs.indexOf(promptRow);
  const shapeIdx = recs.findIndex((r) => r.type === 'api-request-shape');
  if (promptIdx < 0 || shapeIdx < promptIdx) throw new Error(`transcript fixture ${fixture}: unexpected order`);
  const isToolUse = (r: Rec) => r.type === 'assistant' && r.message?.content?.[0]?.type === 'tool_use';
  const usage = (r: Rec) => {
    const u = r.message.usage as Rec;
    u.input_tokens = '#IN#';
    u.output_tokens = '#OUT#';
    u.cache_read_input_tokens = '#CR#';
    u.cache_creation_input_tokens = '#CC#';
  };
  const apiReq = (r: Rec) => {
    r.id = '@REQ@';
    r.timestamp = '@TREQ@';
    if ('base' in r) r.base = '@PREVREQ@';
  };
  return {
    // everything Claude Code writes before the first request: queue operations, the prompt, attachments
    prelude: recs.slice(0, shapeIdx).map((r) => tpl(r)),
    firstRequestExtras: recs.slice(shapeIdx, recs.findIndex((r) => r.type === 'api-request')).map((r) => tpl(r, (c) => { if ('timestamp' in c) c.timestamp = '@TREQ@'; })),
    attachment: tpl(recs.slice(promptIdx + 1).find((r) => r.type === 'attachment')!),
    firstApiRequest: tpl(first((r) => r.type === 'api-request' && !('base' in r), 'first api-request'), apiReq),
    apiRequest: tpl(first((r) => r.type === 'api-request' && 'base' in r, 'api-request with base'), apiReq),
    toolsUsed: tpl(first((r) => r.type === 'tools-used', 'tools-used')),
    toolUse: tpl(first(isToolUse, 'tool_use row'), (c) => {
      c.message.id = '@MSG@';
      c.message.content[0].id = '@TID@';
      c.requestRef = '@REQ@';
      usage(c);
    }),
    lastPrompt: tpl(first((r) => r.type === 'last-prompt', 'last-prompt'), (c) => (c.leafUuid = '@PARENT@')),
    atisLatch: tpl(first((r) => r.type === 'atis-latch', 'atis-latch')),
    toolResult: tpl(first((r) => r.type === 'user' && r.message?.content?.[0]?.type === 'tool_result' && typeof r.message.content[0].content === 'string', 'tool_result row'), (c) => {
      c.message.content[0].tool_use_id = '@TID@';
      c.sourceToolAssistantUUID = '@AUUID@';
    }),
    finalText: tpl(first((r) => r.type === 'assistant' && r.message?.stop_reason === 'end_turn', 'end_turn row'), (c) => {
      c.message.id = '@MSG@';
      c.requestRef = '@REQ@';
      usage(c);
    }),
    costState: tpl(first((r) => r.type === 'cost-state', 'cost-state'), (c) => void (c.startTime = '#START#')),
  };
}

/** Responses (chat spans) per session of `tools` tool calls. */
export const chatCallsPerSession = (tools: number) => tools + 1;

/** The transcript of one session, written to `path` step by step (one fd per session, closed at the end). */
export class SessionTranscript {
  private fd: number | undefined;
  private parent = '';
  private lastMs = Date.now();
  private req = '';
  private assistantUuid = '';
  bytes = 0;
  records = 0;

  constructor(
    private readonly t: TranscriptTemplates,
    readonly path: string,
    private readonly sid: string,
    private readonly pid: string,
  ) {}

  private write(tpls: Template[], vars: Record<string, string | number> = {}) {
    this.fd ??= openSync(this.path, 'a', 0o600);
    const now = Date.now();
    const ts = new Date(now).toISOString();
    let out = '';
    const v: Record<string, string | number> = { SID: this.sid, PID: this.pid, TS: ts, TREQ: new Date(this.lastMs).toISOString(), UUID: '', PARENT: '', START: now, ...vars };
    for (const tpl of tpls) {
      const c = compile(tpl);
      const uuid = c.hasUuid ? randomUUID() : '';
      v.UUID = uuid;
      v.PARENT = this.parent;
      out += `${fill(c, v)}\n`;
      if (uuid) {
        this.parent = uuid;
        if (tpl === this.t.toolUse || tpl === this.t.finalText) this.assistantUuid = uuid;
      }
    }
    this.lastMs = now;
    this.bytes += writeSync(this.fd, out);
    this.records += tpls.length;
  }

  private response(i: number, body: Template, vars: Record<string, string | number>) {
    const prev = this.req;
    this.req = randomUUID();
    const usage = { IN: 101 + 100 * i, OUT: 12 + 10 * i, CR: 1003 + 1000 * i, CC: 54 + 50 * i };
    const msg = `msg_${this.sid.replaceAll('-', '').slice(0, 16)}${i}`;
    const req: Template[] = i === 0 ? [...this.t.firstRequestExtras, this.t.firstApiRequest] : [this.t.attachment, this.t.apiRequest];
    this.write([...req, ...(i === 0 ? [this.t.toolsUsed] : []), body, this.t.lastPrompt, this.t.atisLatch], { REQ: this.req, PREVREQ: prev, MSG: msg, ...usage, ...vars });
  }

  /** Before UserPromptSubmit. */
  prompt() {
    this.write(this.t.prelude);
  }
  /** Before PreToolUse i: the response that asked for tool `tid`. */
  toolCall(i: number, tid: string) {
    this.response(i, this.t.toolUse, { TID: tid });
  }
  /** Before PostToolBatch i: the tool's result row. */
  toolResult(tid: string) {
    this.write([this.t.toolResult], { TID: tid, AUUID: this.assistantUuid });
  }
  /** Before Stop: the final text response. */
  final(i: number) {
    this.response(i, this.t.finalText, {});
  }
  /** Before SessionEnd: Claude Code's cost state; the file is complete. */
  end() {
    this.write([this.t.costState]);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The fixture the templates come from, relative to the repository root. */
export const TRANSCRIPT_FIXTURE = join('test', 'fixtures', 'claude-code-2.1.332', 'transcripts', 'session.jsonl');
/** The project directory name under `<config dir>/projects` (a cwd of /home/dev/project). */
export const PROJECT_DIR = '-home-dev-project';

/**
 * The hook events of one session of `tools` tool calls, in order, each yielded once `w` holds what
 * Claude Code writes before it (the transcript is complete before SessionEnd): SessionStart,
 * UserPromptSubmit, tools × (PreToolUse, PostToolUse, PostToolBatch), Stop, SessionEnd.
 */
export function* transcriptSteps(w: SessionTranscript, tools: number, toolUseId: (i: number) => string): Generator<{ name: string; toolUseId?: string }> {
  yield { name: 'SessionStart' };
  w.prompt();
  yield { name: 'UserPromptSubmit' };
  for (let i = 0; i < tools; i++) {
    const tid = toolUseId(i);
    w.toolCall(i, tid);
    yield { name: 'PreToolUse', toolUseId: tid };
    yield { name: 'PostToolUse', toolUseId: tid };
    w.toolResult(tid);
    yield { name: 'PostToolBatch', toolUseId: tid };
  }
  w.final(tools);
  yield { name: 'Stop' };
  w.end();
  yield { name: 'SessionEnd' };
}

/** `<root>/<project dir>/<session>.jsonl`, the only shape the agent accepts (src/transcript/paths.ts). */
export const transcriptPath = (projectDir: string, sid: string) => join(projectDir, `${sid}.jsonl`);
