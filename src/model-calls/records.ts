/**
 * Transcript records → typed entries: the edge where Claude Code's transcript JSON becomes data.
 * Schemas are loose (Claude Code adds fields and record types between versions) and only the
 * record types the model-call spans need are read: `user` (the turn's promptId), `assistant` (one
 * row per content block of a model response: message id, model, usage, stop reason, tool_use ids),
 * `api-request` (when the request was sent) and `cost-state` (Claude Code's own session cost).
 * Every other type is returned as `other` so that it can be counted.
 */
import { z } from 'zod';

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

/** One decoded transcript line → entry. Never throws; a known type that does not validate is `other`. */
export function toEntry(record: Record<string, unknown>): TranscriptEntry {
  const type = typeof record.type === 'string' ? record.type.slice(0, 64) : '(none)';
  switch (type) {
    case 'assistant': {
      const r = assistantSchema.safeParse(record);
      const timeMs = r.success ? time(r.data.timestamp) : undefined;
      if (!r.success || timeMs === undefined) return { kind: 'other', type: 'assistant(invalid)' };
      const m = r.data.message;
      const content = m.content ?? [];
      const toolUseIds: string[] = [];
      for (const b of content) {
        const block = blockSchema.safeParse(b);
        if (block.success && block.data.type === 'tool_use' && block.data.id) toolUseIds.push(block.data.id);
      }
      const entry: TranscriptEntry = {
        kind: 'assistant', timeMs, responseId: m.id, usage: usageOf(m.usage), toolUseIds, content,
        synthetic: r.data.isApiErrorMessage === true || m.model === '<synthetic>',
      };
      if (r.data.agentId) entry.agentId = r.data.agentId;
      if (r.data.requestRef) entry.requestRef = r.data.requestRef;
      if (r.data.requestedModel) entry.requestedModel = r.data.requestedModel;
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
      const r = apiRequestSchema.safeParse(record);
      const timeMs = r.success ? time(r.data.timestamp) : undefined;
      if (!r.success || timeMs === undefined) return { kind: 'other', type: 'api-request(invalid)' };
      return r.data.agentId ? { kind: 'api-request', id: r.data.id, timeMs, agentId: r.data.agentId } : { kind: 'api-request', id: r.data.id, timeMs };
    }
    case 'cost-state': {
      const r = costStateSchema.safeParse(record);
      if (!r.success) return { kind: 'other', type: 'cost-state(invalid)' };
      const costByModel: Record<string, number> = {};
      for (const [model, u] of Object.entries(r.data.modelUsage ?? {})) if (u.costUSD !== undefined) costByModel[model] = u.costUSD;
      return { kind: 'cost-state', totalCostUsd: r.data.totalCostUSD, unknownModelCost: r.data.hasUnknownModelCost === true, costByModel };
    }
    default:
      return { kind: 'other', type };
  }
}
