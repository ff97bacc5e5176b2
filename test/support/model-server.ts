// A scripted stand-in for the Anthropic Messages API, for driving the real Claude Code CLI in tests.
// Each POST /v1/messages is answered by a script function that sees the parsed request; the server
// renders the chosen reply as SSE (when `stream: true`) or JSON, and records what it issued.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
}

/** Usage numbers of one response, as the Messages API reports them. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/** Optional per-response details: the usage it reports and the model it names (default: the request's). */
export interface ReplyMeta {
  usage?: Usage;
  model?: string;
}

/** What the model answers to one request. */
export type Reply =
  | ({ kind: 'text'; text: string } & ReplyMeta)
  | ({ kind: 'tools'; calls: ToolCall[]; text?: string } & ReplyMeta)
  | { kind: 'error'; status: number; errorType: string; message: string };

/** The same reply, reporting `inputTokens` of context used (e.g. near the window: auto-compaction). */
export const withInputTokens = (reply: Reply, inputTokens: number): Reply =>
  reply.kind === 'error' ? reply : { ...reply, usage: { ...DEFAULT_USAGE, ...reply.usage, input_tokens: inputTokens } };

export const text = (t: string): Reply => ({ kind: 'text', text: t });
export const tools = (...calls: ToolCall[]): Reply => ({ kind: 'tools', calls });
export const tool = (name: string, input: Record<string, unknown>): ToolCall => ({ name, input });
export const bash = (command: string, description = command): ToolCall =>
  tool('Bash', { command, description });
/** The same reply, reporting these usage numbers (and, optionally, this response model). */
export const withUsage = <R extends Reply>(reply: R, usage: Usage, model?: string): R =>
  reply.kind === 'error' ? reply : { ...reply, usage, ...(model ? { model } : {}) };
export const DEFAULT_USAGE: Usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
/** 529 → Claude Code retries (see `CLAUDE_CODE_MAX_RETRIES`), then StopFailure `server_error`;
 *  400 → no retry, StopFailure `unknown`. */
export const apiError = (status: number, message = `mock error ${status}`): Reply => ({
  kind: 'error',
  status,
  errorType: status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error',
  message,
});

/** `compact`: the summary request of a compaction (manual `/compact` or auto-compaction). */
export type Agent = 'main' | 'subagent' | 'side' | 'compact';

/** The marker of Claude Code's compaction request (its last user message), 2.1.332. */
export const COMPACT_MARKER = 'create a detailed summary of the conversation';

/** A request as the script sees it. */
export interface ModelRequest {
  /** 0-based order of arrival over all /v1/messages requests. */
  index: number;
  body: MessagesBody;
  /** `subagent` when the first system block says `cc_is_subagent=true`; `compact` for the summary
   *  request of a compaction; `side` for tool-less helper queries (titles) that Claude Code may
   *  send; else `main`. */
  agent: Agent;
  /** Text of the first user message: for a subagent, the prompt the Agent tool gave it. */
  firstUserText: string;
  /** Text of the latest user message that is not only tool results (the prompt of this turn). */
  promptText: string;
  /** Assistant messages after that prompt: 0 for the first model call of a turn, 1 after the
   *  first tool round, ... Derived from the messages, so retries and resumes stay consistent. */
  step: number;
  toolNames: string[];
}

export interface MessagesBody {
  model?: string;
  stream?: boolean;
  system?: string | Array<{ type: string; text?: string }>;
  messages?: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
  tools?: Array<{ name: string }>;
  [k: string]: unknown;
}

export interface RecordedRequest {
  index: number;
  path: string;
  agent: Agent;
  step: number;
  promptText: string;
  firstUserText: string;
  reply: Reply;
  /** tool_use ids issued in this reply, in order. */
  toolUseIds: string[];
  body: MessagesBody;
  /** The response's message id (`msg_...`), its model and usage (absent for error replies). */
  messageId?: string;
  model?: string;
  usage?: Usage;
}

export type Script = (req: ModelRequest) => Reply | Promise<Reply>;

export interface ModelServer {
  url: string;
  port: number;
  /** Every /v1/messages request, in arrival order. */
  requests: RecordedRequest[];
  /** Requests to any other path (method + path). */
  otherRequests: string[];
  /** Every tool_use id the model issued, in order. */
  issuedToolUseIds(): string[];
  /** The tool calls the model issued, with their ids. */
  issuedToolCalls(): Array<ToolCall & { id: string; agent: Agent }>;
  close(): Promise<void>;
}

const runId = randomBytes(4).toString('hex');
let idCounter = 0;
/** Globally unique within the process and across processes (random run prefix). */
export const newToolUseId = (): string => `toolu_${runId}_${++idCounter}`;

function blockText(content: string | Array<Record<string, unknown>> | undefined): string {
  if (typeof content === 'string') return content;
  return (content ?? [])
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('\n');
}

function isOnlyToolResults(content: string | Array<Record<string, unknown>>): boolean {
  return Array.isArray(content) && content.length > 0 && content.every((b) => b.type === 'tool_result');
}

