/** Feeds payloads through the pure pipeline (parse → normalize → trace builder) with a fixed clock. */
import { parseHookEvent } from '../../src/events/schema.js';
import { normalizeEvent } from '../../src/events/normalize.js';
import { createTraceBuilder, type TraceBuilderOptions } from '../../src/model/trace-builder.js';
import type { LogRecordOut, SpanRecord } from '../../src/model/types.js';

export interface Step {
  payload: Record<string, unknown>;
  /** Milliseconds after the start of the replay. */
  at: number;
}

export function replay(steps: Step[], options: TraceBuilderOptions = {}, startMs = 1_700_000_000_000) {
  const builder = createTraceBuilder(options);
  const spans: SpanRecord[] = [];
  const logs: LogRecordOut[] = [];
  steps.forEach((step, i) => {
    const parsed = parseHookEvent(step.payload);
    if (!parsed.ok) throw new Error(`step ${i}: ${parsed.reason}`);
    const ev = normalizeEvent(parsed, { seq: i + 1, timeMs: startMs + step.at, via: 'http' }, {
      capture: { prompts: false, toolInputs: false, toolOutputs: false },
      captureValue: (v) => String(v),
    });
    for (const o of builder.apply(ev)) o.type === 'span' ? spans.push(o.span) : logs.push(o.log);
  });
  return { builder, spans, logs };
}

/** Checks the invariants every trace must hold and returns the spans by name for assertions. */
export function checkTree(spans: SpanRecord[]) {
  const ids = new Map(spans.map((s) => [s.spanId, s]));
  const roots = spans.filter((s) => !s.parentSpanId);
  const orphans = spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId));
  const duplicates = spans.length - ids.size;
  return { roots, orphans, duplicates, byId: ids };
}

export function parentName(spans: SpanRecord[], span: SpanRecord | undefined): string | undefined {
  return spans.find((s) => s.spanId === span?.parentSpanId)?.name;
}
