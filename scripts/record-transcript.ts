/**
 * Records a real Claude Code transcript (main session + a foreground subagent on another model,
 * distinct usage per response) into test/fixtures/claude-code-<version>/transcripts/: the session
 * and subagent JSONL files, trimmed (large blobs of record types the bridge does not read are
 * cut, not removed, so unknown types stay in), paths rewritten to /home/dev/..., plus
 * expected.json (what the scripted model issued and Claude Code's own total_cost_usd).
 * Run: npx vite-node scripts/record-transcript.ts
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempProject, runClaude } from '../test/support/claude-cli.js';
import { bash, createModelServer, scenario, text, tool, tools, withUsage, type Reply, type Usage } from '../test/support/model-server.js';

const out = join(import.meta.dirname, '..', 'test', 'fixtures', 'claude-code-2.1.332', 'transcripts');
const project = makeTempProject('cc-rec-');
let n = 0;
const u = (): Usage => {
  n++;
  return { input_tokens: 100 * n + 1, output_tokens: 10 * n + 2, cache_read_input_tokens: 1000 * n + 3, cache_creation_input_tokens: 50 * n + 4 };
};
const ms = await createModelServer(
  scenario({
    main: (req) => withUsage(([tools(bash('echo hi'), tool('Agent', { description: 'sub', prompt: 'SUB1: do', subagent_type: 'general-purpose', model: 'haiku', run_in_background: false })), tools(bash('echo two')), text('done')][req.step] ?? text('ok')) as Reply, u()),
    subagents: { 'SUB1:': (req) => withUsage(([tools(bash('echo sub')), text('sub done')][req.step] ?? text('sub done')) as Reply, u()) },
  }),
);
const r = await runClaude({ cwd: project.dir, home: project.home, baseUrl: ms.url, prompt: 'go', allowedTools: ['Bash', 'Agent'] });
await ms.close();
const sessionId = r.json!.session_id;
const projects = join(project.home, '.claude', 'projects');
const dirName = readdirSync(projects)[0]!;
const rewrite = (s: string) => s.split(dirName).join('-home-dev-project').split(project.dir).join('/home/dev/project').split(project.home).join('/home/dev').split(project.root).join('/home/dev');

const KEEP = new Set(['user', 'assistant', 'api-request', 'cost-state']);
function trim(line: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  if (KEEP.has(record.type as string)) {
    // api-request tails and cache paths are hashes: kept; tool results are short here.
    return rewrite(JSON.stringify(record));
  }
  const small: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) small[k] = typeof v === 'object' && v !== null && JSON.stringify(v).length > 200 ? '[trimmed]' : v;
  return rewrite(JSON.stringify(small));
}

mkdirSync(join(out, 'subagents'), { recursive: true });
const mainFile = join(projects, dirName, `${sessionId}.jsonl`);
writeFileSync(join(out, 'session.jsonl'), readFileSync(mainFile, 'utf8').trim().split('\n').map(trim).join('\n') + '\n');
const subDir = join(projects, dirName, sessionId, 'subagents');
for (const f of readdirSync(subDir).filter((f) => f.endsWith('.jsonl'))) {
  writeFileSync(join(out, 'subagents', f), readFileSync(join(subDir, f), 'utf8').trim().split('\n').map(trim).join('\n') + '\n');
}
writeFileSync(
  join(out, 'expected.json'),
  `${JSON.stringify({
    sessionId,
    totalCostUsd: r.json!.total_cost_usd,
    modelUsage: r.json!.modelUsage,
    responses: ms.requests.filter((q) => q.messageId).map((q) => ({ agent: q.agent, messageId: q.messageId, model: q.model, usage: q.usage, toolUseIds: q.toolUseIds })),
  }, null, 2)}\n`,
);
project.cleanup();
process.stdout.write(`recorded session ${sessionId} into ${out}\n`);
