/**
 * Load generator for the team tests: many concurrent sessions made from the recorded Claude Code
 * 2.1.332 sessions (test/fixtures/claude-code-2.1.332/sessions), each with fresh session, prompt,
 * agent and tool ids, posted to real agents' /v1/hooks in the recorded order with the recorded
 * gaps (scaled). A session can be played in two parts (so that it is open across a restart).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestAgent } from './agent-harness.js';
import { ROOT } from './team-stack.js';

const SESSIONS_DIR = join(ROOT, 'test/fixtures/claude-code-2.1.332/sessions');

export interface Recorded {
  name: string;
  lines: Array<{ offsetMs: number; text: string }>;
}

export function recordedSessions(): Recorded[] {
  return readdirSync(SESSIONS_DIR)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.jsonl$/, ''),
      lines: readFileSync(join(SESSIONS_DIR, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const { offsetMs, event } = JSON.parse(l) as { offsetMs: number; event: unknown };
          return { offsetMs, text: JSON.stringify(event) };
        }),
    }));
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TOOL_ID = /toolu_[0-9a-f]{8}_\d+/g;
const AGENT_ID = /"agent_id":"([0-9a-f]+)"/g;

export interface VirtualSession {
  sessionId: string;
  fixture: string;
  events: Array<{ offsetMs: number; body: string }>;
}

/** The recording with every id replaced, consistently within the session. */
export function virtualSession(rec: Recorded): VirtualSession {
  const ids = new Map<string, string>();
  const fresh = (old: string, make: () => string) => {
    let v = ids.get(old);
    if (!v) ids.set(old, (v = make()));
    return v;
  };
  const events = rec.lines.map(({ offsetMs, text }) => ({
    offsetMs,
    body: text
      .replace(UUID, (m) => fresh(m, randomUUID))
      .replace(TOOL_ID, (m) => fresh(m, () => `toolu_${randomBytes(4).toString('hex')}_${m.split('_')[2]}`))
      .replace(AGENT_ID, (_m, id: string) => `"agent_id":"${fresh(id, () => randomBytes(id.length / 2).toString('hex'))}"`),
  }));
  const sessionId = (JSON.parse(events[0]!.body) as { session_id: string }).session_id;
  return { sessionId, fixture: rec.name, events };
}

export interface PlayOptions {
  /** Recorded gaps are multiplied by this (0.2: five times faster). */
  timeScale: number;
  /** Events [from, to) of the session. */
  from?: number;
  to?: number;
  /** Counts answers that are not 200. */
  failures?: string[];
}

/** Posts a session's events in order; each waits for its (scaled) recorded offset. */
export async function play(agent: TestAgent, s: VirtualSession, o: PlayOptions): Promise<void> {
  const from = o.from ?? 0;
  const to = o.to ?? s.events.length;
  if (from >= to) return;
  const t0 = Date.now() - s.events[from]!.offsetMs * o.timeScale;
  for (let i = from; i < to; i++) {
    const e = s.events[i]!;
    const wait = t0 + e.offsetMs * o.timeScale - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let attempt = 0; ; attempt++) {
      const r = await agent.post(e.body).then(
        async (res) => ({ status: res.status, text: await res.text() }),
        (err: Error) => ({ status: 0, text: err.message }),
      );
      if (r.status === 200) break;
      if (attempt >= 5) {
        o.failures?.push(`${s.fixture} event ${i}: ${r.status} ${r.text}`);
        break;
      }
      await new Promise((res) => setTimeout(res, 100 * (attempt + 1)));
    }
  }
}
