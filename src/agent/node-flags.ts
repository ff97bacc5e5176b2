/**
 * V8 flags the agent is started with (by bin/claude-otel-hook and `claude-otel hook`; a test checks
 * that the script uses the same). A small young generation and a bounded old space keep the agent's
 * resident memory low under load: its live heap is a few tens of MB, the rest would be garbage the
 * heap grew to hold (docs/benchmarks.md). Spans that fail to export beyond the in-memory retry bound
 * stay in the journal, so the old-space bound does not cost data. GC runs on the main thread only
 * (`--single-threaded-gc`): V8's parallel GC helpers cost more CPU in total than they save in pause
 * time here (bench/agent-load: 91 vs 105 µs of CPU per event, and 4 % more events/s, on 2 cores),
 * and the agent's CPU is taken from the machine Claude Code runs on. The young generation's
 * semi-spaces are 6 MB: 4 % more events/s than 4 MB for 10–15 MB more RSS (the agent stays under
 * 150 MB with transcript reading on).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=6', '--max-old-space-size=128', '--single-threaded-gc'];
