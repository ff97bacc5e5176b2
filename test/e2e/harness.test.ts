// Proves the e2e harness: the real Claude Code CLI, a scripted model server, and a recording command
// hook (not product code). Each scenario asserts the hook events Claude Code 2.1.332 really fires
// (2.1.328's sequences held unchanged on 2.1.332; the lifecycle block below is new with 2.1.332).
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunClaudeOptions, makeTempProject, runClaude, type TempProject } from '../support/claude-cli.js';
import { type HookPayload, labels, readHookPayloads, recorderSettings } from '../support/hook-recorder.js';
import { lifecycle, runLifecycle } from '../support/lifecycle-scenarios.js';
import {
  apiError, bash, createModelServer, type ModelServer, scenario, type Script, text, tool, tools,
} from '../support/model-server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Env {
  project: TempProject;
  ms: ModelServer;
  hookDir: string;
  run(prompt: string, opts?: Partial<RunClaudeOptions>): ReturnType<typeof runClaude>;
  payloads(): HookPayload[];
}

async function setup(script: Script, allowedTools: string[]): Promise<Env> {
  const project = makeTempProject();
  const ms = await createModelServer(script);
  cleanups.push(() => project.cleanup(), () => ms.close());
  const hookDir = `${project.root}/hook-payloads`;
  const settings = recorderSettings(hookDir);
  return {
    project,
    ms,
    hookDir,
    run: (prompt, opts = {}) =>
      runClaude({ cwd: project.dir, home: project.home, baseUrl: ms.url, prompt, settings, allowedTools, ...opts }),
    payloads: () => readHookPayloads(hookDir),
  };
}

const agent = (prompt: string, background = false) =>
  tool('Agent', { description: prompt.slice(0, 12), prompt, subagent_type: 'general-purpose', run_in_background: background });

/** Every tool_use id the model issued opens exactly one PreToolUse and (unless denied) closes with
 *  exactly one PostToolUse or PostToolUseFailure; hooks report no id the model did not issue. */
function expectToolIdsAccountedFor(ms: ModelServer, ps: HookPayload[], denied: string[] = []): void {
  const issued = ms.issuedToolUseIds();
  expect(new Set(issued).size).toBe(issued.length);
  const pre = ps.filter((p) => p.hook_event_name === 'PreToolUse').map((p) => p.tool_use_id);
  const post = ps
    .filter((p) => p.hook_event_name === 'PostToolUse' || p.hook_event_name === 'PostToolUseFailure')
    .map((p) => p.tool_use_id);
  expect([...pre].sort()).toEqual([...issued].sort());
  expect([...post].sort()).toEqual(issued.filter((id) => !denied.includes(id)).sort());
}

const byEvent = (ps: HookPayload[], name: string) => ps.filter((p) => p.hook_event_name === name);
const idx = (ls: string[], l: string, from = 0) => ls.indexOf(l, from);

