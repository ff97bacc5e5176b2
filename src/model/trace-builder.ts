/**
 * Where a hook event becomes spans. Pure: time and ids come from the event and its session, no I/O.
 * `apply(event)` returns the spans that closed and the log records that the event produced.
 *
 * State is keyed by what it belongs to: session → turn (prompt_id) → tool (tool_use_id) and
 * subagent (agent_id). See docs/trace-model.md for the model and its attributes.
 */
import { spanIdFor, spanKeys, traceIdFor } from './ids.js';
import { finish, openRoot, openSegment, openSpan, type OpenAgent, type OpenSpan, type OpenTool, type SessionState } from './open-span.js';
import { closeTool, toolOutcomeFromBatch, type Categorize } from './tool-close.js';
import { confirmAgentParent, resolveAgentParent } from './agent-links.js';
import { markOutage } from './outage.js';
import type { Attributes, BridgeEvent, BuilderOutput, SpanRecord } from './types.js';

export interface TraceBuilderOptions {
  categorize?: Categorize;
}

export interface BuilderCounters {
  gaps: number;
}

export function createTraceBuilder(options: TraceBuilderOptions = {}) {
  const sessions = new Map<string, SessionState>();
  const counters: BuilderCounters = { gaps: 0 };
  let out: BuilderOutput[] = [];
  let seq = 0;

  const emitSpan = (span: SpanRecord) => {
    if (span.attributes['claude_code.gap'] !== undefined) counters.gaps++;
    out.push({ type: 'span', span, seq });
  };

  function session(ev: BridgeEvent): SessionState {
    let s = sessions.get(ev.sessionId);
    if (!s) {
      s = {
        sessionId: ev.sessionId, traceId: traceIdFor(ev.sessionId), rootSpanId: spanIdFor(ev.sessionId, spanKeys.root()),
        rootEnded: false, segments: 0, turns: new Map(), turnCount: 0, gapTurns: 0, tools: new Map(), closedTools: new Set(),
        agents: new Map(), launchedBy: new Map(), compactions: 0, lastEventMs: ev.timeMs, toolErrors: 0,
      };
      sessions.set(ev.sessionId, s);
      if (ev.name === 'SessionStart' && ev.source === 'resume') {
        s.rootEnded = true; // the root was written by an earlier run: only a segment opens
        openSegment(s, ev);
      } else openRoot(s, ev, ev.name === 'SessionStart' ? undefined : 'missing_start');
    }
    s.lastEventMs = Math.max(s.lastEventMs, ev.timeMs);
    if (ev.pid) s.pid = ev.pid;
    if (ev.via === 'http') s.viaHttp = true;
    return s;
  }

  const contextParent = (s: SessionState) => s.segment?.spanId ?? s.rootSpanId;

  function turnFor(s: SessionState, ev: BridgeEvent): OpenSpan {
    const byPrompt = ev.promptId ? s.turns.get(ev.promptId) : undefined;
    if (byPrompt) return byPrompt;
    if (!ev.promptId) {
      const latest = [...s.turns.values()].at(-1);
      if (latest) return latest;
    }
    const key = ev.promptId ? spanKeys.turn(ev.promptId) : spanKeys.gapTurn(++s.gapTurns);
    const turn = openSpan(s, 'turn', key, 'claude_code.turn', ev.timeMs, contextParent(s), { 'claude_code.gap': 'missing_start' });
    if (ev.promptId) turn.attributes['claude_code.prompt.id'] = ev.promptId;
    s.turns.set(ev.promptId ?? key, turn);
    return turn;
  }

  function agentSpanFor(s: SessionState, ev: BridgeEvent, agentId: string): OpenAgent {
    const known = s.agents.get(agentId);
    if (known) return known;
    const agent = openAgent(s, ev, agentId);
    agent.attributes['claude_code.gap'] = 'missing_start';
    return agent;
  }

  function openAgent(s: SessionState, ev: BridgeEvent, agentId: string): OpenAgent {
    const type = ev.agentType || 'subagent';
    const base = openSpan(s, 'subagent', spanKeys.agent(agentId), `invoke_agent ${type}`, ev.timeMs, undefined, {
      'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': type, 'gen_ai.agent.id': agentId, 'claude_code.agent.type': type,
    });
    const agent: OpenAgent = { ...base, agentId, parentConfirmed: false };
    if (ev.promptId) agent.promptId = ev.promptId;
    resolveAgentParent(s, agent, ev.agentType, () => turnFor(s, ev).spanId);
    s.agents.set(agentId, agent);
    return agent;
  }

  function emitAgentIfReady(agent: OpenAgent, force: boolean, s: SessionState) {
    if (!agent.finished || (!agent.parentConfirmed && !force)) return;
    if (agent.parentSpanId) agent.finished.parentSpanId = agent.parentSpanId;
    emitSpan(agent.finished);
    s.agents.delete(agent.agentId);
  }

  function closeAgent(s: SessionState, agent: OpenAgent, endMs: number, extra: Attributes) {
    for (const tool of [...s.tools.values()]) {
      if (tool.agentId === agent.agentId) endTool(s, tool, endMs, { kind: 'not_completed' });
    }
    agent.finished = finish(agent, endMs, extra);
    emitAgentIfReady(agent, false, s);
  }

  function endTool(s: SessionState, tool: OpenTool, endMs: number, result: Parameters<typeof closeTool>[2]) {
    s.tools.delete(tool.toolUseId);
    s.closedTools.add(tool.toolUseId);
    const span = closeTool(tool, endMs, result, options.categorize);
    if (span.status.code === 'error') s.toolErrors++;
    emitSpan(span);
  }

  function closeTurn(s: SessionState, turn: OpenSpan, key: string, ev: BridgeEvent, extra: Attributes, status?: SpanRecord['status']) {
    for (const tool of [...s.tools.values()]) {
      if (!tool.agentId && tool.parentSpanId === turn.spanId) {
        endTool(s, tool, ev.timeMs, tool.deniedReason || tool.permissionRequested ? { kind: 'denied', error: tool.deniedReason } : { kind: 'not_completed' });
      }
    }
    for (const agent of [...s.agents.values()]) emitAgentIfReady(agent, true, s);
    if (s.compaction?.parentSpanId === turn.spanId) closeCompaction(s, ev.timeMs, { 'claude_code.gap': 'missing_end' });
    s.turns.delete(key);
    emitSpan(finish(turn, ev.timeMs, extra, status));
  }

  function closeCompaction(s: SessionState, endMs: number, extra: Attributes) {
    if (!s.compaction) return;
    emitSpan(finish(s.compaction, endMs, extra));
    s.compaction = undefined;
  }

  function endSession(s: SessionState, endMs: number, attrs: Attributes, gap: boolean) {
    for (const tool of [...s.tools.values()]) endTool(s, tool, endMs, { kind: 'not_completed' });
    for (const agent of [...s.agents.values()]) {
      if (!agent.finished) agent.finished = finish(agent, endMs, { 'claude_code.gap': 'missing_end' });
      emitAgentIfReady(agent, true, s);
    }
    closeCompaction(s, endMs, { 'claude_code.gap': 'missing_end' });
    for (const [key, turn] of [...s.turns]) {
      s.turns.delete(key);
      emitSpan(finish(turn, endMs, { 'claude_code.turn.outcome': 'not_completed', 'claude_code.gap': 'missing_end' }));
    }
    const gapAttr: Attributes = gap ? { 'claude_code.gap': 'missing_end' } : {};
    if (s.segment) {
      emitSpan(finish(s.segment, endMs, { ...attrs, ...gapAttr }));
      s.segment = undefined;
    }
    if (s.root) {
      // A session whose last turn ended in an API error (StopFailure) ended in error.
      const failed = s.lastTurnError;
      const summary = { 'claude_code.session.turns': s.turnCount, 'claude_code.session.tool_errors': s.toolErrors };
      emitSpan(failed
        ? finish(s.root, endMs, { ...attrs, ...gapAttr, ...summary, 'error.type': failed }, { code: 'error', message: failed })
        : finish(s.root, endMs, { ...attrs, ...gapAttr, ...summary }));
      s.root = undefined;
    }
    s.rootEnded = true;
    s.endedAtMs = endMs;
    s.launchedBy.clear(); // kept until eviction: ids, times and closed tool ids (late duplicates)
  }

  function pointEvent(s: SessionState, ev: BridgeEvent, target: OpenSpan | undefined) {
    const span = target ?? turnOrRoot(s, ev);
    const attributes: Attributes = { ...(ev.details ?? {}) };
    if (ev.toolName) attributes['gen_ai.tool.name'] = ev.toolName;
    if (ev.toolUseId) attributes['gen_ai.tool.call.id'] = ev.toolUseId;
    if (ev.reason) attributes['claude_code.reason'] = ev.reason;
    if (span) span.events.push({ name: `claude_code.${ev.name}`, timeMs: ev.timeMs, attributes });
    const logAttrs: Attributes = { ...attributes, 'session.id': s.sessionId, 'claude_code.hook_event_name': ev.name };
    if (ev.promptId) logAttrs['claude_code.prompt.id'] = ev.promptId;
    out.push({
      type: 'log',
      seq,
      log: {
        timeMs: ev.timeMs, eventName: `claude_code.hook.${ev.name}`, severity: ev.name === 'PermissionDenied' ? 'WARN' : 'INFO',
        body: ev.name, attributes: logAttrs, traceId: s.traceId, spanId: span?.spanId ?? s.rootSpanId,
      },
    });
  }

  function turnOrRoot(s: SessionState, ev: BridgeEvent): OpenSpan | undefined {
    return (ev.promptId ? s.turns.get(ev.promptId) : undefined) ?? s.compaction ?? [...s.turns.values()].at(-1) ?? s.segment ?? s.root;
  }

  const handlers: Record<string, (s: SessionState, ev: BridgeEvent) => void> = {
    SessionStart(s, ev) {
      if (ev.source === 'resume' || s.rootEnded) {
        if (s.segment) emitSpan(finish(s.segment, ev.timeMs, { 'claude_code.gap': 'missing_end' }));
        openSegment(s, ev);
        return;
      }
      pointEvent(s, ev, s.compaction ?? s.root);
    },
    SessionEnd(s, ev) {
      endSession(s, ev.timeMs, ev.reason ? { 'claude_code.session.end_reason': ev.reason } : {}, false);
    },
    UserPromptSubmit(s, ev) {
      const key = ev.promptId ?? `gap-${ev.seq}`;
      const attrs: Attributes = {};
      if (ev.promptId) attrs['claude_code.prompt.id'] = ev.promptId;
      if (ev.promptSize !== undefined) attrs['claude_code.prompt.size'] = ev.promptSize;
      if (ev.promptKind) attrs['claude_code.prompt.kind'] = ev.promptKind;
      if (ev.prompt !== undefined) attrs['claude_code.prompt'] = ev.prompt;
      const early = s.turns.get(key);
      if (early) {
        // A later event of this turn arrived first (two transports): the prompt completes the turn.
        if (early.attributes['claude_code.gap'] === 'missing_start') {
          delete early.attributes['claude_code.gap'];
          Object.assign(early.attributes, attrs, { 'claude_code.turn.number': ++s.turnCount });
          early.startMs = Math.min(early.startMs, ev.timeMs);
        }
        return;
      }
      for (const [oldKey, old] of [...s.turns]) closeTurn(s, old, oldKey, ev, { 'claude_code.turn.outcome': 'not_completed', 'claude_code.gap': 'missing_end' });
      attrs['claude_code.turn.number'] = ++s.turnCount;
      s.turns.set(key, openSpan(s, 'turn', ev.promptId ? spanKeys.turn(ev.promptId) : spanKeys.gapTurn(++s.gapTurns), 'claude_code.turn', ev.timeMs, contextParent(s), attrs));
    },
    Stop(s, ev) {
      s.lastTurnError = undefined;
      const turn = turnFor(s, ev);
      closeTurn(s, turn, keyOf(s, turn), ev, { 'claude_code.turn.outcome': 'stop' });
    },
    StopFailure(s, ev) {
      const turn = turnFor(s, ev);
      const errorType = ev.error || 'stop_failure';
      s.lastTurnError = errorType;
      closeTurn(s, turn, keyOf(s, turn), ev, { 'claude_code.turn.outcome': 'stop_failure', 'error.type': errorType }, { code: 'error', message: errorType });
    },
    PreToolUse(s, ev) {
      const id = ev.toolUseId!;
      if (s.tools.has(id) || s.closedTools.has(id)) return;
      openTool(s, ev, ev.timeMs);
    },
    PostToolUse: (s, ev) => postTool(s, ev),
    PostToolUseFailure: (s, ev) => postTool(s, ev),
    SubagentStart(s, ev) {
      if (!ev.agentId || s.agents.has(ev.agentId)) return;
      const agent = openAgent(s, ev, ev.agentId);
      const launcher = s.launchedBy.get(ev.agentId);
      if (launcher) confirmAgentParent(s, agent, launcher.toolUseId, spanIdFor(s.sessionId, spanKeys.tool(launcher.toolUseId)), launcher.background);
    },
    SubagentStop(s, ev) {
      if (!ev.agentId) return;
      const agent = s.agents.get(ev.agentId);
      if (!agent && !ev.agentType) return pointEvent(s, ev, s.compaction ?? s.root); // compaction fork: no SubagentStart
      if (agent?.finished) return;
      closeAgent(s, agent ?? agentSpanFor(s, ev, ev.agentId), ev.timeMs, {});
    },
    PreCompact(s, ev) {
      if (s.compaction) return;
      const parent = turnOrRoot(s, ev);
      s.compaction = openSpan(s, 'compaction', spanKeys.compaction(++s.compactions), 'claude_code.compaction', ev.timeMs, parent?.spanId ?? s.rootSpanId, {
        'claude_code.compaction.trigger': ev.source ?? 'unknown',
      });
    },
    PostCompact(s, ev) {
      if (!s.compaction) {
        s.compaction = openSpan(s, 'compaction', spanKeys.compaction(++s.compactions), 'claude_code.compaction', ev.timeMs, contextParent(s), { 'claude_code.gap': 'missing_start' });
      }
      closeCompaction(s, ev.timeMs, {});
    },
    PermissionDenied(s, ev) {
      const tool = ev.toolUseId ? s.tools.get(ev.toolUseId) : latestTool(s, ev.toolName);
      if (tool) tool.deniedReason = ev.reason ?? 'permission_denied';
      pointEvent(s, ev, tool);
    },
    PermissionRequest(s, ev) {
      const tool = latestTool(s, ev.toolName);
      if (tool) tool.permissionRequested = true;
      pointEvent(s, ev, tool);
    },
    PostToolBatch(s, ev) {
      for (const call of ev.batch ?? []) {
        const tool = s.tools.get(call.toolUseId);
        if (tool && !tool.agentId) endTool(s, tool, ev.timeMs, toolOutcomeFromBatch(tool, call.response));
      }
      pointEvent(s, ev, undefined);
    },
  };

  function keyOf(s: SessionState, turn: OpenSpan): string {
    for (const [key, t] of s.turns) if (t === turn) return key;
    return '';
  }

  function latestTool(s: SessionState, toolName: string | undefined): OpenTool | undefined {
    return [...s.tools.values()].filter((t) => t.toolName === toolName).at(-1);
  }

  function openTool(s: SessionState, ev: BridgeEvent, startMs: number): OpenTool {
    const id = ev.toolUseId!;
    const parent = ev.agentId ? agentSpanFor(s, ev, ev.agentId) : turnFor(s, ev);
    const toolName = ev.toolName ?? 'unknown';
    const attrs: Attributes = {
      'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': toolName, 'gen_ai.tool.call.id': id,
      'gen_ai.tool.type': toolName.startsWith('mcp__') ? 'extension' : 'function',
    };
    if (ev.promptId) attrs['claude_code.prompt.id'] = ev.promptId;
    if (ev.agentId) attrs['gen_ai.agent.id'] = ev.agentId;
    if (ev.inputSize !== undefined) attrs['claude_code.tool.input.size'] = ev.inputSize;
    if (ev.input !== undefined) attrs['claude_code.tool.input'] = ev.input;
    if (ev.subagentType) attrs['claude_code.agent.type'] = ev.subagentType;
    if (ev.background !== undefined) attrs['claude_code.agent.background'] = ev.background;
    const tool: OpenTool = { ...openSpan(s, 'tool', spanKeys.tool(id), `execute_tool ${toolName}`, startMs, parent.spanId, attrs), toolUseId: id, toolName };
    if (ev.promptId) tool.promptId = ev.promptId;
    if (ev.agentId) tool.agentId = ev.agentId;
    if (ev.subagentType) tool.subagentType = ev.subagentType;
    if (ev.background !== undefined) tool.background = ev.background;
    s.tools.set(id, tool);
    return tool;
  }

  function postTool(s: SessionState, ev: BridgeEvent) {
    const id = ev.toolUseId!;
    if (s.closedTools.has(id)) return;
    let tool = s.tools.get(id);
    if (!tool) {
      tool = openTool(s, ev, ev.timeMs - (ev.durationMs ?? 0));
      tool.attributes['claude_code.gap'] = 'missing_start';
    }
    if (tool.toolName === 'Agent') linkAgentCall(s, tool, ev);
    const failed = ev.name === 'PostToolUseFailure';
    endTool(s, tool, ev.timeMs, {
      kind: failed ? (ev.isInterrupt ? 'interrupted' : 'error') : 'success',
      durationMs: ev.durationMs, error: ev.error, output: ev.output, outputSize: ev.outputSize,
    });
  }

  function linkAgentCall(s: SessionState, tool: OpenTool, ev: BridgeEvent) {
    const agentId = ev.launchedAgentId;
    if (agentId) {
      const background = tool.background === true || ev.responseStatus === 'async_launched';
      s.launchedBy.set(agentId, { toolUseId: tool.toolUseId, background });
      tool.attributes['gen_ai.agent.id'] = agentId;
      const agent = s.agents.get(agentId);
      if (agent) {
        confirmAgentParent(s, agent, tool.toolUseId, tool.spanId, background);
        emitAgentIfReady(agent, false, s);
      }
    }
    for (const agent of [...s.agents.values()]) {
      if (agent.parentToolUseId === tool.toolUseId && !agent.parentConfirmed) {
        agent.parentConfirmed = true;
        emitAgentIfReady(agent, false, s);
      }
    }
  }

  return {
    /** Applies one event; returns the spans it closed and the log records it produced. */
    apply(ev: BridgeEvent): BuilderOutput[] {
      out = [];
      seq = ev.seq;
      const opensSession = !sessions.has(ev.sessionId);
      const s = session(ev);
      const handler = handlers[ev.name];
      if (opensSession && ev.name === 'SessionStart') return out; // session() opened its root or segment
      if (handler) handler(s, ev);
      else pointEvent(s, ev, undefined);
      return out;
    },
    /** Closes everything a session still holds open (its process is gone, or it idled out). */
    closeSession(sessionId: string, reason: string, atMs: number, atSeq: number): BuilderOutput[] {
      out = [];
      seq = atSeq;
      const s = sessions.get(sessionId);
      if (s && (!s.rootEnded || s.segment)) endSession(s, atMs, { 'claude_code.session.end_reason': `bridge:${reason}` }, true);
      return out;
    },
    /** After an unclean agent stop: marks the outage on open http-fed sessions (see outage.ts). */
    markOutage: (atMs: number): number => markOutage(sessions.values(), counters, atMs),
    /** Forgets sessions that ended before `beforeMs` (late events then start a gap-marked span). */
    evictEnded(beforeMs: number) {
      for (const [id, s] of sessions) if (s.endedAtMs !== undefined && s.endedAtMs < beforeMs && s.lastEventMs < beforeMs) sessions.delete(id);
    },
    sessions: () => sessions as ReadonlyMap<string, SessionState>,
    /** Sessions with an open root or resumed segment (ended ones are kept a while for late events). */
    openSessions: (): SessionState[] => [...sessions.values()].filter((s) => s.root || s.segment),
    openSpanCount(): number {
      let n = 0;
      for (const s of sessions.values()) {
        n += (s.root ? 1 : 0) + (s.segment ? 1 : 0) + (s.compaction ? 1 : 0) + s.turns.size + s.tools.size + s.agents.size;
      }
      return n;
    },
    counters,
  };
}

export type TraceBuilder = ReturnType<typeof createTraceBuilder>;