export function describeRequest(index: number, body: MessagesBody): ModelRequest {
  const messages = body.messages ?? [];
  const system = body.system;
  const firstSystem = typeof system === 'string' ? system : (system?.[0]?.text ?? '');
  const toolNames = (body.tools ?? []).map((t) => t.name);
  let agent: Agent = 'main';
  if (firstSystem.includes('cc_is_subagent=true')) agent = 'subagent';
  else if (toolNames.length === 0) agent = 'side';
  const firstUser = messages.find((m) => m.role === 'user');
  let promptIdx = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'user' && !isOnlyToolResults(m.content)) {
      promptIdx = i;
      break;
    }
  }
  const step = messages.slice(promptIdx + 1).filter((m) => m.role === 'assistant').length;
  const promptText = promptIdx >= 0 ? blockText(messages[promptIdx]!.content) : '';
  if (agent !== 'subagent' && promptText.includes(COMPACT_MARKER)) agent = 'compact';
  return {
    index,
    body,
    agent,
    firstUserText: blockText(firstUser?.content),
    promptText,
    step,
    toolNames,
  };
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function render(res: ServerResponse, body: MessagesBody, reply: Reply, ids: string[], messageId: string): void {
  if (reply.kind === 'error') {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: reply.errorType, message: reply.message } }));
    return;
  }
  const content: Array<Record<string, unknown>> = [];
  const leadText = reply.kind === 'text' ? reply.text : reply.text;
  if (leadText) content.push({ type: 'text', text: leadText });
  if (reply.kind === 'tools') {
    reply.calls.forEach((c, i) => content.push({ type: 'tool_use', id: ids[i], name: c.name, input: c.input }));
  }
  const stopReason = reply.kind === 'tools' ? 'tool_use' : 'end_turn';
  const usage = { ...DEFAULT_USAGE, ...reply.usage };
  const message = {
    id: messageId,
    type: 'message',
    role: 'assistant',
    model: reply.model ?? body.model ?? 'claude-mock',
    stop_sequence: null,
    usage,
  };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...message, content, stop_reason: stopReason }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  sse(res, 'message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null } });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
    } else {
      sse(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      sse(res, 'content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
  });
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function createModelServer(script: Script): Promise<ModelServer> {
  const requests: RecordedRequest[] = [];
  const otherRequests: string[] = [];
  let index = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const raw = await readBody(req);
      if (req.method === 'POST' && path.endsWith('/v1/messages/count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      if (req.method !== 'POST' || !path.endsWith('/v1/messages')) {
        otherRequests.push(`${req.method} ${path}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
        return;
      }
      let body: MessagesBody;
      try {
        body = JSON.parse(raw) as MessagesBody;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const described = describeRequest(index++, body);
      let reply: Reply;
      try {
        reply = await script(described);
      } catch (err) {
        reply = apiError(400, `model-server script failed: ${String(err)}`);
      }
      const ids = reply.kind === 'tools' ? reply.calls.map(() => newToolUseId()) : [];
      const { index: i, agent, step, promptText, firstUserText } = described;
      const messageId = `msg_${randomBytes(8).toString('hex')}`;
      const recorded: RecordedRequest = { index: i, path, agent, step, promptText, firstUserText, reply, toolUseIds: ids, body };
      if (reply.kind !== 'error') {
        recorded.messageId = messageId;
        recorded.model = reply.model ?? body.model ?? 'claude-mock';
        recorded.usage = { ...DEFAULT_USAGE, ...reply.usage };
      }
      requests.push(recorded);
      render(res, body, reply, ids, messageId);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    otherRequests,
    issuedToolUseIds: () => requests.flatMap((r) => r.toolUseIds),
    issuedToolCalls: () =>
      requests.flatMap((r) =>
        r.reply.kind === 'tools' ? r.reply.calls.map((c, i) => ({ ...c, id: r.toolUseIds[i]!, agent: r.agent })) : [],
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Steps for one conversation: `steps[step]`, then `end` text once they run out. */
export type Steps = Reply[] | ((req: ModelRequest) => Reply);

function pick(steps: Steps, req: ModelRequest, end: string): Reply {
  if (typeof steps === 'function') return steps(req);
  return steps[req.step] ?? text(end);
}

export interface ScenarioOptions {
  /** Main-agent steps, per prompt (the step counter restarts at every new prompt,
   *  including a `<task-notification>` turn; inspect `req.promptText` to tell turns apart). */
  main: Steps;
  /** Subagent steps, chosen by the first key contained in the subagent's prompt. */
  subagents?: Record<string, Steps>;
  /** Answer for side queries (titles etc.). */
  side?: (req: ModelRequest) => Reply;
  /** Answer for a compaction's summary request; a valid summary by default. */
  compact?: (req: ModelRequest) => Reply;
}

/** A summary in the shape Claude Code's compaction prompt asks for. */
export const compactSummary = (): Reply =>
  text('<analysis>The user asked for a small task; it was done.</analysis>\n<summary>1. Primary request: a small task. 2. Done.</summary>');

/** Builds a Script from per-agent step lists. */
export function scenario(opts: ScenarioOptions): Script {
  return (req) => {
    if (req.agent === 'side') return opts.side ? opts.side(req) : text('ok');
    if (req.agent === 'compact') return opts.compact ? opts.compact(req) : compactSummary();
    if (req.agent === 'subagent') {
      const key = Object.keys(opts.subagents ?? {}).find((k) => req.firstUserText.includes(k));
      if (key === undefined) return text('Subagent done.');
      return pick(opts.subagents![key]!, req, 'Subagent done.');
    }
    return pick(opts.main, req, 'Done.');
  };
}