describe('e2e harness (real Claude Code CLI)', () => {
  it('(a) several tools in one turn: Bash, Read, Write, then Grep and Bash', async () => {
    let env!: Env;
    env = await setup(
      scenario({
        main: (req) =>
          [
            tools(bash('echo hi'), tool('Read', { file_path: `${env.project.dir}/a.txt` }),
              tool('Write', { file_path: `${env.project.dir}/b.txt`, content: 'written' })),
            tools(tool('Grep', { pattern: 'hello', path: env.project.dir }), bash('cat b.txt')),
            text('All done'),
          ][req.step] ?? text('Done.'),
      }),
      ['Bash', 'Read', 'Write', 'Grep'],
    );
    env.project.file('project/a.txt', 'hello\n');
    const r = await env.run('use five tools');
    console.info(`[timing] -p run with 5 tool calls: ${r.durationMs} ms`);
    expect(r.exitCode).toBe(0);
    expect(r.json?.result).toBe('All done');
    const ps = env.payloads();
    const ls = labels(ps);
    expect(ls[0]).toBe('SessionStart(startup)');
    expect(ls[1]).toBe('UserPromptSubmit');
    expect(ls.slice(-3)).toEqual(['MessageDisplay', 'Stop', 'SessionEnd(other)']);
    // Bash and Read are concurrency-safe and run together; Write waits for them.
    const batch1 = ls.slice(2, idx(ls, 'PostToolBatch') + 1);
    expect([...batch1].sort()).toEqual(
      ['PreToolUse:Bash', 'PreToolUse:Read', 'PostToolUse:Bash', 'PostToolUse:Read',
        'PreToolUse:Write', 'PostToolUse:Write', 'PostToolBatch'].sort(),
    );
    expect(idx(batch1, 'PreToolUse:Write')).toBeGreaterThan(idx(batch1, 'PostToolUse:Bash'));
    expect(idx(batch1, 'PreToolUse:Write')).toBeGreaterThan(idx(batch1, 'PostToolUse:Read'));
    expect(ls.filter((l) => l === 'PostToolBatch')).toHaveLength(2);
    expectToolIdsAccountedFor(env.ms, ps);
    for (const p of byEvent(ps, 'PostToolUse')) expect(typeof p.duration_ms).toBe('number');
    const promptIds = new Set(ps.filter((p) => p.hook_event_name !== 'SessionStart').map((p) => p.prompt_id));
    expect(promptIds.size).toBe(1);
    expect(byEvent(ps, 'SessionStart')[0]?.prompt_id).toBeUndefined();
  });

  it('(b) a failing Bash fires PostToolUseFailure "Exit code 3" and no PostToolUse', async () => {
    const env = await setup(scenario({ main: [tools(bash('exit 3')), text('failed')] }), ['Bash']);
    const r = await env.run('fail');
    expect(r.exitCode).toBe(0);
    const ps = env.payloads();
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Bash', 'PostToolUseFailure:Bash',
      'PostToolBatch', 'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
    const failure = byEvent(ps, 'PostToolUseFailure')[0]!;
    expect(failure.error).toBe('Exit code 3');
    expect(failure.is_interrupt).toBe(false);
    expect(failure.tool_use_id).toBe(env.ms.issuedToolUseIds()[0]);
    expectToolIdsAccountedFor(env.ms, ps);
  });

  it('(c) a foreground subagent runs Bash between SubagentStart and SubagentStop', async () => {
    const env = await setup(
      scenario({ main: [tools(agent('TASK-A: echo')), text('done')], subagents: { 'TASK-A': [tools(bash('echo in-sub')), text('A done')] } }),
      ['Bash', 'Agent'],
    );
    const r = await env.run('delegate');
    expect(r.exitCode).toBe(0);
    const ps = env.payloads();
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Agent', 'SubagentStart', 'PreToolUse:Bash@sub',
      'PostToolUse:Bash@sub', 'PostToolBatch@sub', 'SubagentStop', 'PostToolUse:Agent', 'PostToolBatch',
      'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
    const agentId = byEvent(ps, 'SubagentStart')[0]!.agent_id!;
    expect(byEvent(ps, 'SubagentStart')[0]!.agent_type).toBe('general-purpose');
    expect((byEvent(ps, 'PostToolUse').find((p) => p.tool_name === 'Agent')!.tool_response as { agentId: string }).agentId).toBe(agentId);
    expect(ps.filter((p) => p.agent_id === agentId).every((p) => p.prompt_id === ps[1]!.prompt_id)).toBe(true);
    expect(env.ms.requests.map((q) => q.agent)).toEqual(['main', 'subagent', 'subagent', 'main']);
    expectToolIdsAccountedFor(env.ms, ps);
  });

  it('(d) two parallel subagents in one turn, each running a tool', async () => {
    const env = await setup(
      scenario({
        main: [tools(agent('TASK-A: echo a'), agent('TASK-B: echo b')), text('done')],
        subagents: { 'TASK-A': [tools(bash('echo a')), text('A done')], 'TASK-B': [tools(bash('echo b')), text('B done')] },
      }),
      ['Bash', 'Agent'],
    );
    expect((await env.run('two agents')).exitCode).toBe(0);
    const ps = env.payloads();
    const starts = byEvent(ps, 'SubagentStart');
    expect(starts).toHaveLength(2);
    expect(byEvent(ps, 'SubagentStop')).toHaveLength(2);
    const agentPosts = byEvent(ps, 'PostToolUse').filter((p) => p.tool_name === 'Agent');
    expect(new Set(agentPosts.map((p) => (p.tool_response as { agentId: string }).agentId)))
      .toEqual(new Set(starts.map((s) => s.agent_id)));
    for (const s of starts) {
      const own = labels(ps.filter((p) => p.agent_id === s.agent_id));
      expect(own).toEqual(['SubagentStart', 'PreToolUse:Bash@sub', 'PostToolUse:Bash@sub', 'PostToolBatch@sub', 'SubagentStop']);
    }
    // Both Agent tools start before either subagent; each subagent stops before its own Agent tool
    // ends (the other one may still be running: the two do not wait for each other).
    const ls = labels(ps);
    expect(ls.lastIndexOf('PreToolUse:Agent')).toBeLessThan(idx(ls, 'SubagentStart'));
    for (const post of agentPosts) {
      const stop = ps.find((p) => p.hook_event_name === 'SubagentStop' && p.agent_id === (post.tool_response as { agentId: string }).agentId)!;
      expect(ps.indexOf(stop)).toBeLessThan(ps.indexOf(post));
    }
    expectToolIdsAccountedFor(env.ms, ps);
  });

  it('(e) a background subagent completes inside the same -p run, in a task-notification turn', async () => {
    const env = await setup(
      scenario({
        main: (req) =>
          req.promptText.includes('<task-notification>')
            ? text('noted')
            : ([tools(agent('TASK-BG: sleep', true)), text('launched')][req.step] ?? text('Done.')),
        subagents: { 'TASK-BG': [tools(bash('sleep 2; echo bg')), text('BG done')] },
      }),
      ['Bash', 'Agent'],
    );
    const r = await env.run('background');
    expect(r.exitCode).toBe(0);
    expect(r.json?.result).toBe('noted');
    const ps = env.payloads();
    const ls = labels(ps);
    const agentId = byEvent(ps, 'SubagentStart')[0]!.agent_id;
    const launched = byEvent(ps, 'PostToolUse').find((p) => p.tool_name === 'Agent')!;
    expect(launched.tool_response).toMatchObject({ status: 'async_launched', isAsync: true, agentId });
    const [stop1, stop2] = byEvent(ps, 'Stop');
    expect(stop1!.background_tasks).toEqual([expect.objectContaining({ id: agentId, type: 'subagent', status: 'running' })]);
    const [prompt1, prompt2] = byEvent(ps, 'UserPromptSubmit');
    expect(prompt2!.prompt).toContain('<task-notification>');
    expect(prompt2!.prompt).toContain(`<tool-use-id>${launched.tool_use_id}</tool-use-id>`);
    expect(prompt2!.prompt).toContain(`<task-id>${agentId}</task-id>`);
    expect(prompt2!.prompt_id).not.toBe(prompt1!.prompt_id);
    expect(stop2!.prompt_id).toBe(prompt2!.prompt_id);
    // The first turn ends while the subagent still runs; its events keep the first prompt_id.
    expect(ls.indexOf('Stop')).toBeLessThan(ls.indexOf('PostToolUse:Bash@sub'));
    expect(ps.filter((p) => p.agent_id === agentId).every((p) => p.prompt_id === prompt1!.prompt_id)).toBe(true);
    expect(ls.indexOf('SubagentStop')).toBeLessThan(ls.lastIndexOf('UserPromptSubmit'));
    expect(ls.slice(-4)).toEqual(['UserPromptSubmit', 'MessageDisplay', 'Stop', 'SessionEnd(other)']);
    expectToolIdsAccountedFor(env.ms, ps);
  });

  it('(f) a tool outside --allowedTools: PermissionRequest, no Post event, listed in PostToolBatch', async () => {
    let env!: Env;
    env = await setup(
      scenario({ main: (req) => [tools(bash('echo allowed'), tool('Write', { file_path: `${env.project.root}/outside.txt`, content: 'x' })), text('done')][req.step] ?? text('Done.') }),
      ['Bash'],
    );
    expect((await env.run('denied')).exitCode).toBe(0);
    const ps = env.payloads();
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Bash', 'PostToolUse:Bash', 'PreToolUse:Write',
      'PermissionRequest:Write', 'PostToolBatch', 'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
    const deniedId = env.ms.issuedToolUseIds()[1]!;
    expect(byEvent(ps, 'PermissionRequest')[0]!.tool_use_id).toBeUndefined();
    const batch = byEvent(ps, 'PostToolBatch')[0]!.tool_calls as Array<{ tool_use_id: string; tool_response: string }>;
    expect(batch.find((c) => c.tool_use_id === deniedId)?.tool_response).toMatch(/requested permissions/);
    expectToolIdsAccountedFor(env.ms, ps, [deniedId]);
  });

  it('(g) a --resume second turn keeps the session_id; SessionStart source is resume', async () => {
    const env = await setup(scenario({ main: [tools(bash('echo turn')), text('done')] }), ['Bash']);
    const r1 = await env.run('first');
    const n1 = env.payloads().length;
    const r2 = await env.run('second', { extraArgs: ['--resume', r1.json!.session_id] });
    expect(r2.exitCode).toBe(0);
    expect(r2.json?.session_id).toBe(r1.json?.session_id);
    const second = env.payloads().slice(n1);
    expect(labels(second)).toEqual([
      'SessionStart(resume)', 'UserPromptSubmit', 'PreToolUse:Bash', 'PostToolUse:Bash', 'PostToolBatch',
      'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
    expect(new Set(env.payloads().map((p) => p.session_id))).toEqual(new Set([r1.json!.session_id]));
    expect(second[1]!.prompt_id).not.toBe(env.payloads()[1]!.prompt_id);
    expectToolIdsAccountedFor(env.ms, env.payloads());
  });

  it('(h) two sessions at once: two CLI processes, one model server, one recorder', async () => {
    const env = await setup(
      scenario({ main: (req) => [tools(bash(`echo ${req.promptText.includes('SESSION-1') ? 'one' : 'two'}`), bash('sleep 0.3')), text('done')][req.step] ?? text('Done.') }),
      ['Bash'],
    );
    const [r1, r2] = await Promise.all([env.run('SESSION-1'), env.run('SESSION-2')]);
    expect([r1.exitCode, r2.exitCode]).toEqual([0, 0]);
    expect(r1.json!.session_id).not.toBe(r2.json!.session_id);
    const ps = env.payloads();
    for (const sid of [r1.json!.session_id, r2.json!.session_id]) {
      const own = labels(ps.filter((p) => p.session_id === sid));
      // The two Bash calls are read-only, so they run concurrently: their Pre/Post interleave freely.
      expect(own.slice(0, 2)).toEqual(['SessionStart(startup)', 'UserPromptSubmit']);
      expect(own.slice(2, 6).sort()).toEqual(['PostToolUse:Bash', 'PostToolUse:Bash', 'PreToolUse:Bash', 'PreToolUse:Bash']);
      expect(own.slice(6)).toEqual(['PostToolBatch', 'MessageDisplay', 'Stop', 'SessionEnd(other)']);
    }
    expectToolIdsAccountedFor(env.ms, ps);
  });

  it('StopFailure (not Stop) after an API error, following a successful tool', async () => {
    const env = await setup(scenario({ main: [tools(bash('echo x')), apiError(529, 'Overloaded')] }), ['Bash']);
    const r = await env.run('overload');
    expect(r.exitCode).toBe(1);
    expect(r.json?.is_error).toBe(true);
    const ps = env.payloads();
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Bash', 'PostToolUse:Bash', 'PostToolBatch',
      'MessageDisplay', 'StopFailure', 'SessionEnd(other)',
    ]);
    expect(byEvent(ps, 'StopFailure')[0]).toMatchObject({ error: 'server_error' });
    expect(byEvent(ps, 'StopFailure')[0]!.last_assistant_message).toMatch(/^API Error: 529/);
  });
});

