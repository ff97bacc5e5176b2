/** Binds the configured per-tool thresholds to the trace builder's categorize hook. */
import type { Config } from '../config/schema.js';
import { performanceCategory, recommendation } from '../config/thresholds.js';
import type { Categorize } from '../model/tool-close.js';

export function categorizer(config: Pick<Config, 'thresholds'>): Categorize {
  return (toolName, durationMs, details) => {
    const category = performanceCategory(toolName, durationMs, config);
    return {
      category,
      recommendation: recommendation(toolName, category, { durationMs, ...(details.timedOut ? { error: 'timed out' } : {}) }),
    };
  };
}
