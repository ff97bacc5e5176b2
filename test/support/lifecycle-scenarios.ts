/**
 * The session lifecycles we drive the real Claude Code CLI through (resumes, compaction, subagents
 * that fail, are denied or interrupted, skills that run shell commands, background subagents), as
 * data: one scripted model plus the CLI runs ("segments") of one session. The same definitions are
 * recorded as fixtures (scripts/record-fixtures.ts) and run through the bridge in
 * test/e2e/lifecycles.test.ts, so the golden tests and the e2e tests see the same sessions.
 */
import type { ChildProcess } from 'node:child_process';
import type { ClaudeResult, RunClaudeOptions, TempProject } from './claude-cli.js';
import { label, type HookPayload } from './hook-recorder.js';
import { apiError, bash, compactSummary, scenario, text, tool, tools, withInputTokens, type Script } from './model-server.js';

export interface Segment {
  /** `-p` prompt; ignored when `inputs` is set. */
  prompt?: string;
  /** User messages sent over `--input-format stream-json` in one process (several turns); an entry
   *  starting with `{` is sent as is (a control request) and the next one follows at once. */
  inputs?: string[];
  /** `--resume <session id>` of the first segment. */
  resume?: boolean;
  /** Interrupt the run once an event with this label was recorded: SIGINT to the CLI, or the SDK's
   *  `interrupt` control request (stream-json only; then `afterInterrupt` is sent as the next prompt). */
  interrupt?: { when: string; how: 'sigint' | 'control'; afterInterrupt?: string };
}

export interface Lifecycle {
  name: string;
  /** What the session shows, one line (goes into the fixtures README). */
  about: string;
  allowedTools: string[];
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Project files to write before the first run (relative to the project directory). */
  files?: (project: TempProject) => Record<string, string>;
  script: (project: TempProject) => Script;
  segments: Segment[];
}

const agentCall = (prompt: string, background = false) =>
  tool('Agent', { description: prompt.slice(0, 12), prompt, subagent_type: 'general-purpose', run_in_background: background });

/** One Bash call per prompt, then a text answer. */
const bashPerPrompt: Script = scenario({ main: (req) => (req.step === 0 ? tools(bash(`echo turn-${req.index}`)) : text('ok')) });

const COMMAND_MD = '---\ndescription: Greets\nallowed-tools: Bash(echo:*)\n---\nShell said: !`echo command-shell-ran`\nSay hi.\n';
const SKILL_MD = '---\nname: shout\ndescription: Shouts what a shell command printed\nallowed-tools: Bash(echo:*)\n---\nShell said: !`echo skill-shell-ran`\nShout it.\n';

const subagentThenBash = (sub: Parameters<typeof scenario>[0]['subagents']): Script =>
  scenario({
    main: (req) => [tools(agentCall('SUB: do the task')), tools(bash('echo main-after-subagent')), text('main done')][req.step] ?? text('main done'),
    subagents: sub,
  });

