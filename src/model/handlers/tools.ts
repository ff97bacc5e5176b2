/**
 * Tool spans: PreToolUse opens `execute_tool {tool_name}` (keyed by tool_use_id) under its owner
 * (its subagent, else its turn: owners.ts `toolOwner`), PostToolUse / PostToolUseFailure close it;
 * PostToolBatch closes what its batch reports and is still open in the same agent;
 * PermissionRequest / PermissionDenied mark the tool they concern (a denied tool gets no Post event).
 */
import {
  ATTR_GEN_AI_AGENT_ID, ATTR_GEN_AI_AGENT_NAME, ATTR_GEN_AI_OPERATION_NAME, ATTR_GEN_AI_TOOL_CALL_ID, ATTR_GEN_AI_TOOL_NAME, ATTR_GEN_AI_TOOL_TYPE, CC,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL, MAIN_AGENT_NAME,
} from '../attributes.js';
import { endTool } from '../closing.js';
import type { Ctx, Handler } from '../emitter.js';
import { spanKeys } from '../ids.js';
import { openSpan, type OpenTool } from '../open-span.js';
import { permissionTool, pointOwner, sessionEnded, toolOwner, type Owner } from '../owners.js';
import { toolOutcomeFromBatch } from '../tool-close.js';
import type {
  Attributes, PermissionDeniedEvent, PermissionRequestEvent, PostToolBatchEvent, PostToolUseEvent, PostToolUseFailureEvent, PreSkillShellCommandEvent, PreToolUseEvent,
} from '../types.js';
import { pointEvent } from './point-events.js';
import { linkAgentCall } from './subagents.js';

type ToolEvent = PreToolUseEvent | PostToolUseEvent | PostToolUseFailureEvent | PreSkillShellCommandEvent;

export function openTool(ctx: Ctx, ev: ToolEvent, startMs: number, owner: Owner = toolOwner(ctx, ev)): OpenTool {
  const { s } = ctx;
  const id = ev.toolUseId;
  const toolName = ev.toolName || 'unknown';
  const attrs: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL, [ATTR_GEN_AI_TOOL_NAME]: toolName, [ATTR_GEN_AI_TOOL_CALL_ID]: id,
    [ATTR_GEN_AI_TOOL_TYPE]: toolName.startsWith('mcp__') ? 'extension' : 'function',
    [ATTR_GEN_AI_AGENT_NAME]: ev.agentId ? ev.agentType || 'subagent' : MAIN_AGENT_NAME,
  };
  if (ev.promptId) attrs[CC.promptId] = ev.promptId;
  if (ev.agentId) attrs[ATTR_GEN_AI_AGENT_ID] = ev.agentId;
  if (ev.inputSize !== undefined) attrs[CC.toolInputSize] = ev.inputSize;
  if (ev.input !== undefined) attrs[CC.toolInput] = ev.input;
  if (ev.subagentType) attrs[CC.agentType] = ev.subagentType;
  if (ev.background !== undefined) attrs[CC.agentBackground] = ev.background;
  const tool: OpenTool = { ...openSpan(s, 'tool', spanKeys.tool(id), `execute_tool ${toolName}`, startMs, owner.spanId, attrs), toolUseId: id, toolName };
  if (ev.promptId) tool.promptId = ev.promptId;
  if (ev.agentId) tool.agentId = ev.agentId;
  if (ev.subagentType) tool.subagentType = ev.subagentType;
  if (ev.background !== undefined) tool.background = ev.background;
  if (owner.late) tool.late = true;
  s.tools.set(id, tool);
  return tool;
}

export const preToolUse: Handler<PreToolUseEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (s.tools.has(ev.toolUseId) || s.closedTools.has(ev.toolUseId)) return;
  // After the session ended nothing would close it: its Post event makes the (late) span.
  if (sessionEnded(s)) return pointEvent(ctx, ev, undefined);
  openTool(ctx, ev, ev.timeMs);
};

export const postToolUse: Handler<PostToolUseEvent | PostToolUseFailureEvent> = (ctx, ev) => {
  const { s } = ctx;
  const id = ev.toolUseId;
  if (s.closedTools.has(id)) return;
  let tool = s.tools.get(id);
  if (!tool) {
    tool = openTool(ctx, ev, ev.timeMs - (ev.durationMs ?? 0));
    if (!tool.late) tool.attributes[CC.gap] = 'missing_start';
  }
  if (tool.toolName === 'Agent') linkAgentCall(ctx, tool, ev);
  if (ev.name === 'PostToolUseFailure') {
    endTool(ctx, tool, ev.timeMs, { kind: ev.isInterrupt ? 'interrupted' : 'error', durationMs: ev.durationMs, error: ev.error });
  } else {
    endTool(ctx, tool, ev.timeMs, { kind: 'success', durationMs: ev.durationMs, output: ev.output, outputSize: ev.outputSize });
  }
};

export const postToolBatch: Handler<PostToolBatchEvent> = (ctx, ev) => {
  for (const call of ev.batch ?? []) {
    const tool = ctx.s.tools.get(call.toolUseId);
    if (tool && tool.agentId === ev.agentId && !tool.skillCommand) endTool(ctx, tool, ev.timeMs, toolOutcomeFromBatch(tool, call));
  }
  pointEvent(ctx, ev, undefined);
};

export const permissionDenied: Handler<PermissionDeniedEvent> = (ctx, ev) => {
  const byId = ev.toolUseId ? ctx.s.tools.get(ev.toolUseId) : undefined;
  const tool = byId ?? (ev.toolUseId ? undefined : permissionTool(ctx.s, ev.toolName, ev.agentId));
  if (tool) tool.deniedReason = ev.reason ?? 'permission_denied';
  pointEvent(ctx, ev, tool ?? pointOwner(ctx.s, ev));
};

export const permissionRequest: Handler<PermissionRequestEvent> = (ctx, ev) => {
  const tool = permissionTool(ctx.s, ev.toolName, ev.agentId);
  if (tool) tool.permissionRequested = true;
  pointEvent(ctx, ev, tool);
};
