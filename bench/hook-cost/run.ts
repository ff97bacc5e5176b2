/**
 * Hook cost benchmark: what our hooks add to a real Claude Code session.
 *
 * One invocation runs the real CLI (`-p`) against the scripted model server: a session of N
 * sequential tool calls (one Read per model step), in R interleaved rounds over these configurations
 * (order rotated each round):
 *   none         no hooks
 *   true         `/bin/true` command hook on every event our default install hooks (same matchers)
 *   http         our default install (PreToolUse/PostToolUse/PostToolUseFailure = http hooks to the
 *                agent, the rest = bin/claude-otel-hook); the agent is started once, warm
 *   durable      our install with --transport durable (every event = bin/claude-otel-hook)
 *   true-tools   `/bin/true` only on the tool events (Pre/Post/PostFailure)
 *   http-tools   our http hooks only on the tool events
 *   plugin       the shipped plugin (`--plugin-dir plugin/claude-otel`, its hooks.json as it is:
 *                command hooks, the per-tool and per-response ones not awaited), same agent
 *   true-plugin  a copy of the plugin whose hooks.json runs `/bin/true` (awaited) on every event the
 *                plugin hooks, same matchers, also loaded with --plugin-dir: both pay Claude Code's
 *                plugin loading, so the difference is the hooks
 * The *-tools pair isolates the per-tool-event cost from the PostToolBatch command hook that fires
 * once per model response in the full configurations.
 *
 * Then, directly (no CLI): the hook script's own time per event vs `/bin/true` (interleaved), the
 * peak RSS of every process it starts (GNU time %M), the agent's handling-time histogram over the
 * CLI runs, and the cold start (SessionStart with no agent running: the script starts it).
 *
 * Prints a JSON report on stdout (and to --out FILE). Needs `npm run build` first.
 *   node .tmp/build/bench/hook-cost/run.js [--tools 20] [--rounds 5] [--samples 200] [--cold 5] [--out FILE]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTempProject, runClaude, type TempProject } from '../../test/support/claude-cli.js';
import { createModelServer, scenario, text, tool, tools } from '../../test/support/model-server.js';
import { startOtlpReceiver } from '../../test/support/otlp-receiver.js';
import { freePort } from '../../test/support/ports.js';
import {
  CLI, HOOK_SCRIPT, addHistogram, diffHistogram, findMetric, histogramQuantile, machine, median, parseHistogram, quantile, repoRoot, round, sleep,
  startAgentProcess, stopPid, type AgentProcess, type Histogram,
} from './common.js';

const { values: args } = parseArgs({
  options: {
    tools: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '5' },
    samples: { type: 'string', default: '200' },
    cold: { type: 'string', default: '5' },
    out: { type: 'string' },
    configs: { type: 'string' },
  },
});
const N = Number(args.tools);
const ROUNDS = Number(args.rounds);
const SAMPLES = Number(args.samples);
const COLD = Number(args.cold);

const ROOT = repoRoot();
process.env.CLAUDE_BIN ??= join(ROOT, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude');
const EVENTS_DIR = join(ROOT, 'bench', 'agent-load', 'events');
const TOOL_EVENTS = new Set(['PreToolUse', 'PostToolUse', 'PostToolUseFailure']);

type ConfigName = 'none' | 'true' | 'http' | 'durable' | 'true-tools' | 'http-tools' | 'plugin' | 'true-plugin';
const ALL_CONFIGS: ConfigName[] = ['none', 'true', 'http', 'durable', 'true-tools', 'http-tools', 'plugin', 'true-plugin'];
const PLUGIN_DIR = join(ROOT, 'plugin', 'claude-otel');
const CONFIGS = (args.configs ? args.configs.split(',') : ALL_CONFIGS) as ConfigName[];

const log = (m: string) => process.stderr.write(`[hook-cost] ${m}\n`);

type Hooks = Record<string, { matcher?: string; hooks: Record<string, unknown>[] }[]>;

function readSettings(dir: string): { hooks: Hooks } {
  return JSON.parse(readFileSync(join(dir, '.claude', 'settings.json'), 'utf8')) as { hooks: Hooks };
}

function writeSettings(project: TempProject, settings: unknown, local?: string) {
  mkdirSync(join(project.dir, '.claude'), { recursive: true });
  writeFileSync(join(project.dir, '.claude', 'settings.json'), JSON.stringify(settings, null, 2));
  if (local) writeFileSync(join(project.dir, '.claude', 'settings.local.json'), local);
}

const asTrue = (hooks: Hooks): Hooks =>
  Object.fromEntries(Object.entries(hooks).map(([ev, groups]) => [ev, groups.map((g) => ({ ...g, hooks: g.hooks.map(() => ({ type: 'command', command: '/bin/true', timeout: 10 })) }))]));
const toolsOnly = (hooks: Hooks): Hooks => Object.fromEntries(Object.entries(hooks).filter(([ev]) => TOOL_EVENTS.has(ev)));

/** Hook events per run of our session shape (for the per-event division). */
function eventsPerRun(hooks: Hooks, n: number) {
  // SessionStart, UserPromptSubmit, n × (Pre, Post), n × PostToolBatch, Stop, SessionEnd
  const counts: Record<string, number> = { SessionStart: 1, UserPromptSubmit: 1, PreToolUse: n, PostToolUse: n, PostToolBatch: n, Stop: 1, SessionEnd: 1 };
  let tool = 0;
  let other = 0;
  for (const [ev, c] of Object.entries(counts)) {
    if (!hooks[ev]) continue;
    if (TOOL_EVENTS.has(ev)) tool += c;
    else other += c;
  }
  return { tool, other };
}

