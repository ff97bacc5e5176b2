import { describe, expect, it } from 'vitest';
import { parseUiArgs } from '../../src/cli/ui-command.js';
import { parseSinkConfig } from '../../src/sink/config.js';
import { discover } from '../../src/sink/discover.js';

/** A Redis key prefix is taken in three places: each must take and refuse the same ones. */
const takes = {
  sink: (p: string) => {
    try {
      parseSinkConfig({ redis: { url: 'redis://127.0.0.1:6379', keyPrefix: p } });
      return true;
    } catch {
      return false;
    }
  },
  ui: (p: string) => typeof parseUiArgs(['--source', 'team', '--postgres', 'postgres://u@127.0.0.1/x', '--redis', 'redis://127.0.0.1:6379', '--redis-prefix', p], {}) !== 'string',
  discover: async (p: string) => {
    try {
      await discover({ redisPrefix: p, postgresUrl: 'postgresql://u@127.0.0.1:1/x', redisUrl: 'redis://127.0.0.1:1', timeoutMs: 200 });
      return true;
    } catch (err) {
      if (/redis prefix/.test((err as Error).message)) return false;
      throw err;
    }
  },
};

describe('the Redis key prefix rule', () => {
  it.each([
    ['claude-otel:v1', true],
    ['{team-a}:claude-otel', true], // a Redis Cluster hash tag: the sink's keys in one slot
    ['team/a.b_c-d', true],
    ['x'.repeat(100), true],
    ['', false],
    ['a b', false],
    ['tab\there', false],
    ['é', false],
    ['x'.repeat(101), false],
  ])('%j: %s in the sink config, sink discover and the web view alike', async (prefix, ok) => {
    expect(takes.sink(prefix)).toBe(ok);
    expect(takes.ui(prefix)).toBe(ok);
    expect(await takes.discover(prefix)).toBe(ok);
  });
});
