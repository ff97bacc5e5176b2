import { describe, expect, it } from 'vitest';
import { createReaper } from '../../../src/agent/reaper.js';

describe('createReaper', () => {
  function setup(sessions: { sessionId: string; pid?: number; lastEventMs: number }[], backlog = 0) {
    let t = 1_000_000;
    const closed: string[] = [];
    let idle = 0;
    const reaper = createReaper({
      intervalMs: 60_000, sessionIdleCloseMs: 10_000, idleExitMs: 5_000, log: () => {}, now: () => t,
      openSessions: () => sessions.filter((s) => !closed.includes(s.sessionId)),
      closeSession: (id, reason) => closed.push(`${id}:${reason}`.split(':')[0]!),
      evictEnded: () => {}, spoolBacklog: () => backlog, onIdle: () => idle++, isAlive: (pid) => pid === 1,
    });
    return { reaper, closed, idle: () => idle, advance: (ms: number) => (t += ms) };
  }

  it('closes sessions whose process is gone or that are idle past the limit', () => {
    const { reaper, closed, advance } = setup([
      { sessionId: 'alive', pid: 1, lastEventMs: 1_000_000 },
      { sessionId: 'dead', pid: 2, lastEventMs: 1_000_000 },
      { sessionId: 'quiet', lastEventMs: 1_000_000 - 20_000 },
    ]);
    advance(1);
    reaper.reap();
    expect(closed.sort()).toEqual(['dead', 'quiet']);
  });

  it('exits when idle only with nothing open and an empty spool', () => {
    const busy = setup([], 1);
    busy.advance(10_000);
    busy.reaper.reap();
    expect(busy.idle()).toBe(0);
    const quiet = setup([]);
    quiet.advance(1000);
    quiet.reaper.reap();
    expect(quiet.idle()).toBe(0);
    quiet.advance(10_000);
    quiet.reaper.touch(); // an event just came in
    quiet.reaper.reap();
    expect(quiet.idle()).toBe(0);
    quiet.advance(6_000);
    quiet.reaper.reap();
    expect(quiet.idle()).toBe(1);
  });

  it('is a component: shutdown without start, and twice, is safe', () => {
    const { reaper } = setup([]);
    reaper.shutdown();
    reaper.start();
    reaper.shutdown();
    reaper.shutdown();
  });
});