export const LIFECYCLES: Lifecycle[] = [
  {
    name: 'resume-twice',
    about: 'a session run, then resumed twice with `--resume <id> -p` (three CLI processes, one Bash per turn)',
    allowedTools: ['Bash'],
    script: () => bashPerPrompt,
    segments: [{ prompt: 'first' }, { prompt: 'second', resume: true }, { prompt: 'third', resume: true }],
  },
  {
    name: 'compact-fresh',
    about: 'a turn, then `/compact`, then another turn, in one process (`--input-format stream-json`)',
    allowedTools: ['Bash'],
    script: () => bashPerPrompt,
    segments: [{ inputs: ['hello', '/compact', 'after compact'] }],
  },
  {
    name: 'compact-resumed',
    about: 'a turn; resumed: `/compact` then a turn (stream-json); resumed again with `-p "/compact"`',
    allowedTools: ['Bash'],
    script: () => bashPerPrompt,
    segments: [{ prompt: 'hello' }, { inputs: ['/compact', 'after compact'], resume: true }, { prompt: '/compact', resume: true }],
  },
  {
    name: 'auto-compact-resumed',
    about: 'a turn; resumed: the model reports a context near the window after a Bash, so Claude Code auto-compacts inside the turn, which then ends',
    allowedTools: ['Bash'],
    script: () => {
      let compacted = false;
      return scenario({
        compact: () => ((compacted = true), compactSummary()),
        main: (req) => {
          if (compacted) return text('done after compaction');
          if (req.promptText.includes('long work')) return req.step === 0 ? withInputTokens(tools(bash('echo long')), 990_000) : text('done');
          return req.step === 0 ? tools(bash('echo first')) : text('ok');
        },
      });
    },
    segments: [{ prompt: 'hello' }, { prompt: 'long work', resume: true }],
  },
  {
    name: 'subagent-api-error',
    about: "a foreground subagent whose first API call gets HTTP 500 (CLAUDE_CODE_MAX_RETRIES=0); the main turn runs Bash and ends",
    allowedTools: ['Bash', 'Agent'],
    script: () => subagentThenBash({ 'SUB:': [apiError(500)] }),
    segments: [{ prompt: 'delegate' }],
  },
  {
    name: 'subagent-tool-denied',
    about: 'a foreground subagent calls Write, which is not in --allowedTools; the main turn runs Bash and ends',
    allowedTools: ['Bash', 'Agent'],
    script: (p) => subagentThenBash({ 'SUB:': [tools(tool('Write', { file_path: `${p.dir}/denied.txt`, content: 'x' })), text('could not write')] }),
    segments: [{ prompt: 'delegate' }],
  },
  {
    name: 'subagent-interrupted-sigint',
    about: "the CLI gets SIGINT while a foreground subagent's Bash (sleep 4) runs",
    allowedTools: ['Bash', 'Agent'],
    script: () => subagentThenBash({ 'SUB:': [tools(bash('sleep 4; echo late')), text('sub done')] }),
    segments: [{ prompt: 'delegate', interrupt: { when: 'PreToolUse:Bash@sub', how: 'sigint' } }],
  },
  {
    name: 'subagent-interrupted-then-prompt',
    about: "the SDK interrupt (control request) while a foreground subagent's Bash runs, then a next prompt in the same process",
    allowedTools: ['Bash', 'Agent'],
    script: () =>
      scenario({
        main: (req) =>
          req.promptText.includes('next prompt')
            ? (req.step === 0 ? tools(bash('echo next')) : text('next done'))
            : ([tools(agentCall('SUB: do the task'))][req.step] ?? text('main done')),
        subagents: { 'SUB:': [tools(bash('sleep 4; echo late')), text('sub done')] },
      }),
    segments: [{ inputs: ['delegate'], interrupt: { when: 'PreToolUse:Bash@sub', how: 'control', afterInterrupt: 'next prompt' } }],
  },
  {
    name: 'slash-command-shell',
    about: 'a project slash command (.claude/commands/greet.md) with an embedded !`echo` line, run as `-p "/greet"`',
    allowedTools: ['Bash'],
    files: () => ({ '.claude/commands/greet.md': COMMAND_MD }),
    script: () => scenario({ main: [text('hi')] }),
    segments: [{ prompt: '/greet' }],
  },
  {
    name: 'skill-shell',
    about: 'a project skill (.claude/skills/shout/SKILL.md) with an embedded !`echo` line: by the user (`/shout`), then by the model (Skill tool)',
    allowedTools: ['Bash', 'Skill'],
    files: () => ({ '.claude/skills/shout/SKILL.md': SKILL_MD }),
    script: () =>
      scenario({
        main: (req) =>
          req.promptText.includes('use the skill') ? ([tools(tool('Skill', { skill: 'shout' }))][req.step] ?? text('SHOUTED')) : text('SHOUT'),
      }),
    segments: [{ prompt: '/shout' }, { prompt: 'use the skill', resume: true }],
  },
  {
    name: 'background-subagent',
    about: 'a background subagent (sleep 2) still running when the main turn ends; its task-notification turn follows',
    allowedTools: ['Bash', 'Agent'],
    script: () =>
      scenario({
        main: (req) =>
          req.promptText.includes('<task-notification>') ? text('noted') : ([tools(agentCall('BG: work', true))][req.step] ?? text('launched')),
        subagents: { 'BG:': [tools(bash('sleep 2; echo bg')), text('bg done')] },
      }),
    segments: [{ prompt: 'in the background' }],
  },
  {
    name: 'parallel-subagents-one-fails',
    about: 'two foreground subagents in one response: A runs Bash, B gets HTTP 500; the main turn runs Bash and ends',
    allowedTools: ['Bash', 'Agent'],
    script: () =>
      scenario({
        main: (req) => [tools(agentCall('PAR-A: work'), agentCall('PAR-B: fail')), tools(bash('echo main-after')), text('main done')][req.step] ?? text('main done'),
        subagents: { 'PAR-A:': [tools(bash('sleep 1; echo A')), text('A done')], 'PAR-B:': [apiError(500)] },
      }),
    segments: [{ prompt: 'two at once' }],
  },
  {
    name: 'background-subagent-api-error',
    about: 'a background subagent that runs Bash, then gets HTTP 500, after the main turn ended',
    allowedTools: ['Bash', 'Agent'],
    script: () =>
      scenario({
        main: (req) =>
          req.promptText.includes('<task-notification>') ? text('noted') : ([tools(agentCall('BG: work', true))][req.step] ?? text('launched')),
        subagents: { 'BG:': [tools(bash('sleep 2; echo bg')), apiError(500)] },
      }),
    segments: [{ prompt: 'in the background' }],
  },
  {
    name: 'main-tool-interrupted-sigint',
    about: "the CLI gets SIGINT while the main agent's Bash (sleep 4) runs",
    allowedTools: ['Bash'],
    script: () => scenario({ main: [tools(bash('sleep 4; echo late')), text('done')] }),
    segments: [{ prompt: 'wait', interrupt: { when: 'PreToolUse:Bash', how: 'sigint' } }],
  },
];

