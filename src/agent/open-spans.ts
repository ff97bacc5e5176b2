/**
 * The open spans of one session as the agent's /v1/status lists them: name, parent, start and
 * attributes, so that a live view (`claude-otel ui`) can show what is running right now, with
 * durations that tick, before anything of it reaches the store. Pure: reads the session state only.
 */
import type { OpenSpan, SessionState } from '../model/open-span.js';

export interface OpenSpanStatus {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  startMs: number;
  attributes: OpenSpan['attributes'];
}

export function openSpansOf(s: SessionState): OpenSpanStatus[] {
  const all: OpenSpan[] = [];
  if (s.root && !s.rootEnded) all.push(s.root);
  if (s.segment) all.push(s.segment);
  all.push(...s.turns.values(), ...s.tools.values());
  // A finished subagent held back for its parent's confirmation is no longer running.
  for (const a of s.agents.values()) if (!a.finished) all.push(a);
  if (s.compaction) all.push(s.compaction);
  return all.map((span) => ({
    spanId: span.spanId,
    parentSpanId: span.parentSpanId ?? null,
    name: span.name,
    kind: span.kind,
    startMs: span.startMs,
    attributes: span.attributes,
  }));
}