interface RunRecord { config: ConfigName; round: number; ms: number; ok: boolean; toolCalls: number }

async function main() {
  if (!existsSync(CLI())) throw new Error('dist/cli.js missing: run `npm run build` first');
  const m = machine();
  log(`N=${N} tool calls per session, ${ROUNDS} rounds, configs ${CONFIGS.join(',')}`);

  // --- model server: N sequential Reads of the file the prompt names, then a text answer
  const ms = await createModelServer(
    scenario({ main: (req) => (req.step < N ? tools(tool('Read', { file_path: /FILE=(\S+)/.exec(req.promptText)![1]! })) : text('Done.')) }),
  );
  const receiver = await startOtlpReceiver();
  const otelHome = join(makeTempProject('hook-cost-home-').root, 'otel-home');
  const port = await freePort();
  mkdirSync(otelHome, { recursive: true });

  // --- one project per configuration
  const projects: Partial<Record<ConfigName, TempProject>> = {};
  for (const c of ALL_CONFIGS) projects[c] = makeTempProject(`hook-cost-${c}-`);
  for (const p of Object.values(projects)) p!.file('project/f.txt', 'hello\n');
  const installEnv = { ...process.env, CLAUDE_OTEL_HOME: otelHome };
  const install = (dir: string, transport: string) =>
    execFileSync(process.execPath, [CLI(), 'install', '--scope', 'project', '--project-dir', dir, '--port', String(port), '--transport', transport], { env: installEnv, stdio: 'pipe' });
  install(projects.http!.dir, 'http');
  install(projects.durable!.dir, 'durable');
  const ours = readSettings(projects.http!.dir);
  const local = readFileSync(join(projects.http!.dir, '.claude', 'settings.local.json'), 'utf8');
  writeSettings(projects.true!, { hooks: asTrue(ours.hooks) });
  writeSettings(projects['true-tools']!, { hooks: asTrue(toolsOnly(ours.hooks)) });
  writeSettings(projects['http-tools']!, { hooks: toolsOnly(ours.hooks) }, local);
  const pluginHooks = (JSON.parse(readFileSync(join(PLUGIN_DIR, 'hooks', 'hooks.json'), 'utf8')) as { hooks: Hooks }).hooks;
  const truePluginDir = join(projects['true-plugin']!.root, 'claude-otel');
  cpSync(PLUGIN_DIR, truePluginDir, { recursive: true });
  writeFileSync(join(truePluginDir, 'hooks', 'hooks.json'), JSON.stringify({ hooks: asTrue(pluginHooks) }, null, 2));
  const hooksOf: Record<ConfigName, Hooks> = {
    none: {}, true: ours.hooks, http: ours.hooks, durable: readSettings(projects.durable!.dir).hooks,
    'true-tools': toolsOnly(ours.hooks), 'http-tools': toolsOnly(ours.hooks), plugin: pluginHooks, 'true-plugin': pluginHooks,
  };

  // --- the agent, started once and warmed
  let agent: AgentProcess = await startAgentProcess({ home: otelHome, port, otlpEndpoint: receiver.url, profile: 'testing' });
  log(`agent pid ${agent.pid} on ${agent.url}`);

  const runOnce = async (c: ConfigName, round: number): Promise<RunRecord> => {
    const p = projects[c]!;
    const before = ms.issuedToolUseIds().length;
    const r = await runClaude({
      cwd: p.dir, home: p.home, baseUrl: ms.url, prompt: `bench ${c} ${round} FILE=${join(p.dir, 'f.txt')}`, allowedTools: ['Read'], env: { CLAUDE_OTEL_HOME: otelHome }, timeoutMs: 120_000,
      ...(c === 'plugin' ? { extraArgs: ['--plugin-dir', PLUGIN_DIR] } : c === 'true-plugin' ? { extraArgs: ['--plugin-dir', truePluginDir] } : {}),
    });
    const toolCalls = ms.issuedToolUseIds().length - before;
    const ok = r.exitCode === 0 && r.json?.is_error === false && toolCalls === N;
    if (!ok) log(`run ${c}#${round} not clean: exit ${r.exitCode}, tool calls ${toolCalls}, ${r.stderr.slice(0, 300)}`);
    return { config: c, round, ms: r.durationMs, ok, toolCalls };
  };

  // warm-up: one run each (page cache, the CLI's first-run files in each HOME, the agent's JIT)
  for (const c of CONFIGS) await runOnce(c, -1);

  const metricName = findMetric(await (await fetch(`${agent.url}/metrics`)).text(), 'handling_duration', '') ?? 'claude_otel_handling_duration';
  const scrapeText = async () => (await fetch(`${agent.url}/metrics`)).text();
  // by transport too: an http event's handling is what its hook waits for; a spooled one is drained after its hook exited
  const TRANSPORTS = ['http', 'command', 'spool'] as const;
  const histograms = (text: string) => ({ all: parseHistogram(text, metricName), ...Object.fromEntries(TRANSPORTS.map((t) => [t, parseHistogram(text, metricName, `transport="${t}"`)])) }) as Record<'all' | (typeof TRANSPORTS)[number], Histogram | undefined>;
  const histBefore = histograms(await scrapeText());
  const spansBefore = receiver.spans.length;
  const toolIdsBefore = new Set(ms.issuedToolUseIds());

  const runs: RunRecord[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]!);
    for (const c of order) {
      const r = await runOnce(c, round);
      runs.push(r);
      log(`round ${round} ${c.padEnd(10)} ${r.ms} ms${r.ok ? '' : ' (NOT OK)'}`);
    }
  }
  await sleep(500); // testing profile flushes every 50 ms
  const histAfter = histograms(await scrapeText());
  const hist = diffHistogram(histAfter.all!, histBefore.all);
  const summary = (hg: Histogram) => ({
    events: hg.count,
    meanMs: hg.count ? round(hg.sum / hg.count, 3) : 0,
    p50: histogramQuantile(hg, 0.5),
    p99: histogramQuantile(hg, 0.99),
    over2ms: hg.count - (hg.buckets.find((b) => b.le === 2)?.count ?? 0),
  });
  const diffs = Object.fromEntries(TRANSPORTS.flatMap((t) => (histAfter[t] ? [[t, diffHistogram(histAfter[t], histBefore[t])]] : []))) as Partial<Record<(typeof TRANSPORTS)[number], Histogram>>;
  const byTransport = Object.fromEntries(Object.entries(diffs).map(([t, hg]) => [t, summary(hg)]));
  // the events a hook waits on: http and command, added bucket by bucket
  const waitedOn = diffs.http && diffs.command ? addHistogram(diffs.http, diffs.command) : (diffs.http ?? diffs.command);

  // every tool call of the runs with our hooks must have produced exactly one tool span
  const ourRuns = runs.filter((r) => r.config === 'http' || r.config === 'durable' || r.config === 'http-tools' || r.config === 'plugin');
  const newToolIds = ms.issuedToolUseIds().filter((id) => !toolIdsBefore.has(id));
  const toolSpanIds = new Map<string, number>();
  for (const s of receiver.spans.slice(spansBefore)) {
    const id = s.attributes['gen_ai.tool.call.id'];
    if (typeof id === 'string') toolSpanIds.set(id, (toolSpanIds.get(id) ?? 0) + 1);
  }
  const spanCheck = { expectedToolSpans: ourRuns.length * N, receivedToolSpans: [...toolSpanIds.values()].reduce((a, b) => a + b, 0), duplicates: [...toolSpanIds.values()].filter((n) => n > 1).length, issuedInRounds: newToolIds.length };

  // --- summary of the CLI runs
  const med: Partial<Record<ConfigName, number>> = {};
  for (const c of CONFIGS) med[c] = median(runs.filter((r) => r.config === c).map((r) => r.ms));
  const none = med.none ?? NaN;
  const perToolEvent = (c: ConfigName) => (med[c]! - none) / eventsPerRun(hooksOf[c], N).tool;
  const perHookEvent = (c: ConfigName) => {
    const e = eventsPerRun(hooksOf[c], N);
    return (med[c]! - none) / (e.tool + e.other);
  };
  const cli = CONFIGS.map((c) => ({
    config: c,
    medianMs: round(med[c]!, 0),
    runsMs: runs.filter((r) => r.config === c).map((r) => r.ms),
    vsNone: round(med[c]! / none, 3),
    hookEvents: eventsPerRun(hooksOf[c], N),
    addedPerToolEventMs: c === 'none' ? 0 : round(perToolEvent(c), 2),
    addedPerHookEventMs: c === 'none' ? 0 : round(perHookEvent(c), 2),
  }));
  const ratio = (a: ConfigName, b: ConfigName, f: (c: ConfigName) => number) => (CONFIGS.includes(a) && CONFIGS.includes(b) ? round(f(a) / f(b), 2) : undefined);

  // --- the hook script directly: time per event vs /bin/true, same stdin, interleaved
  const fixtureNames = ['SessionStart', 'UserPromptSubmit', 'PostToolBatch', 'Stop', 'SessionEnd'];
  const fixtures = fixtureNames.map((n) => ({ name: n, body: readFileSync(join(EVENTS_DIR, `${n}.json`)) }));
  const hookEnv = { ...process.env, CLAUDE_OTEL_HOME: otelHome, CLAUDE_PID: String(process.pid) };
  const timeCmd = (cmd: string, input: Buffer) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/bin/sh', ['-c', cmd], { input, env: hookEnv, stdio: ['pipe', 'ignore', 'ignore'] });
    const t = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}`);
    return t;
  };
  const hookCmd = HOOK_SCRIPT();
  const direct = { true: [] as number[], ours: [] as number[], oursMinusTrue: [] as number[] };
  for (let i = 0; i < SAMPLES; i++) {
    const f = fixtures[i % fixtures.length]!;
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = timeCmd('/bin/true', f.body);
      b = timeCmd(hookCmd, f.body);
    } else {
      b = timeCmd(hookCmd, f.body);
      a = timeCmd('/bin/true', f.body);
    }
    direct.true.push(a);
    direct.ours.push(b);
    direct.oursMinusTrue.push(b - a);
  }
  const stat = (xs: number[]) => ({ median: round(median(xs), 3), p90: round(quantile(xs, 0.9), 3), p99: round(quantile(xs, 0.99), 3), max: round(Math.max(...xs), 3) });

  // --- peak RSS of the processes the hook starts, per event (GNU time: max RSS over the tree it waits for)
  const gnuTime = ['/usr/bin/time', '/bin/time'].find((p) => existsSync(p));
  let rss: { tool: string; oursMaxKb: number; trueMaxKb: number; oursKbs: number[] } | { tool: 'none' } = { tool: 'none' };
  if (gnuTime) {
    const maxRss = (cmd: string, input: Buffer) => {
      const r = spawnSync(gnuTime, ['-f', '%M', '/bin/sh', '-c', `${cmd} 2>/dev/null`], { input, env: hookEnv, encoding: 'buffer' });
      return Number(r.stderr.toString().trim().split('\n').pop());
    };
    const oursKbs: number[] = [];
    const trueKbs: number[] = [];
    for (let i = 0; i < 25; i++) {
      const f = fixtures[i % fixtures.length]!;
      oursKbs.push(maxRss(hookCmd, f.body));
      trueKbs.push(maxRss('/bin/true', f.body));
    }
    rss = { tool: `${gnuTime} -f %M`, oursMaxKb: Math.max(...oursKbs), trueMaxKb: Math.max(...trueKbs), oursKbs };
  }

  // --- cold start: SessionStart when no agent runs (the hook script starts it and waits until it is alive)
  await agent.stop();
  const cold: { hookMs: number; healthzMs: number }[] = [];
  const warmAfterCold: number[] = [];
  const ss = fixtures[0]!.body;
  for (let i = 0; i < COLD; i++) {
    const t0 = Date.now();
    const hookMs = timeCmd(hookCmd, ss);
    let healthzMs = NaN;
    for (let k = 0; k < 300; k++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) {
          healthzMs = Date.now() - t0;
          break;
        }
      } catch {
        /* not yet */
      }
      await sleep(10);
    }
    warmAfterCold.push(timeCmd(hookCmd, ss));
    cold.push({ hookMs: round(hookMs, 1), healthzMs });
    const pid = Number(readFileSync(join(otelHome, 'agent.pid'), 'utf8'));
    if (pid) await stopPid(pid);
  }
  // leftover spool files from a stopped agent are harmless; drop the home below

  const report = {
    machine: m,
    settings: { toolCallsPerRun: N, rounds: ROUNDS, tool: 'Read', model: 'scripted (test/support/model-server.ts)', agentProfile: 'testing' },
    cli,
    perToolEvent: {
      // brief's formula: (config - none) / tool hook events per run (Pre+Post per call)
      httpVsTrue: ratio('http', 'true', perToolEvent),
      durableVsTrue: ratio('durable', 'true', perToolEvent),
      pluginVsTruePlugin: ratio('plugin', 'true-plugin', perToolEvent),
      httpToolsVsTrueTools: ratio('http-tools', 'true-tools', perToolEvent),
    },
    directHookScript: {
      samples: SAMPLES,
      events: fixtureNames,
      trueMs: stat(direct.true),
      oursMs: stat(direct.ours),
      addedMs: stat(direct.oursMinusTrue),
      ratioMedian: round(median(direct.ours) / median(direct.true), 2),
    },
    rss,
    agentHandling: {
      metric: metricName,
      ...summary(hist),
      buckets: hist.buckets.map((b) => ({ le: b.le === Infinity ? '+Inf' : b.le, count: b.count })),
      byTransport,
      ...(waitedOn ? { waitedOn: summary(waitedOn) } : {}),
    },
    coldStart: { runs: cold, medianHookMs: round(median(cold.map((c) => c.hookMs)), 1), warmHookMsAfter: round(median(warmAfterCold), 1) },
    spanCheck,
    notClean: runs.filter((r) => !r.ok).length,
  };
  const json = JSON.stringify(report, null, 2);
  if (args.out) writeFileSync(args.out, json);
  process.stdout.write(`${json}\n`);

  await ms.close();
  await receiver.close();
  for (const p of Object.values(projects)) p!.cleanup();
  execFileSync('rm', ['-rf', join(otelHome, '..')]);
}

main().catch((err: unknown) => {
  process.stderr.write(`hook-cost failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
