/**
 * Records real Claude Code hook payloads as fixtures: runs the real CLI (the pinned
 * node_modules/@anthropic-ai/claude-code-linux-x64/claude) against the scripted model server, with a
 * recorder command hook on every event, through each lifecycle of test/support/lifecycle-scenarios.ts
 * and the event-coverage scenarios of scripts/fixture-coverage.ts. Writes, with paths rewritten to
 * /home/dev/...:
 *   test/fixtures/claude-code-<version>/sessions/<scenario>.jsonl  one `{ "offsetMs", "event" }` per hook run
 *   test/fixtures/claude-code-<version>/hooks/<Event>[.<variant>].json  the first payload of each kind
 * Run: npx tsc -p tsconfig.json --outDir .tmp/build && node .tmp/build/scripts/record-fixtures.js [scenario ...]
 * (or `npx vite-node scripts/record-fixtures.ts [scenario ...]`). With names, only those sessions are
 * re-recorded and the hooks/ files they produce are added (existing ones are kept).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { claudeBinaryPath, makeTempProject, runClaude, type TempProject } from '../test/support/claude-cli.js';
import { ALL_HOOK_EVENTS, recorderSettings, type HookPayload } from '../test/support/hook-recorder.js';
import { LIFECYCLES, runLifecycle, type Lifecycle } from '../test/support/lifecycle-scenarios.js';
import { createModelServer } from '../test/support/model-server.js';
import { COVERAGE } from './fixture-coverage.js';

const version = execFileSync(claudeBinaryPath(), ['--version'], { encoding: 'utf8' }).split(' ')[0]!.trim();
const out = join('test', 'fixtures', `claude-code-${version}`);
mkdirSync(join(out, 'sessions'), { recursive: true });
mkdirSync(join(out, 'hooks'), { recursive: true });

/** The fixture name of a payload: `<Event>` or `<Event>.<variant>` for the shapes worth keeping apart. */
export function fixtureName(p: HookPayload): string {
  const e = p.hook_event_name;
  const v: string[] = [];
  const resp = p.tool_response as { status?: string } | undefined;
  if (e === 'SessionStart' && p.source !== 'startup') v.push(String(p.source));
  if (e === 'SessionEnd' && p.reason !== 'other') v.push(String(p.reason));
  if (p.tool_name === 'Agent') v.push(resp?.status === 'async_launched' ? 'Agent-background' : 'Agent');
  else if (p.tool_name && (e === 'PermissionRequest' || e === 'PermissionDenied')) v.push(p.tool_name);
  if (e === 'PostToolUseFailure' && p.tool_name === 'Bash' && /Exit code/.test(String(p.error))) v.push(String(p.error).replace(/\D+/g, 'exit'));
  if (e === 'PostToolUseFailure' && p.is_interrupt) v.push('interrupt');
  if (e === 'StopFailure' && p.error !== 'server_error') v.push(String(p.error));
  if (e === 'Stop' && Array.isArray(p.background_tasks) && p.background_tasks.length) v.push('with-background-task');
  if (e === 'SubagentStop' && p.agent_type === '') v.push('compaction-fork');
  if ((e === 'PreCompact' || e === 'PostCompact') && p.trigger !== 'manual') v.push(String(p.trigger));
  if (e === 'UserPromptSubmit' && String(p.prompt).includes('<task-notification>')) v.push('task-notification');
  if (e === 'PreSkillShellCommand') v.push(`invoked-by-${String(p.invoked_by)}`);
  if (p.agent_id && e !== 'SubagentStart' && e !== 'SubagentStop') v.push('in-subagent');
  return [e, ...v].join('.');
}

/** Rewrites the temp paths (and the model server's port) to stable ones. */
function scrub(raw: string, project: TempProject, port: number): string {
  const dashed = (p: string) => p.replace(/[^A-Za-z0-9]/g, '-');
  return raw
    .split(project.dir).join('/home/dev/project')
    .split(project.home).join('/home/dev')
    .split(project.root).join('/home/dev/scratch')
    .split(dashed(project.dir)).join('-home-dev-project')
    .split(`127.0.0.1:${port}`).join('127.0.0.1:8080')
    .replace(/\/tmp\/claude-\d+\//g, '/tmp/claude-1000/');
}

async function record(lc: Lifecycle): Promise<{ lines: number; hooks: string[]; exits: (number | null)[] }> {
  const project = makeTempProject('cc-rec-');
  const dir = join(project.root, 'payloads');
  const settings = recorderSettings(dir);
  for (const [name, content] of Object.entries(lc.files?.(project) ?? {})) project.file(join('project', name), content);
  const ms = await createModelServer(lc.script(project));
  const files = () => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).sort() : []);
  const payloads = () => files().map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as HookPayload);
  try {
    const { results } = await runLifecycle(
      lc,
      (prompt, opts) => runClaude({ cwd: project.dir, home: project.home, baseUrl: ms.url, prompt, settings, allowedTools: lc.allowedTools, ...opts, env: { ...lc.env, ...opts.env } }),
      payloads,
    );
    const names = files();
    const t0 = BigInt(names[0]!.split('-')[0]!);
    const hooks: string[] = [];
    const lines = names.map((n) => {
      const offsetMs = Number((BigInt(n.split('-')[0]!) - t0) / 1_000_000n);
      const event = JSON.parse(scrub(readFileSync(join(dir, n), 'utf8'), project, ms.port)) as HookPayload;
      const fixture = join(out, 'hooks', `${fixtureName(event)}.json`);
      if (!existsSync(fixture)) {
        writeFileSync(fixture, `${JSON.stringify(event, null, 2)}\n`);
        hooks.push(fixtureName(event));
      }
      return JSON.stringify({ offsetMs, event });
    });
    writeFileSync(join(out, 'sessions', `${lc.name}.jsonl`), `${lines.join('\n')}\n`);
    return { lines: lines.length, hooks, exits: results.map((r) => r.exitCode) };
  } finally {
    await ms.close();
    project.cleanup();
  }
}

const wanted = process.argv.slice(2);
const all = [...LIFECYCLES, ...COVERAGE];
for (const lc of all.filter((l) => wanted.length === 0 || wanted.includes(l.name))) {
  const r = await record(lc);
  console.log(`${lc.name}: ${r.lines} events, exit codes ${r.exits.join(',')}; new hook fixtures: ${r.hooks.join(', ') || '-'}`);
}
const have = new Set(readdirSync(join(out, 'hooks')).map((n) => n.split('.')[0]));
console.log(`events never fired: ${ALL_HOOK_EVENTS.filter((e) => !have.has(e)).join(', ')}`);
