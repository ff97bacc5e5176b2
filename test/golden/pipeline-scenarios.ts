/**
 * The sessions the pipeline golden replays: two recorded with the real CLI (2.1.328) and
 * synthetic-but-realistic ones assembled from real fixture payloads (only ids and the order of
 * events chosen here, as the real CLI sends them; see ../shared/claude-code-facts.md).
 * A scenario is one or more runs; each run is a fresh builder (a restarted agent that forgot the
 * session) unless `sameAgent` is set.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixture } from '../support/fixtures.js';
import type { Step } from '../support/replay.js';

export interface Run {
  steps: Step[];
  sameAgent?: boolean;
}
export interface Scenario {
  name: string;
  about: string;
  runs: Run[];
  /** The scenario leaves events out on purpose (gap marks expected), or sends events after SessionEnd. */
  eventsRemoved?: boolean;
  allowLate?: boolean;
}

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

function recorded(path: string): Step[] {
  return readFileSync(repo(path), 'utf8').split('\n').filter(Boolean).map((line, i) => {
    const row = JSON.parse(line) as { offsetMs?: number; event?: Record<string, unknown> } & Record<string, unknown>;
    return row.event ? { payload: row.event, at: row.offsetMs ?? i * 10 } : { payload: row, at: i * 10 };
  });
}

type Item = [name: string, overrides?: Record<string, unknown>];

/** Steps 10 ms apart, every payload a real fixture with the scenario's ids laid over it. */
function steps(sessionId: string, promptId: string, items: Item[], startAt = 0): Step[] {
  return items.map(([name, overrides = {}], i) => ({
    payload: fixture(name, { session_id: sessionId, prompt_id: promptId, ...overrides }),
    at: startAt + i * 10,
  }));
}

const tool = (id: string, name = 'Bash', extra: Record<string, unknown> = {}) => ({ tool_use_id: id, tool_name: name, ...extra });
const agentCall = (id: string, background = false, type = 'general-purpose') => ({
  tool_use_id: id, tool_input: { description: 'mock subagent', prompt: 'SUBAGENT-TASK', subagent_type: type, run_in_background: background },
});
const inAgent = (agentId: string, extra: Record<string, unknown> = {}) => ({ agent_id: agentId, agent_type: 'general-purpose', ...extra });
/** 2.1.332's recorded PreToolUse.in-subagent is a Write: a subagent's Bash call, as its session recorded it (tools-and-subagent). */
const bashInAgent = { tool_name: 'Bash', tool_input: { command: 'echo in-sub', description: 'echo in-sub' } };
const noPrompt = { prompt_id: undefined };

const S = {
  parallel: '10000000-0000-4000-8000-000000000001',
  background: '10000000-0000-4000-8000-000000000002',
  denied: '10000000-0000-4000-8000-000000000003',
  compaction: '10000000-0000-4000-8000-000000000004',
  resume: '10000000-0000-4000-8000-000000000005',
  stopFailure: '10000000-0000-4000-8000-000000000006',
  subagentFailure: '10000000-0000-4000-8000-000000000007',
  batch: '10000000-0000-4000-8000-000000000008',
  late: '10000000-0000-4000-8000-000000000009',
  resumeCompact: '10000000-0000-4000-8000-00000000000a',
  subagentDenied: '10000000-0000-4000-8000-00000000000b',
};

const REAL_332 = 'test/fixtures/claude-code-2.1.332/sessions';
/** Whole sessions recorded with the real CLI 2.1.332 (see that folder's README). */
const recorded332 = [
  'resume-twice', 'compact-fresh', 'compact-resumed', 'subagent-api-error', 'subagent-tool-denied', 'subagent-interrupted-sigint',
  'subagent-interrupted-then-prompt', 'slash-command-shell', 'skill-shell', 'background-subagent', 'tools-and-subagent',
  'api-error-529', 'api-error-400', 'auto-mode-denied', 'cwd-and-config',
].map((name): Scenario => ({ name: `real-2.1.332-${name}`, about: `${REAL_332}/${name}.jsonl (recorded)`, runs: [{ steps: recorded(`${REAL_332}/${name}.jsonl`) }] }));