export const lifecycle = (name: string): Lifecycle => {
  const l = LIFECYCLES.find((x) => x.name === name);
  if (!l) throw new Error(`no lifecycle ${name}`);
  return l;
};

export type RunFn = (prompt: string, opts: Partial<RunClaudeOptions>) => Promise<ClaudeResult>;

const userMessage = (t: string) => `${JSON.stringify({ type: 'user', message: { role: 'user', content: t } })}\n`;

/** Options for one segment's CLI run (stream-json input, interrupts). */
export function segmentOptions(seg: Segment, sessionId: string | undefined, payloads: () => HookPayload[]): { prompt: string; opts: Partial<RunClaudeOptions> } {
  const extraArgs = seg.resume ? ['--resume', sessionId!] : [];
  const opts: Partial<RunClaudeOptions> = { extraArgs };
  if (seg.inputs) {
    Object.assign(opts, { outputFormat: 'stream-json', openStdin: true });
    extraArgs.push('--input-format', 'stream-json');
  }
  const before = payloads().length;
  opts.onSpawn = (child: ChildProcess) => {
    // stream-json input: one user message per turn, the next only after the previous turn's
    // `result` (messages sent earlier are queued into the running turn), then stdin is closed.
    const queue = [...(seg.inputs ?? [])];
    if (seg.interrupt?.afterInterrupt) queue.push(seg.interrupt.afterInterrupt);
    const sendNext = () => {
      const next = queue.shift();
      if (next === undefined) child.stdin?.end();
      else if (next.startsWith('{')) {
        child.stdin!.write(`${next}\n`);
        setTimeout(sendNext, 500);
      } else child.stdin!.write(userMessage(next));
    };
    if (seg.inputs) {
      let buffered = '';
      child.stdout!.on('data', (d: Buffer | string) => {
        const lines = (buffered + String(d)).split('\n');
        buffered = lines.pop()!;
        for (const l of lines) if (/^\{.*"type":"result"/.test(l)) sendNext();
      });
      sendNext();
    }
    const it = seg.interrupt;
    if (!it) return;
    const timer = setInterval(() => {
      if (!payloads().slice(before).some((p) => label(p) === it.when)) return;
      clearInterval(timer);
      setTimeout(() => {
        if (it.how === 'sigint') child.kill('SIGINT');
        else child.stdin!.write(`${JSON.stringify({ type: 'control_request', request_id: 'interrupt-1', request: { subtype: 'interrupt' } })}\n`);
      }, 300);
    }, 50);
    child.on('close', () => clearInterval(timer));
  };
  return { prompt: seg.inputs ? '' : (seg.prompt ?? ''), opts };
}

/** Runs every segment of `lc` through `run`; `between(i)` runs before segment i > 0. */
export async function runLifecycle(
  lc: Lifecycle,
  run: RunFn,
  payloads: () => HookPayload[],
  between?: (i: number) => Promise<void>,
): Promise<{ sessionId: string; results: ClaudeResult[] }> {
  const results: ClaudeResult[] = [];
  let sessionId: string | undefined;
  for (const [i, seg] of lc.segments.entries()) {
    if (i > 0 && between) await between(i);
    const { prompt, opts } = segmentOptions(seg, sessionId, payloads);
    const r = await run(prompt, { ...opts, extraArgs: [...(lc.extraArgs ?? []), ...(opts.extraArgs ?? [])], ...(lc.env ? { env: lc.env } : {}) });
    results.push(r);
    sessionId ??= payloads()[0]?.session_id;
  }
  if (!sessionId) throw new Error(`${lc.name}: no hook event recorded`);
  return { sessionId, results };
}
