/**
 * The W3C `traceparent` a command hook forwards from its environment (TRACEPARENT: Claude Code's
 * own `claude_code.interaction` span of the prompt, when its native tracing is on). Validated here,
 * at the agent's edge, with the OTel SDK's own parser (version, all-zero ids, length); anything
 * else is dropped without a word: a bad value must never cost the event.
 */
import { parseTraceParent } from '@opentelemetry/core';

const MAX = 256;

/** The canonical `00-<trace id>-<span id>-<flags>` form, or undefined when the value is not one. */
export function validTraceparent(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX) return undefined;
  const ctx = parseTraceParent(value.trim());
  if (!ctx) return undefined;
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
