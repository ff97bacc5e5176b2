/**
 * The attribute vocabulary of the trace model: every attribute key the builder writes, in one place
 * (docs/trace-model.md is its contract). Stable OpenTelemetry conventions come from
 * `@opentelemetry/semantic-conventions`; the GenAI ones are still "Development" there, so, as that
 * package recommends for unstable conventions, they are copied here (a unit test checks each copy
 * against `@opentelemetry/semantic-conventions/incubating` 1.45.0). Followed: the GenAI agent and
 * tool span conventions of semantic-conventions-genai (`gen-ai-agent-spans.md`, `gen-ai-spans.md`
 * execute_tool), as of semconv 1.41.
 */
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

export { ATTR_ERROR_TYPE };
export const ATTR_SESSION_ID = 'session.id';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';
export const GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT = 'invoke_agent';
export const GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL = 'execute_tool';

/** The root span's agent name (`invoke_agent claude-code`). */
export const MAIN_AGENT_NAME = 'claude-code';

/** claude_code.* attributes (our own namespace). */
export const CC = {
  spanKind: 'claude_code.span.kind',
  promptId: 'claude_code.prompt.id',
  gap: 'claude_code.gap',
  gapSinceMs: 'claude_code.gap.since_ms',
  late: 'claude_code.late',
  cwd: 'claude_code.cwd',
  permissionMode: 'claude_code.permission_mode',
  sessionSource: 'claude_code.session.source',
  sessionEndReason: 'claude_code.session.end_reason',
  sessionTurns: 'claude_code.session.turns',
  sessionToolErrors: 'claude_code.session.tool_errors',
  turnNumber: 'claude_code.turn.number',
  turnOutcome: 'claude_code.turn.outcome',
  promptSize: 'claude_code.prompt.size',
  promptKind: 'claude_code.prompt.kind',
  /** On a span link: what the linked span is (`claude_code.interaction`: Claude Code's own prompt span). */
  linkType: 'claude_code.link.type',
  prompt: 'claude_code.prompt',
  agentType: 'claude_code.agent.type',
  agentBackground: 'claude_code.agent.background',
  agentOutcome: 'claude_code.agent.outcome',
  compactionTrigger: 'claude_code.compaction.trigger',
  compactionOutcome: 'claude_code.compaction.outcome',
  toolOrigin: 'claude_code.tool.origin',
  toolOutcome: 'claude_code.tool.outcome',
  toolDurationMs: 'claude_code.tool.duration_ms',
  toolWaitMs: 'claude_code.tool.wait_ms',
  toolInputSize: 'claude_code.tool.input.size',
  toolOutputSize: 'claude_code.tool.output.size',
  toolInput: 'claude_code.tool.input',
  toolOutput: 'claude_code.tool.output',
  toolDeniedReason: 'claude_code.tool.denied_reason',
  toolPerformanceCategory: 'claude_code.tool.performance_category',
  toolRecommendation: 'claude_code.tool.recommendation',
  skillCommandName: 'claude_code.skill.command_name',
  skillCommandSource: 'claude_code.skill.command_source',
  skillInvokedBy: 'claude_code.skill.invoked_by',
  reason: 'claude_code.reason',
  hookEventName: 'claude_code.hook_event_name',
} as const;

export type SpanKind = 'session' | 'segment' | 'turn' | 'tool' | 'subagent' | 'compaction';

/** Values of `claude_code.gap`: why a span is incomplete. */
export type GapKind = 'missing_start' | 'missing_end' | 'agent_down';
