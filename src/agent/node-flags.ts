/**
 * V8 flags the agent is started with (by bin/claude-otel-hook and `claude-otel hook`; a test checks
 * that the script uses the same). A small young generation and a bounded old space keep the agent's
 * resident memory low under load: its live heap is a few tens of MB, the rest would be garbage the
 * heap grew to hold (docs/benchmarks.md). Spans that fail to export beyond the in-memory retry bound
 * stay in the journal, so the old-space bound does not cost data.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--max-old-space-size=128'];
