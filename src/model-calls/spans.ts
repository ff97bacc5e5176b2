/**
 * A model call → its `chat {model}` span record (OpenTelemetry GenAI inference span conventions,
 * Anthropic flavour), and the roll-up attributes a turn, subagent or session span gets from the
 * ledger. Pure. Span ids are derived, so the chat span's parent (the subagent that made the call,
 * else the turn of its prompt, else the root) is computed, not looked up.
 *
 * Token attributes follow the conventions: `gen_ai.usage.input_tokens` is Anthropic's
 * input_tokens + cache reads + cache writes (the cache kinds are also given on their own);
 * `claude_code.usage.uncached_input_tokens` keeps Anthropic's own figure.
 */
import { spanIdFor, spanKeys, traceIdFor } from '../model/ids.js';
import type { Attributes, SpanRecord } from '../model/types.js';
import type { ModelCall } from './assembler.js';
import type { Usage } from './ledger.js';

export interface CallPlacement {
  parentSpanId: string;
  /** Spans whose roll-up includes this call: its subagent, its turn, the root. */
  rollUp: string[];
  rootSpanId: string;
}

export function placeCall(call: ModelCall): CallPlacement {
  const s = call.sessionId;
  const rootSpanId = spanIdFor(s, spanKeys.root());
  const turn = call.promptId ? spanIdFor(s, spanKeys.turn(call.promptId)) : undefined;
  const agent = call.agentId ? spanIdFor(s, spanKeys.agent(call.agentId)) : undefined;
  const parentSpanId = agent ?? turn ?? rootSpanId;
  return { parentSpanId, rootSpanId, rollUp: [agent, turn, rootSpanId].filter((id): id is string => id !== undefined) };
}

export const chatSpanId = (sessionId: string, responseId: string): string => spanIdFor(sessionId, spanKeys.chat(responseId));

/** The text and tool calls of a response, in the conventions' output-message shape (for capture). */
export function outputMessages(call: ModelCall): unknown[] {
  const parts: unknown[] = [];
  for (const block of call.content ?? []) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as Record<string, unknown>;
    if (b.type === 'text' && typeof b.text === 'string') parts.push({ type: 'text', content: b.text });
    else if (b.type === 'tool_use') parts.push({ type: 'tool_call', id: b.id, name: b.name, arguments: b.input });
  }
  return [{ role: 'assistant', parts, ...(call.finishReason ? { finish_reason: call.finishReason } : {}) }];
}

export interface ChatSpanOptions {
  costUsd: number | undefined;
  /** placeCall(call), when the caller has it already. */
  placement?: CallPlacement;
  /** Redacted and capped (src/privacy captureValue); only when capture.modelMessages is on. */
  capture?: (value: unknown) => string;
}

export function chatSpan(call: ModelCall, options: ChatSpanOptions): SpanRecord {
  const placement = options.placement ?? placeCall(call);
  const model = call.requestModel ?? call.responseModel ?? 'unknown';
  const u = call.usage;
  const attributes: Attributes = {
    'claude_code.span.kind': 'model_call',
    'session.id': call.sessionId,
    'gen_ai.conversation.id': call.sessionId,
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'anthropic',
    'gen_ai.request.model': model,
    'gen_ai.response.id': call.responseId,
    'gen_ai.usage.input_tokens': u.input + u.cacheRead + u.cacheCreation,
    'gen_ai.usage.output_tokens': u.output,
    'gen_ai.usage.cache_read.input_tokens': u.cacheRead,
    'gen_ai.usage.cache_creation.input_tokens': u.cacheCreation,
    'claude_code.usage.uncached_input_tokens': u.input,
    'claude_code.response.tool_calls': call.toolUseIds.length,
  };
  // The link from this side is always complete; the tool span's gen_ai.response.id is best effort
  // (Claude Code may run a tool before the response's row reaches the transcript).
  if (call.toolUseIds.length) attributes['claude_code.response.tool_call_ids'] = [...call.toolUseIds];
  if (call.responseModel) attributes['gen_ai.response.model'] = call.responseModel;
  if (call.finishReason) attributes['gen_ai.response.finish_reasons'] = [call.finishReason];
  if (call.promptId) attributes['claude_code.prompt.id'] = call.promptId;
  if (call.agentId) attributes['gen_ai.agent.id'] = call.agentId;
  if (options.costUsd !== undefined) attributes['claude_code.cost.usd'] = options.costUsd;
  else attributes['claude_code.cost.unpriced'] = true;
  if (options.capture) attributes['gen_ai.output.messages'] = options.capture(outputMessages(call));
  return {
    traceId: traceIdFor(call.sessionId),
    spanId: chatSpanId(call.sessionId, call.responseId),
    parentSpanId: placement.parentSpanId,
    name: `chat ${model}`,
    startMs: call.startMs,
    endMs: Math.max(call.endMs, call.startMs),
    attributes,
    events: [],
    status: { code: 'unset' },
  };
}

/**
 * The roll-up a turn, subagent or session span carries when it closes: token sums by kind (the
 * input sum in the conventions' meaning, cache included), cost and model-call counts. Empty when
 * the ledger has nothing for the span.
 */
export function usageAttributes(usage: Usage | undefined): Attributes {
  if (!usage) return {};
  const attrs: Attributes = {
    'gen_ai.usage.input_tokens': usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens,
    'gen_ai.usage.output_tokens': usage.outputTokens,
    'gen_ai.usage.cache_read.input_tokens': usage.cacheReadTokens,
    'gen_ai.usage.cache_creation.input_tokens': usage.cacheCreationTokens,
    'claude_code.usage.uncached_input_tokens': usage.inputTokens,
    'claude_code.model_calls': usage.calls,
    'claude_code.cost.usd': usage.costUsd,
    'claude_code.cost.source': usage.costSource,
  };
  if (usage.unpriced > 0) attrs['claude_code.model_calls.unpriced'] = usage.unpriced;
  return attrs;
}
