/**
 * Explicit output of the trace builder. Every handler writes the spans it closes and the log
 * records it produces to an `Emitter` it is given; one call into the builder collects them into an
 * `ApplyResult` with its gap count, so nothing travels back through shared mutable state.
 */
import type { Categorize } from './tool-close.js';
import type { SessionState } from './open-span.js';
import type { ApplyResult, BuilderOutput, LogRecordOut, SpanRecord } from './types.js';

export interface Emitter {
  span(record: SpanRecord): void;
  log(record: LogRecordOut): void;
}

/** What a handler works on: one session's state, where to write, and the injected policy. */
export interface Ctx {
  s: SessionState;
  out: Emitter;
  categorize?: Categorize | undefined;
}

/** Collects the outputs of one event (all tagged with its seq) and counts the gap-marked spans. */
export function createCollector(seq: number): Emitter & { result(): ApplyResult } {
  const outputs: BuilderOutput[] = [];
  let gaps = 0;
  return {
    span(span) {
      if (span.attributes['claude_code.gap'] !== undefined) gaps++;
      outputs.push({ type: 'span', span, seq });
    },
    log(log) {
      outputs.push({ type: 'log', log, seq });
    },
    result: () => ({ outputs, gaps }),
  };
}

/** One event kind's handler: acts on the session in `ctx`, writes to `ctx.out`. */
export type Handler<E> = (ctx: Ctx, ev: E) => void;
