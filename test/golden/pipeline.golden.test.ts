/**
 * Pipeline golden: each scenario (recorded sessions and sessions built from real payloads) replays
 * through parse → normalize → trace builder with a fixed clock; the canonical span tree (derived ids
 * kept, times relative to the first event) is compared with the reviewed JSON in ./pipeline/.
 * Rewrite with UPDATE_GOLDEN=1 and review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTraceBuilder, type TraceBuilder } from '../../src/model/trace-builder.js';
import type { Attributes, LogRecordOut, SpanRecord } from '../../src/model/types.js';
import { replay } from '../support/replay.js';
import { traceInvariants } from '../support/trace-invariants.js';
import { scenarios, type Scenario } from './pipeline-scenarios.js';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const T0 = 1_700_000_000_000;
const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));

const rel = (ms: number) => Math.round((ms - T0) * 1000) / 1000;
/** Attributes without the two that only repeat the session id, keys sorted. */
function attrs(a: Attributes): Attributes {
  const out: Attributes = {};
  for (const key of Object.keys(a).sort()) if (key !== 'session.id' && key !== 'gen_ai.conversation.id') out[key] = a[key]!;
  return out;
}

function canonicalSpan(s: SpanRecord) {
  return {
    name: s.name,
    id: s.spanId,
    parent: s.parentSpanId ?? null,
    start: rel(s.startMs),
    end: rel(s.endMs),
    status: s.status,
    attributes: attrs(s.attributes),
    events: s.events.map((e) => ({ name: e.name, at: rel(e.timeMs), attributes: attrs(e.attributes) })),
  };
}

function canonicalLog(l: LogRecordOut) {
  return { event: l.eventName, at: rel(l.timeMs), severity: l.severity, span: l.spanId, attributes: attrs(l.attributes) };
}

export function runScenario(scenario: Scenario) {
  const spans: SpanRecord[] = [];
  const logs: LogRecordOut[] = [];
  let gaps = 0;
  let builder: TraceBuilder | undefined;
  let seqBase = 0;
  for (const run of scenario.runs) {
    if (!run.sameAgent || !builder) builder = createTraceBuilder();
    const result = replay(run.steps, { builder, seqBase }, T0);
    seqBase += run.steps.length;
    spans.push(...result.spans);
    logs.push(...result.logs);
    gaps += result.gaps;
  }
  return { spans, logs, gaps };
}

function canonical(scenario: Scenario) {
  const { spans, logs, gaps } = runScenario(scenario);
  const traces = [...new Set(spans.map((s) => s.traceId))];
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs || a.name.localeCompare(b.name) || a.spanId.localeCompare(b.spanId));
  return { about: scenario.about, traces, gaps, spans: sorted.map(canonicalSpan), logs: logs.map(canonicalLog) };
}

describe('pipeline golden', () => {
  for (const scenario of scenarios) {
    it(`${scenario.name}: the span tree is as reviewed`, () => {
      const path = here(`./pipeline/${scenario.name}.json`);
      const actual = JSON.stringify(canonical(scenario), null, 2) + '\n';
      if (UPDATE) writeFileSync(path, actual);
      expect(existsSync(path), `${path} missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(actual).toBe(readFileSync(path, 'utf8'));
    });
    it(`${scenario.name}: the trace holds the invariants`, () => {
      const { spans } = runScenario(scenario);
      const payloads = scenario.runs.flatMap((r) => r.steps.map((s) => s.payload));
      const issuedToolIds = [...new Set(payloads.filter((p) => typeof p['tool_use_id'] === 'string' && String(p['hook_event_name']).includes('ToolUse')).map((p) => p['tool_use_id'] as string))];
      expect(traceInvariants(spans, { issuedToolIds, eventsRemoved: scenario.eventsRemoved ?? false, allowLate: scenario.allowLate ?? false })).toEqual([]);
    });
  }
});
