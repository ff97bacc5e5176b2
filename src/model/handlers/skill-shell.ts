/**
 * PreSkillShellCommand (Claude Code 2.1.332): a shell command embedded in a skill or slash command
 * (`!`echo ...``), run by Claude Code itself, not by a model tool call. Its tool_use_id names no
 * transcript tool call: `<Skill tool_use_id>:preamble-<n>` when the model invoked the skill through
 * the Skill tool, `<uuid>:inner:preamble-<n>` when the user typed the command. Its span,
 * `execute_tool {Bash|PowerShell}` with `claude_code.tool.origin=skill`, goes under the Skill tool
 * call it belongs to, else under the subagent or turn that ran it. A PostToolUse/PostToolUseFailure
 * with the same tool_use_id closes it with that outcome; Claude Code 2.1.332 sends none, so it
 * closes with its owner as `unreported` (no error, no gap; its duration is then an upper bound).
 */
import { CC } from '../attributes.js';
import type { Handler } from '../emitter.js';
import { pointEvent } from './point-events.js';
import { openTool } from './tools.js';
import { sessionEnded, toolOwner, type Owner } from '../owners.js';
import type { PreSkillShellCommandEvent } from '../types.js';

export const preSkillShellCommand: Handler<PreSkillShellCommandEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (s.tools.has(ev.toolUseId) || s.closedTools.has(ev.toolUseId)) return;
  if (sessionEnded(s)) return pointEvent(ctx, ev, undefined);
  const skillTool = s.tools.get(ev.toolUseId.split(':', 1)[0]!);
  const owner: Owner = skillTool ? { spanId: skillTool.spanId, span: skillTool } : toolOwner(ctx, ev);
  const tool = openTool(ctx, ev, ev.timeMs, owner);
  tool.skillCommand = true;
  tool.attributes[CC.toolOrigin] = 'skill';
  if (ev.commandName) tool.attributes[CC.skillCommandName] = ev.commandName;
  if (ev.commandSource) tool.attributes[CC.skillCommandSource] = ev.commandSource;
  if (ev.invokedBy) tool.attributes[CC.skillInvokedBy] = ev.invokedBy;
};
