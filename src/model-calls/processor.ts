/**
 * The model-call stage, without I/O: transcript records of one transcript in, `chat` span records
 * out, with the ledger and the tool-use → response index kept up to date. The agent component
 * (src/agent/model-calls.ts) feeds it what the reader read; tests feed it fixture lines.
 */
import { assemble, flush, newAssemblerState, type AssembleCounters, type AssembleOutput, type AssemblerState, type ModelCall } from './assembler.js';
import type { UsageLedger } from './ledger.js';
import type { Pricer } from './prices.js';
import { toEntry } from './records.js';
import { chatSpan, placeCall } from './spans.js';
import { spanIdFor, spanKeys } from '../model/ids.js';
import type { SpanRecord } from '../model/types.js';

export interface ProcessorOptions {
  ledger: UsageLedger;
  pricer: Pricer;
  /** Present only when capture.modelMessages is on: redacts and caps a value. */
  capture?: (value: unknown) => string;
  now: () => number;
  /** Bound of the tool-use → response index (oldest entries go first). */
  maxToolLinks?: number;
}

export interface ProcessedCall {
  call: ModelCall;
  span: SpanRecord;
  costUsd: number | undefined;
}

export interface ModelCallProcessor {
  /** Feeds records of the transcript `key` (one state per transcript). */
  records(key: string, sessionId: string, agentId: string | undefined, records: Iterable<Record<string, unknown>>): ProcessedCall[];
  /** Completes the pending calls of `key` (the turn, subagent or session ended). */
  flush(key: string): ProcessedCall[];
  responseIdForToolUse(toolUseId: string): string | undefined;
  states(): Record<string, AssemblerState>;
  restore(states: Record<string, AssemblerState>, links: [string, string][]): void;
  links(): [string, string][];
  forget(key: string): void;
  counters: AssembleCounters;
}

export function createModelCallProcessor(options: ProcessorOptions): ModelCallProcessor {
  const { ledger, pricer } = options;
  const maxLinks = options.maxToolLinks ?? 50_000;
  const states = new Map<string, AssemblerState>();
  const toolLinks = new Map<string, string>();
  const counters: AssembleCounters = { otherTypes: {}, apiErrors: 0 };

  const link = (toolUseIds: readonly string[], responseId: string) => {
    for (const id of toolUseIds) {
      if (toolLinks.get(id) === responseId) continue; // linked when its row was read
      toolLinks.delete(id);
      toolLinks.set(id, responseId);
    }
    while (toolLinks.size > maxLinks) toolLinks.delete(toolLinks.keys().next().value as string);
  };

  const finish = (out: AssembleOutput): ProcessedCall[] => {
    const now = options.now();
    const done: ProcessedCall[] = [];
    for (const call of out.calls) {
      link(call.toolUseIds, call.responseId);
      const tokens = call.usage;
      const costUsd = pricer(call.requestModel ?? call.responseModel, tokens);
      const placement = placeCall(call);
      ledger.add(call, costUsd, placement.rollUp, placement.rootSpanId, now);
      done.push({ call, costUsd, span: chatSpan(call, { costUsd, placement, ...(options.capture ? { capture: options.capture } : {}) }) });
    }
    return done;
  };

  return {
    records(key, sessionId, agentId, records) {
      let state = states.get(key);
      if (!state) {
        state = newAssemblerState(sessionId, agentId);
        states.set(key, state);
      }
      let out: AssembleOutput = { calls: [] };
      const done: ProcessedCall[] = [];
      for (const record of records) {
        const entry = toEntry(record);
        if (entry.kind === 'cost-state') {
          // Claude Code's total covers every call before it: those go into the ledger first.
          flush(state, out);
          done.push(...finish(out));
          out = { calls: [] };
          ledger.setSessionCost(sessionId, spanIdFor(sessionId, spanKeys.root()), entry.totalCostUsd, options.now());
          continue;
        }
        assemble(state, entry, out, counters, options.capture !== undefined);
        // Tool calls are linkable as soon as their rows are read, before the response completes.
        if (entry.kind === 'assistant' && !entry.synthetic) link(entry.toolUseIds, entry.responseId);
      }
      done.push(...finish(out));
      return done;
    },
    flush(key) {
      const state = states.get(key);
      if (!state) return [];
      const out: AssembleOutput = { calls: [] };
      flush(state, out);
      return finish(out);
    },
    responseIdForToolUse: (toolUseId) => toolLinks.get(toolUseId),
    states: () => Object.fromEntries(states),
    restore(saved, links) {
      for (const [key, state] of Object.entries(saved)) states.set(key, state);
      for (const [toolUseId, responseId] of links) toolLinks.set(toolUseId, responseId);
    },
    links: () => [...toolLinks],
    forget: (key) => void states.delete(key),
    counters,
  };
}
