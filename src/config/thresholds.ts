/** Performance categories for tool spans and short, factual recommendations for slow ones. */
import type { Config, Thresholds } from './schema.js';

export type PerformanceCategory = 'fast' | 'normal' | 'slow' | 'very_slow';

/**
 * The thresholds for a tool: an exact `thresholds.perTool` entry, else the longest matching
 * wildcard entry (`mcp__*`, `mcp__github__*`), else `thresholds.default`.
 */
export function thresholdsFor(toolName: string, config: Pick<Config, 'thresholds'>): Thresholds {
  const { perTool } = config.thresholds;
  const exact = perTool[toolName];
  if (exact) return exact;
  let best: { length: number; value: Thresholds } | undefined;
  for (const [pattern, value] of Object.entries(perTool)) {
    if (!pattern.endsWith('*')) continue;
    const prefix = pattern.slice(0, -1);
    if (toolName.startsWith(prefix) && (!best || prefix.length > best.length)) best = { length: prefix.length, value };
  }
  return best?.value ?? config.thresholds.default;
}

export function performanceCategory(
  toolName: string,
  durationMs: number,
  config: Pick<Config, 'thresholds'>,
): PerformanceCategory {
  const t = thresholdsFor(toolName, config);
  if (durationMs >= t.verySlowMs) return 'very_slow';
  if (durationMs >= t.slowMs) return 'slow';
  if (durationMs < t.fastMs) return 'fast';
  return 'normal';
}

export interface RecommendationDetails {
  durationMs?: number;
  /** Error text of PostToolUseFailure ("Command timed out after 2m", "Exit code 3"). */
  error?: string;
  isInterrupt?: boolean;
  /** The tool input (for Bash: command, timeout, run_in_background). */
  input?: Record<string, unknown>;
}

const seconds = (ms: number | undefined): string => (ms === undefined ? '' : ` (${Math.round(ms / 100) / 10}s)`);

const TIMED_OUT = /timed out|timeout/i;

/** A one-line hint for a slow or failed tool call, or undefined when there is nothing useful to say. */
export function recommendation(
  toolName: string,
  category: PerformanceCategory,
  details: RecommendationDetails = {},
): string | undefined {
  const slow = category === 'slow' || category === 'very_slow';
  const took = seconds(details.durationMs);
  const background = details.input?.run_in_background === true;
  if (details.isInterrupt) return undefined;

  if (toolName === 'Bash') {
    if (details.error && TIMED_OUT.test(details.error)) {
      return 'Bash command timed out: raise its timeout or start long-running commands with run_in_background';
    }
    if (slow && !background) {
      return `Slow Bash command${took}: consider run_in_background for builds, test suites and servers`;
    }
    return undefined;
  }
  if (!slow) return undefined;
  switch (toolName) {
    case 'WebFetch':
      return `Slow WebFetch${took}: the remote site responded slowly or the page is large`;
    case 'WebSearch':
      return `Slow WebSearch${took}: the search backend responded slowly`;
    case 'Agent':
      return background
        ? undefined
        : `Slow subagent${took}: consider run_in_background or a narrower task for the subagent`;
    case 'Grep':
    case 'Glob':
      return `Slow ${toolName}${took}: narrow the search path or pattern, or exclude large directories`;
    case 'Read':
      return `Slow Read${took}: the file is large or on slow storage; offset/limit read a part of it`;
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
    case 'NotebookEdit':
      return `Slow ${toolName}${took}: file system writes are slow here (network drive or antivirus scanning?)`;
    default:
      if (toolName.startsWith('mcp__')) {
        const server = toolName.split('__')[1] ?? 'unknown';
        return `Slow MCP tool call${took}: the MCP server "${server}" responded slowly`;
      }
      return undefined;
  }
}
