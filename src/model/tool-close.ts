/** Closing a tool span: one builder for every outcome (success, failure, denial, no Post event). */
import { finish, type OpenTool } from './open-span.js';
import type { Attributes, SpanRecord } from './types.js';

/** `unreported`: a skill shell command, for which Claude Code sends no result event. */
export type ToolOutcome = 'success' | 'error' | 'interrupted' | 'denied' | 'not_completed' | 'unreported';

export interface ToolResult {
  kind: ToolOutcome;
  durationMs?: number | undefined;
  error?: string | undefined;
  output?: string | undefined;
  outputSize?: number | undefined;
}

/** Maps a tool name and execution time to a performance category (and an optional advice line). */
export type Categorize = (toolName: string, durationMs: number, details: { timedOut: boolean }) =>
  { category: string; recommendation?: string | undefined } | undefined;

const MAX_MESSAGE = 256;

/** `error.type` for a failed tool: low cardinality, usable as a metric dimension. */
export function errorType(result: ToolResult): string | undefined {
  switch (result.kind) {
    case 'success':
    case 'unreported':
      return undefined;
    case 'interrupted':
      return 'interrupted';
    case 'denied':
      return 'permission_denied';
    case 'not_completed':
      return 'not_completed';
    case 'error': {
      const exit = /^Exit code (\d+)/.exec(result.error ?? '');
      if (exit) return `exit_code_${exit[1]}`;
      if (/timed? ?out/i.test(result.error ?? '')) return 'timeout';
      return 'tool_error';
    }
  }
}

export function closeTool(tool: OpenTool, endMs: number, result: ToolResult, categorize?: Categorize): SpanRecord {
  const attrs: Attributes = { 'claude_code.tool.outcome': result.kind };
  const spanMs = Math.max(0, endMs - tool.startMs);
  if (result.durationMs !== undefined) {
    attrs['claude_code.tool.duration_ms'] = result.durationMs;
    attrs['claude_code.tool.wait_ms'] = Math.max(0, Math.round(spanMs - result.durationMs));
  }
  if (result.outputSize !== undefined) attrs['claude_code.tool.output.size'] = result.outputSize;
  if (result.output !== undefined) attrs['claude_code.tool.output'] = result.output;
  const type = errorType(result);
  if (type) attrs['error.type'] = type;
  if (result.kind === 'not_completed') attrs['claude_code.gap'] = 'missing_end'; // no Post event came
  if (result.kind === 'denied' && result.error) attrs['claude_code.tool.denied_reason'] = result.error.slice(0, MAX_MESSAGE);
  const measured = result.durationMs ?? spanMs;
  const category = categorize?.(tool.toolName, measured, { timedOut: type === 'timeout' });
  if (category) {
    attrs['claude_code.tool.performance_category'] = category.category;
    if (category.recommendation) attrs['claude_code.tool.recommendation'] = category.recommendation;
  }
  const status: SpanRecord['status'] = type
    ? { code: 'error', message: (result.error ?? type).slice(0, MAX_MESSAGE) }
    : { code: 'unset' };
  return finish(tool, endMs, attrs, status);
}

const DENIAL = /permission|denied|not allowed|haven't granted|was blocked/i;

/** Whether a batch's response text says the tool was refused (normalize decides it on the raw text). */
export const isDenial = (text: string) => DENIAL.test(text);

/**
 * A tool still open when its batch reports: refused when a permission event named it or the
 * response says so. The response text (present only when tool outputs are captured, redacted)
 * is the only content that may reach the status message.
 */
export function toolOutcomeFromBatch(tool: OpenTool, call: { response?: string | undefined; denied?: boolean | undefined }): ToolResult {
  if (tool.deniedReason || tool.permissionRequested || call.denied || (call.response && DENIAL.test(call.response))) {
    return { kind: 'denied', error: tool.deniedReason ?? firstLine(call.response) };
  }
  return { kind: 'not_completed', error: firstLine(call.response) };
}

function firstLine(text: string | undefined): string | undefined {
  return text?.split('\n', 1)[0]?.slice(0, MAX_MESSAGE);
}
