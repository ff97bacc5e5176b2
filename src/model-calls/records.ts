/**
 * Transcript records → typed entries: the edge where Claude Code's transcript JSON becomes data.
 * Schemas are loose (Claude Code adds fields and record types between versions) and only the
 * record types the model-call spans need are read: `user` (the turn's promptId), `assistant` (one
 * row per content block of a model response: message id, model, usage, stop reason, tool_use ids),
 * `api-request` (when the request was sent) and `cost-state` (Claude Code's own session cost).
 * Every other type is returned as `other` so that it can be counted.
 */
import { z } from 'zod';
import { fastSafeParse } from '../shared/fast-check.js';

const lenient = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);
const str = lenient(z.string());
const num = lenient(z.number().nonnegative());

const usageSchema = z.looseObject({
  input_tokens: num,
  output_tokens: num,
  cache_read_input_tokens: num,
  cache_creation_input_tokens: num,
  cache_creation: lenient(z.looseObject({ ephemeral_5m_input_tokens: num, ephemeral_1h_input_tokens: num })),
});

const blockSchema = z.looseObject({ type: z.string(), id: str, name: str, text: str });

const assistantSchema = z.looseObject({
  type: z.literal('assistant'),
  timestamp: z.string(),
  agentId: str,
  requestRef: str,
  requestedModel: str,
  isApiErrorMessage: lenient(z.boolean()),
  message: z.looseObject({
    id: z.string().min(1).max(200),
    model: str,
    stop_reason: lenient(z.string().nullable()),
    usage: lenient(usageSchema),
    content: lenient(z.array(z.unknown())),
  }),
});

const apiRequestSchema = z.looseObject({ type: z.literal('api-request'), id: z.string(), timestamp: z.string(), agentId: str });
const costStateSchema = z.looseObject({
  type: z.literal('cost-state'),
  totalCostUSD: z.number().nonnegative(),
  hasUnknownModelCost: lenient(z.boolean()),
  modelUsage: lenient(z.record(z.string(), z.looseObject({ costUSD: num }))),
});

/** zod's data for `schema`, or undefined when it refuses the value (fastSafeParse: unchanged values as they are). */
function parserFor<T extends z.ZodType>(schema: T): (value: unknown) => z.infer<T> | undefined {
  const parse = fastSafeParse(schema);
  return (value) => {
    const r = parse(value);
    return r.success ? r.data : undefined;
  };
}
const parseAssistant = parserFor(assistantSchema);
const parseBlock = parserFor(blockSchema);
const parseApiRequest = parserFor(apiRequestSchema);
const parseCostState = parserFor(costStateSchema);

/** The record schemas, for tests that hold them against the fast path. */
export const recordSchemas = { assistant: assistantSchema, block: blockSchema, apiRequest: apiRequestSchema, costState: costStateSchema };

export interface RowUsage {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  /** Part of cacheCreation written with the 1-hour TTL (priced higher). */
  cacheCreation1h: number;
}

export type TranscriptEntry =
  | { kind: 'user'; timeMs?: number; promptId?: string; agentId?: string }
  | { kind: 'api-request'; id: string; timeMs: number; agentId?: string }
  | {
      kind: 'assistant';
      timeMs: number;
      responseId: string;
      agentId?: string;
      requestRef?: string;
      requestedModel?: string;
      model?: string;
      stopReason?: string;
      usage: RowUsage;
      toolUseIds: string[];
      /** Text and tool calls of this row's content, kept only for capture (see spans.ts). */
      content: unknown[];
      synthetic: boolean;
    }
  | { kind: 'cost-state'; totalCostUsd: number; unknownModelCost: boolean; costByModel: Record<string, number> }
  | { kind: 'other'; type: string };

function time(ts: string | undefined): number | undefined {
  if (!ts) return undefined;
  const ms = Date.parse(ts);
  return Number.isFinite(ms) ? ms : undefined;
}

function usageOf(u: z.infer<typeof usageSchema> | undefined): RowUsage {
  return {
    input: u?.input_tokens ?? 0,
    output: u?.output_tokens ?? 0,
    cacheRead: u?.cache_read_input_tokens ?? 0,
    cacheCreation: u?.cache_creation_input_tokens ?? 0,
    cacheCreation1h: u?.cache_creation?.ephemeral_1h_input_tokens ?? 0,
  };
}

/** The record types toEntry reads; the reader need not decode any other (reader.ts decodeTypes). */
export const ENTRY_TYPES: ReadonlySet<string> = new Set(['user', 'assistant', 'api-request', 'cost-state']);

/** One decoded transcript line → entry. Never throws; a known type that does not validate is `other`. */
export function toEntry(record: Record<string, unknown>): TranscriptEntry {
  const type = typeof record.type === 'string' ? record.type.slice(0, 64) : '(none)';
  switch (type) {
    case 'assistant': {
      const data = parseAssistant(record);
      const timeMs = data ? time(data.timestamp) : undefined;
      if (!data || timeMs === undefined) return { kind: 'other', type: 'assistant(invalid)' };
      const m = data.message;
      const content = m.content ?? [];
      const toolUseIds: string[] = [];
      for (const b of content) {
        const block = parseBlock(b);
        if (block && block.type === 'tool_use' && block.id) toolUseIds.push(block.id);
      }
      const entry: TranscriptEntry = {
        kind: 'assistant', timeMs, responseId: m.id, usage: usageOf(m.usage), toolUseIds, content,
        synthetic: data.isApiErrorMessage === true || m.model === '<synthetic>',
      };
      if (data.agentId) entry.agentId = data.agentId;
      if (data.requestRef) entry.requestRef = data.requestRef;
      if (data.requestedModel) entry.requestedModel = data.requestedModel;
      if (m.model) entry.model = m.model;
      if (m.stop_reason) entry.stopReason = m.stop_reason;
      return entry;
    }
    case 'user': {
      // The most frequent and largest rows (tool results): three scalar fields are all we need,
      // read directly rather than through a schema that would walk the whole row.
      const entry: TranscriptEntry = { kind: 'user' };
      const timeMs = typeof record.timestamp === 'string' ? time(record.timestamp) : undefined;
      if (timeMs !== undefined) entry.timeMs = timeMs;
      if (typeof record.promptId === 'string' && record.promptId) entry.promptId = record.promptId.slice(0, 200);
      if (typeof record.agentId === 'string' && record.agentId) entry.agentId = record.agentId.slice(0, 200);
      return entry;
    }
    case 'api-request': {
      const data = parseApiRequest(record);
      const timeMs = data ? time(data.timestamp) : undefined;
      if (!data || timeMs === undefined) return { kind: 'other', type: 'api-request(invalid)' };
      return data.agentId ? { kind: 'api-request', id: data.id, timeMs, agentId: data.agentId } : { kind: 'api-request', id: data.id, timeMs };
    }
    case 'cost-state': {
      const data = parseCostState(record);
      if (!data) return { kind: 'other', type: 'cost-state(invalid)' };
      const costByModel: Record<string, number> = {};
      for (const [model, u] of Object.entries(data.modelUsage ?? {})) if (u.costUSD !== undefined) costByModel[model] = u.costUSD;
      return { kind: 'cost-state', totalCostUsd: data.totalCostUSD, unknownModelCost: data.hasUnknownModelCost === true, costByModel };
    }
    default:
      return { kind: 'other', type };
  }
}
