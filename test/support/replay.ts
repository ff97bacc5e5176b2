/** Feeds payloads through the pure pipeline (parse → normalize → trace builder) with a fixed clock. */
import { parseHookEvent } from '../../src/events/schema.js';
import { normalizeEvent, type CaptureOptions } from '../../src/events/normalize.js';
import { createTraceBuilder, type TraceBuilder, type TraceBuilderOptions } from '../../src/model/trace-builder.js';
import type { LogRecordOut, SpanRecord } from '../../src/model/types.js';

export interface Step {
  payload: Record<string, unknown>;
  /** Milliseconds after the start of the replay. */
  at: number;
  /** TRACEPARENT as the command hook forwarded it (unvalidated: normalize checks it). */
  traceparent?: string;
}

export interface ReplayOptions extends TraceBuilderOptions {
  /** Continue with this builder (the same agent process) instead of a new one (a restarted agent). */
  builder?: TraceBuilder;
  /** The first event's seq is `seqBase + 1`. */
  seqBase?: number;
  capture?: CaptureOptions;
  captureValue?: (value: unknown) => string;
}

const NO_CAPTURE: CaptureOptions = { prompts: false, toolInputs: false, toolOutputs: false };

export function replay(steps: Step[], options: ReplayOptions = {}, startMs = 1_700_000_000_000) {
  const builder = options.builder ?? createTraceBuilder(options);
  const spans: SpanRecord[] = [];
  const logs: LogRecordOut[] = [];
  let gaps = 0;
  steps.forEach((step, i) => {
    const parsed = parseHookEvent(step.payload);
    if (!parsed.ok) throw new Error(`step ${i}: ${parsed.reason}`);
    const ev = normalizeEvent(parsed, { seq: (options.seqBase ?? 0) + i + 1, timeMs: startMs + step.at, via: 'http', traceparent: step.traceparent }, {
      capture: options.capture ?? NO_CAPTURE,
      captureValue: options.captureValue ?? ((v) => (typeof v === 'string' ? v : JSON.stringify(v))),
    });
    const result = builder.apply(ev);
    for (const o of result.outputs) o.type === 'span' ? spans.push(o.span) : logs.push(o.log);
    gaps += result.gaps;
  });
  return { builder, spans, logs, gaps };
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
