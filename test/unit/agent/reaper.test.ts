import { describe, expect, it } from 'vitest';
import { createReaper } from '../../../src/agent/reaper.js';

describe('createReaper', () => {
  function setup(sessions: { sessionId: string; pid?: number; lastEventMs: number }[], backlog = 0, takeSpooledFor?: (pids: readonly number[]) => Set<number>) {
    let t = 1_000_000;
    const closed: string[] = [];
    const reasons: string[] = [];
    let idle = 0;
    const reaper = createReaper({
      intervalMs: 60_000, sessionIdleCloseMs: 10_000, idleExitMs: 5_000, log: () => {}, now: () => t,
      openSessions: () => sessions.filter((s) => !closed.includes(s.sessionId)),
      closeSession: (id, reason) => {
        closed.push(id);
        reasons.push(`${id}:${reason}`);
      },
      evictEnded: () => {}, spoolBacklog: () => backlog, onIdle: () => idle++, isAlive: (pid) => pid === 1,
      ...(takeSpooledFor ? { takeSpooledFor } : {}),
    });
    return { reaper, closed, reasons, idle: () => idle, advance: (ms: number) => (t += ms) };
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

  it('takes a gone process\'s spooled events before closing its session, and waits while one of them still waits', () => {
    const sessions = [
      { sessionId: 'ended-in-spool', pid: 2, lastEventMs: 1_000_000 }, // its SessionEnd waits in the spool
      { sessionId: 'writing', pid: 3, lastEventMs: 1_000_000 }, // an entry of its process is still being written
      { sessionId: 'crashed', pid: 4, lastEventMs: 1_000_000 }, // nothing waits: its process died
      { sessionId: 'alive', pid: 1, lastEventMs: 1_000_000 },
    ];
    let writing = true;
    const asked: number[][] = [];
    const { reaper, reasons, closed } = setup(sessions, 0, (pids) => {
      asked.push([...pids]);
      closed.push('ended-in-spool'); // the drain ingested its SessionEnd: the session is no longer open
      return new Set(writing ? [3] : []);
    });
    reaper.reap();
    expect(asked).toEqual([[2, 3, 4]]);
    expect(reasons).toEqual(['crashed:process_exited']); // not the one the spool ended, not the one still writing
    writing = false;
    reaper.reap();
    expect(reasons).toEqual(['crashed:process_exited', 'writing:process_exited']);
  });

  it('does not look at the spool when every process is alive, and still closes idle sessions when taking the spool fails', () => {
    let calls = 0;
    const quiet = setup([{ sessionId: 'alive', pid: 1, lastEventMs: 1_000_000 }], 0, () => {
      calls++;
      return new Set();
    });
    quiet.reaper.reap();
    expect(calls).toBe(0);
    const failing = setup([{ sessionId: 'dead', pid: 2, lastEventMs: 1_000_000 }, { sessionId: 'quiet', lastEventMs: 1_000_000 - 20_000 }], 0, () => {
      throw new Error('EIO');
    });
    failing.advance(1);
    failing.reaper.reap();
    expect(failing.reasons).toEqual(['quiet:idle']); // the dead one waits for a spool that can be read
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
