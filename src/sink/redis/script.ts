/**
 * The Lua script that writes one chunk of a batch atomically (EVALSHA), and how Redis says that
 * scripts are not an option. The sink falls back to a pipeline of the same XADDs (sink.ts).
 */
import { ErrorReply } from 'redis';

/**
 * Records per script call. A call is atomic, so Redis serves nobody else while it runs: 250 records
 * (500 XADDs) keep that at ~3 ms (docs/benchmarks-sinks.md); larger batches take several calls.
 */
export const SCRIPT_CHUNK_RECORDS = 250;

/**
 * One chunk of a batch, the same commands the pipeline path sends, in the same order.
 * KEYS: 1 batch marker, 2 spans stream, 3 logs stream, 4.. the chunk's session streams.
 * ARGV: 1 global MAXLEN, 2 session MAXLEN, 3 session TTL, 4 marker TTL,
 * then per record: its global stream (a KEYS index: 2 or 3), its session stream (a KEYS index, 0 =
 * none), n, and its n field/value arguments, used for both entries.
 * Returns 0 without writing anything if the marker exists (replay of a batch already written).
 */
export const WRITE_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local gmax, smax = ARGV[1], ARGV[2]
local i, last = 5, #ARGV
while i <= last do
  local g, s, n = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local a, b = i + 3, i + 2 + n
  redis.call('XADD', KEYS[g], 'MAXLEN', '~', gmax, '*', unpack(ARGV, a, b))
  if s > 0 then redis.call('XADD', KEYS[s], 'MAXLEN', '~', smax, '*', unpack(ARGV, a, b)) end
  i = b + 1
end
for k = 4, #KEYS do redis.call('EXPIRE', KEYS[k], ARGV[3]) end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[4])
return 1`;

/** EVAL/EVALSHA/SCRIPT LOAD refused by an ACL or a renamed/disabled command: scripts are not an option. */
export const isScriptDenied = (err: unknown) =>
  err instanceof ErrorReply && /^NOPERM|unknown command|unknown subcommand/i.test(err.message);
export const isNoScript = (err: unknown) => err instanceof ErrorReply && err.message.startsWith('NOSCRIPT');
