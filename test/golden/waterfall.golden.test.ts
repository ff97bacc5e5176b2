import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StoredSpan } from '../../src/store/stored-span.js';
import { toTraceTree } from '../../src/view/trace-tree.js';
import { renderWaterfall } from '../../src/view/waterfall.js';
import { summarizeSession } from '../../src/store/session-summary.js';
import { renderSessionsTable } from '../../src/view/sessions.js';
import { transcriptExpected } from '../support/transcript-replay.js';

// A recorded session (root, 2 turns, Bash/Read/Grep/Edit/Write tools, a failing Bash,
// an Explore subagent under an Agent tool with its own Bash, a denied Bash, a gap-marked
// WebFetch). Rewrite the snapshots with UPDATE_GOLDEN=1 and review the diff.
const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

const ORIGIN_NS = BigInt(Date.UTC(2025, 0, 1)) * 1_000_000n;

/** Rebases all times so the earliest span starts at 2025-01-01T00:00:00Z. */
function normalize(spans: StoredSpan[]): StoredSpan[] {
  const min = spans.reduce((m, s) => (BigInt(s.startTimeUnixNano) < m ? BigInt(s.startTimeUnixNano) : m), BigInt(spans[0]!.startTimeUnixNano));
  const shift = (t: string): string => String(BigInt(t) - min + ORIGIN_NS);
  return spans.map((s) => ({
    ...s,
    startTimeUnixNano: shift(s.startTimeUnixNano),
    endTimeUnixNano: shift(s.endTimeUnixNano),
    events: s.events.map((e) => ({ ...e, timeUnixNano: shift(e.timeUnixNano) })),
  }));
}

function load(file = './session.spans.json'): StoredSpan[] {
  return normalize(JSON.parse(readFileSync(here(file), 'utf8')) as StoredSpan[]);
}

function golden(name: string, actual: string): void {
  const path = here(name);
  if (UPDATE) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('waterfall golden', () => {
  it('renders the recorded session as reviewed', () => {
    const text = renderWaterfall(load(), { width: 80, now: Date.UTC(2025, 0, 1, 1) });
    golden('./session.waterfall.txt', text);
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
  });

  it('does not depend on the order spans were stored in', () => {
    const spans = load();
    const shuffled = [...spans.filter((_, i) => i % 2 === 1), ...spans.filter((_, i) => i % 2 === 0).reverse()];
    expect(renderWaterfall(shuffled, { width: 80 })).toBe(renderWaterfall(spans, { width: 80 }));
  });

  // The recorded 2.1.332 session with transcripts, as the real agent stored it (recorded by
  // scripts/record-model-call-store.ts): model calls between the tools, cost per turn, subagent, session.
  it('renders model calls and costs as reviewed, and lists the session with Claude Code\'s own cost', () => {
    const spans = load('./model-calls.spans.json');
    const text = renderWaterfall(spans, { width: 80, now: Date.UTC(2025, 0, 1, 1) });
    golden('./model-calls.waterfall.txt', text);
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    const chats = spans.filter((s) => s.attributes['claude_code.span.kind'] === 'model_call');
    expect(text.split('\n').filter((l) => /^\s+chat claude-/.test(l))).toHaveLength(chats.length);
    const summary = summarizeSession('model-calls', spans)!;
    expect(summary).toMatchObject({ modelCalls: transcriptExpected.responses.length, costUsd: transcriptExpected.totalCostUsd });
    golden('./model-calls.sessions.txt', renderSessionsTable([summary], { width: 80 }));
  });

  it('prints the --json tree as reviewed', () => {
    golden('./session.tree.json', JSON.stringify(toTraceTree(load()), null, 2) + '\n');
  });
});