export const scenarios: Scenario[] = [
  ...recorded332,
  {
    name: 'recorded-session',
    about: 'examples/recorded-session.jsonl: tools in parallel, a failing Bash, a foreground subagent, PostToolBatch, MessageDisplay',
    runs: [{ steps: recorded('examples/recorded-session.jsonl') }],
  },
  {
    name: 'native-otel-session',
    about: 'the hook payloads recorded next to the native OTel samples (one subagent)',
    runs: [{ steps: recorded('test/fixtures/claude-code-2.1.328/native-otel/hooks-from-same-session-as-samples.jsonl') }],
  },
  {
    name: 'parallel-subagents',
    about: 'two Agent calls of the same type in one message; the subagents start in the other order',
    runs: [{ steps: steps(S.parallel, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'],
      ['PreToolUse.Agent', agentCall('toolu_A1')], ['PreToolUse.Agent', agentCall('toolu_A2')],
      ['SubagentStart', inAgent('agent-second')], ['SubagentStart', inAgent('agent-first')],
      ['PreToolUse.in-subagent', inAgent('agent-second', { tool_use_id: 'toolu_s2', ...bashInAgent })],
      ['PreToolUse.in-subagent', inAgent('agent-first', { tool_use_id: 'toolu_s1', ...bashInAgent })],
      ['PostToolUse.in-subagent', inAgent('agent-first', { tool_use_id: 'toolu_s1' })],
      ['PostToolBatch', inAgent('agent-first', { tool_calls: [{ tool_use_id: 'toolu_s1', tool_name: 'Bash', tool_response: 'ok' }] })],
      ['PostToolUse.in-subagent', inAgent('agent-second', { tool_use_id: 'toolu_s2' })],
      ['SubagentStop', inAgent('agent-first')], ['SubagentStop', inAgent('agent-second')],
      ['PostToolUse.Agent', { ...agentCall('toolu_A1'), tool_response: { status: 'completed', agentId: 'agent-first' } }],
      ['PostToolUse.Agent', { ...agentCall('toolu_A2'), tool_response: { status: 'completed', agentId: 'agent-second' } }],
      ['Stop'], ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'background-subagent',
    about: 'a background subagent still running when the main turn ends; its completion starts a task-notification turn',
    runs: [{ steps: steps(S.background, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'],
      ['PreToolUse.Agent', agentCall('toolu_BG', true)],
      ['PostToolUse.Agent-background', { ...agentCall('toolu_BG', true), tool_response: { isAsync: true, status: 'async_launched', agentId: 'agent-bg' } }],
      ['SubagentStart', inAgent('agent-bg')],
      ['Stop.with-background-task'],
      ['PreToolUse.in-subagent', inAgent('agent-bg', { tool_use_id: 'toolu_in_bg', ...bashInAgent })],
      ['PostToolUse.in-subagent', inAgent('agent-bg', { tool_use_id: 'toolu_in_bg' })],
      ['SubagentStop', inAgent('agent-bg')],
      ['UserPromptSubmit.task-notification', { prompt_id: 'p2' }], ['Stop', { prompt_id: 'p2' }],
      ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'denied-tools',
    about: 'a Write refused at the prompt (PermissionRequest, no Post), a Bash refused in auto mode (PermissionDenied), a tool whose refusal only PostToolBatch reports',
    runs: [{ steps: steps(S.denied, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'],
      ['PreToolUse', tool('toolu_W', 'Write')], ['PermissionRequest.Write.in-subagent', { agent_id: undefined, agent_type: undefined }], ['2.1.328/Notification'],
      ['PreToolUse', tool('toolu_D')], ['PermissionDenied.Bash', { tool_use_id: 'toolu_D' }],
      ['PreToolUse', tool('toolu_R', 'Read')],
      ['PostToolBatch', { tool_calls: [{ tool_use_id: 'toolu_R', tool_name: 'Read', tool_response: "Permission to use Read has been denied. The user doesn't want to proceed." }] }],
      ['Stop'], ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'compaction',
    about: '/compact in a fresh session: PreCompact, the compaction fork SubagentStop, SessionStart(compact), PostCompact',
    runs: [{ steps: steps(S.compaction, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'], ['Stop'],
      ['PreCompact'], ['SubagentStop.compaction-fork'], ['SessionStart.compact'], ['PostCompact'],
      ['UserPromptSubmit', { prompt_id: 'p2' }], ['Stop', { prompt_id: 'p2' }], ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'resume-after-restart',
    about: 'a session, then resumed twice, each time by an agent that no longer remembers it (restart, idle exit)',
    runs: [
      { steps: steps(S.resume, 'p1', [['SessionStart', noPrompt], ['UserPromptSubmit'], ['Stop'], ['SessionEnd', noPrompt]]) },
      { steps: steps(S.resume, 'p2', [['SessionStart.resume', noPrompt], ['UserPromptSubmit'], ['Stop'], ['SessionEnd', noPrompt]], 86_400_000) },
      { steps: steps(S.resume, 'p3', [['SessionStart.resume', noPrompt], ['UserPromptSubmit'], ['Stop'], ['SessionEnd', noPrompt]], 2 * 86_400_000) },
    ],
  },
  {
    name: 'resume-in-same-agent',
    about: 'a session resumed twice while the agent still remembers it',
    runs: [
      { steps: steps(S.resume.replace(/5$/, 'f'), 'p1', [['SessionStart', noPrompt], ['UserPromptSubmit'], ['Stop'], ['SessionEnd', noPrompt]]) },
      { sameAgent: true, steps: steps(S.resume.replace(/5$/, 'f'), 'p2', [['SessionStart.resume', noPrompt], ['UserPromptSubmit'], ['Stop'], ['SessionEnd', noPrompt]], 1000) },
      { sameAgent: true, steps: steps(S.resume.replace(/5$/, 'f'), 'p3', [['SessionStart.resume', noPrompt], ['UserPromptSubmit'], ['Stop'], ['SessionEnd', noPrompt]], 2000) },
    ],
  },
  {
    name: 'compaction-in-resumed-session',
    about: '/compact inside a resumed segment',
    runs: [
      { steps: steps(S.resumeCompact, 'p1', [['SessionStart', noPrompt], ['UserPromptSubmit'], ['Stop'], ['SessionEnd', noPrompt]]) },
      { steps: steps(S.resumeCompact, 'p2', [
        ['SessionStart.resume', noPrompt], ['UserPromptSubmit'], ['Stop'],
        ['PreCompact'], ['SubagentStop.compaction-fork'], ['SessionStart.compact'], ['PostCompact'],
        ['UserPromptSubmit', { prompt_id: 'p3' }], ['Stop', { prompt_id: 'p3' }], ['SessionEnd', noPrompt],
      ], 60_000) },
    ],
  },
  {
    name: 'stop-failure',
    about: 'an API error ends the first turn (StopFailure); the next turn ends normally',
    runs: [{ steps: steps(S.stopFailure, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'], ['PreToolUse', tool('toolu_1')], ['PostToolUseFailure.exit3', tool('toolu_1')],
      ['StopFailure'], ['UserPromptSubmit', { prompt_id: 'p2' }], ['Stop', { prompt_id: 'p2' }], ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'subagent-api-error',
    about: 'an API error inside a subagent: StopFailure with its agent_id, no SubagentStop, PostToolUseFailure for the Agent call, the main turn goes on',
    runs: [{ steps: steps(S.subagentFailure, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'],
      ['PreToolUse.Agent', agentCall('toolu_A')], ['SubagentStart', inAgent('agent-x')],
      ['PreToolUse.in-subagent', inAgent('agent-x', { tool_use_id: 'toolu_x1', ...bashInAgent })],
      ['PostToolUse.in-subagent', inAgent('agent-x', { tool_use_id: 'toolu_x1' })],
      ['StopFailure', inAgent('agent-x')],
      ['PostToolUseFailure.Agent', { ...agentCall('toolu_A'), tool_name: 'Agent', error: 'API Error: 529 Overloaded', duration_ms: 900 }],
      ['PreToolUse', tool('toolu_after')], ['PostToolUse', tool('toolu_after', 'Bash', { duration_ms: 5 })],
      ['Stop'], ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'subagent-denied-tool',
    about: 'a tool denied inside a subagent (PermissionRequest with its agent_id, no Post event)',
    runs: [{ steps: steps(S.subagentDenied, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'],
      ['PreToolUse.Agent', agentCall('toolu_A')], ['SubagentStart', inAgent('agent-d')],
      ['PreToolUse.in-subagent', inAgent('agent-d', { tool_use_id: 'toolu_d1', tool_name: 'Write' })],
      ['PermissionRequest.Write.in-subagent', inAgent('agent-d')],
      ['SubagentStop', inAgent('agent-d')],
      ['PostToolUse.Agent', { ...agentCall('toolu_A'), tool_response: { status: 'completed', agentId: 'agent-d' } }],
      ['Stop'], ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'post-tool-batch',
    about: 'a batch that reports a tool whose Post event was lost, with capture off',
    eventsRemoved: true,
    runs: [{ steps: steps(S.batch, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'], ['PreToolUse', tool('toolu_lost')],
      ['PostToolBatch', { tool_calls: [{ tool_use_id: 'toolu_lost', tool_name: 'Bash', tool_response: 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nExit code 2' }] }],
      ['PreToolUse', tool('toolu_refused')],
      ['PostToolBatch', { tool_calls: [{ tool_use_id: 'toolu_refused', tool_name: 'Bash', tool_response: 'Permission denied. token: ghp_abcdefghijklmnopqrstuvwxyz0123456789' }] }],
      ['Stop'], ['SessionEnd', noPrompt],
    ]) }],
  },
  {
    name: 'late-and-unknown-events',
    about: 'events of a future version and events that arrive after SessionEnd',
    allowLate: true,
    runs: [{ steps: steps(S.late, 'p1', [
      ['SessionStart', noPrompt], ['UserPromptSubmit'], ['ConfigChange'], ['CwdChanged'],
      ['SessionStart', { hook_event_name: 'SomeFutureEvent', source: undefined, detail: 'x' }],
      ['Stop'], ['SessionEnd', noPrompt],
      ['2.1.328/Notification'], ['PreToolUse', tool('toolu_late')], ['PostToolUse', tool('toolu_late', 'Bash', { duration_ms: 3 })],
    ]) }],
  },
];