describe('http hooks', () => {
  async function headerServer(delayMs = 0) {
    const got: Array<{ event: string; headers: IncomingHttpHeaders }> = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        got.push({ event: (JSON.parse(body) as HookPayload).hook_event_name, headers: req.headers });
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delayMs);
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }));
    return { got, url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hook` };
  }
  const httpSettings = (url: string, events: string[], extra: Record<string, unknown> = {}) => ({
    env: { SETTINGS_VAR: 'from-settings' },
    hooks: Object.fromEntries(events.map((e) => [e, [{ matcher: '*', hooks: [{ type: 'http', url, ...extra }] }]])),
  });

  it('interpolates $VAR and ${VAR} from the exported env and from settings env, only if allowed', async () => {
    const env = await setup(scenario({ main: [tools(bash('echo 1')), text('done')] }), ['Bash']);
    const { got, url } = await headerServer();
    const headers = {
      'X-Dollar': 'a-$EXPORTED_VAR', 'X-Brace': 'b-${EXPORTED_VAR}', 'X-Settings': 's-$SETTINGS_VAR',
      'X-Settings-Brace': 't-${SETTINGS_VAR}', 'X-Not-Allowed': 'n-$NOT_ALLOWED_VAR', Authorization: 'Bearer ${BRIDGE_API_KEY}',
    };
    const events = ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd'];
    const settings = httpSettings(url, events, { headers, allowedEnvVars: ['EXPORTED_VAR', 'SETTINGS_VAR', 'BRIDGE_API_KEY'] });
    const r = await env.run('http', {
      settings,
      env: { EXPORTED_VAR: 'from-env', NOT_ALLOWED_VAR: 'nope', BRIDGE_API_KEY: 'key456' },
    });
    expect(r.exitCode).toBe(0);
    // SessionStart is never sent to http hooks.
    expect(got.map((g) => g.event)).toEqual(['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop', 'SessionEnd']);
    expect(got[0]!.headers).toMatchObject({
      'x-dollar': 'a-from-env', 'x-brace': 'b-from-env', 'x-settings': 's-from-settings',
      'x-settings-brace': 't-from-settings', 'x-not-allowed': 'n-', authorization: 'Bearer key456',
      'content-type': 'application/json',
    });
  });

  it('timeout is in seconds and every event waits for it; a down server costs nothing', async () => {
    const env = await setup(scenario({ main: [text('done')] }), ['Bash']);
    const events = ['UserPromptSubmit', 'Stop', 'SessionEnd'];
    const slow = await headerServer(5000);
    const base = await env.run('none', { settings: {} });
    const t1 = await env.run('slow', { settings: httpSettings(slow.url, events, { timeout: 1 }) });
    const down = await env.run('down', { settings: httpSettings('http://127.0.0.1:1/hook', events) });
    console.info(`[timing] no hooks ${base.durationMs} ms; 3 http hooks to a 5 s server with timeout 1: ${t1.durationMs} ms; to a down server: ${down.durationMs} ms`);
    expect([t1.exitCode, down.exitCode, base.exitCode]).toEqual([0, 0, 0]);
    expect(slow.got.map((g) => g.event)).toEqual(events);
    // Seconds: ~3 s extra (1 s per event). Milliseconds would add ~0; no timeout would add ~15 s.
    expect(t1.durationMs - base.durationMs).toBeGreaterThan(2000);
    expect(t1.durationMs - base.durationMs).toBeLessThan(6000);
    expect(down.durationMs - base.durationMs).toBeLessThan(1000);
  });
});

describe('lifecycles (Claude Code 2.1.332; the sessions of test/fixtures/claude-code-2.1.332/sessions/)', () => {
  async function record(name: string) {
    const lc = lifecycle(name);
    let script: Script | undefined;
    const env = await setup((req) => script!(req), lc.allowedTools);
    script = lc.script(env.project);
    for (const [file, content] of Object.entries(lc.files?.(env.project) ?? {})) env.project.file(`project/${file}`, content);
    const { results } = await runLifecycle(lc, (prompt, o) => env.run(prompt, o), () => env.payloads());
    return { env, results, ps: env.payloads() };
  }

  it('a slash command and a skill with an embedded shell line fire PreSkillShellCommand (no Post event)', async () => {
    const { env, results, ps } = await record('skill-shell');
    expect(results.map((r) => r.exitCode)).toEqual([0, 0]);
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'UserPromptExpansion', 'PreSkillShellCommand:Bash', 'MessageDisplay', 'Stop', 'SessionEnd(other)',
      'SessionStart(resume)', 'UserPromptSubmit', 'PreToolUse:Skill', 'PreSkillShellCommand:Bash', 'PostToolUse:Skill', 'PostToolBatch',
      'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
    const [byUser, byModel] = byEvent(ps, 'PreSkillShellCommand');
    expect(byUser).toMatchObject({ command_name: 'shout', command_source: 'projectSettings', invoked_by: 'user', tool_input: { command: 'echo skill-shell-ran' } });
    // By the user: an id of its own that names no tool call; by the model: the Skill call's id + ":preamble-<n>".
    expect(byUser!.tool_use_id).toMatch(/^[0-9a-f-]{36}:inner:preamble-0$/);
    const skillCall = byEvent(ps, 'PreToolUse').find((p) => p.tool_name === 'Skill')!;
    expect(byModel).toMatchObject({ invoked_by: 'claude', tool_use_id: `${skillCall.tool_use_id}:preamble-0`, prompt_id: skillCall.prompt_id });
    expect(env.ms.issuedToolUseIds()).not.toContain(byUser!.tool_use_id);
  });

  it('/compact (stream-json, then -p "/compact" in a resumed session): PreCompact, SubagentStop(""), SessionStart(compact), PostCompact', async () => {
    const { results, ps } = await record('compact-resumed');
    expect(results.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    const compaction = ['PreCompact', 'SubagentStop', 'SessionStart(compact)', 'PostCompact'];
    const turn = ['UserPromptSubmit', 'PreToolUse:Bash', 'PostToolUse:Bash', 'PostToolBatch', 'MessageDisplay', 'Stop'];
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', ...turn, 'SessionEnd(other)',
      'SessionStart(resume)', ...compaction, ...turn, 'SessionEnd(other)',
      'SessionStart(resume)', ...compaction, 'SessionEnd(other)',
    ]);
    // The compaction has a prompt_id of its own, with no UserPromptSubmit, and no SubagentStart.
    const pre = byEvent(ps, 'PreCompact');
    expect(pre.map((p) => p.trigger)).toEqual(['manual', 'manual']);
    const prompted = new Set(byEvent(ps, 'UserPromptSubmit').map((p) => p.prompt_id));
    for (const p of pre) expect(prompted.has(p.prompt_id)).toBe(false);
    expect(byEvent(ps, 'SubagentStop').every((p) => p.agent_type === '')).toBe(true);
    expect(byEvent(ps, 'SubagentStart')).toEqual([]);
  });

  it("a subagent's API error: StopFailure with its agent_id, no SubagentStop, PostToolUseFailure(Agent); the main turn goes on", async () => {
    const { results, ps } = await record('subagent-api-error');
    expect(results[0]!.exitCode).toBe(0);
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Agent', 'SubagentStart', 'StopFailure@sub', 'PostToolUseFailure:Agent',
      'PostToolBatch', 'PreToolUse:Bash', 'PostToolUse:Bash', 'PostToolBatch', 'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
    const agentId = byEvent(ps, 'SubagentStart')[0]!.agent_id;
    expect(byEvent(ps, 'StopFailure')[0]).toMatchObject({ agent_id: agentId, error: 'server_error' });
    expect(byEvent(ps, 'PostToolUseFailure')[0]!.error).toMatch(/^Agent terminated early due to an API error/);
  });

  it("a subagent's tool outside --allowedTools: PermissionRequest with agent_id, no Post event, no PermissionDenied", async () => {
    const { results, ps } = await record('subagent-tool-denied');
    expect(results[0]!.exitCode).toBe(0);
    expect(labels(ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Agent', 'SubagentStart', 'PreToolUse:Write@sub', 'PermissionRequest:Write@sub',
      'PostToolBatch@sub', 'SubagentStop', 'PostToolUse:Agent', 'PostToolBatch', 'PreToolUse:Bash', 'PostToolUse:Bash', 'PostToolBatch',
      'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
  });

  it('an interrupt while a subagent runs a tool: no Post event, no SubagentStop, no Stop (SIGINT: then SessionEnd; SDK interrupt: the next prompt)', async () => {
    const sigint = await record('subagent-interrupted-sigint');
    expect(labels(sigint.ps)).toEqual(['SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Agent', 'SubagentStart', 'PreToolUse:Bash@sub', 'SessionEnd(other)']);
    const sdk = await record('subagent-interrupted-then-prompt');
    expect(labels(sdk.ps)).toEqual([
      'SessionStart(startup)', 'UserPromptSubmit', 'PreToolUse:Agent', 'SubagentStart', 'PreToolUse:Bash@sub',
      'UserPromptSubmit', 'PreToolUse:Bash', 'PostToolUse:Bash', 'PostToolBatch', 'MessageDisplay', 'Stop', 'SessionEnd(other)',
    ]);
    const [first, next] = byEvent(sdk.ps, 'UserPromptSubmit');
    expect(next!.prompt).toBe('next prompt');
    expect(next!.prompt_id).not.toBe(first!.prompt_id);
  });
});
