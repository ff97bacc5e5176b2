/**
 * Records a real Claude Code session's hook events (real CLI, scripted model) into
 * examples/recorded-session.jsonl: one `{ "offsetMs": n, "event": {...} }` per line, paths rewritten
 * to /home/dev/project. `npm run demo` replays it through the hook path.
 * Run: npx tsc -p tsconfig.json --outDir .tmp/build && node .tmp/build/scripts/record-session.js
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempProject, runClaude } from '../test/support/claude-cli.js';
import { recorderSettings } from '../test/support/hook-recorder.js';
import { bash, createModelServer, scenario, text, tool, tools } from '../test/support/model-server.js';

const project = makeTempProject();
const dir = join(project.root, 'payloads');
const ms = await createModelServer(
  scenario({
    main: (req) =>
      [
        tools(bash('ls', 'list files'), tool('Read', { file_path: `${project.dir}/README.md` })),
        tools(tool('Write', { file_path: `${project.dir}/notes.txt`, content: 'hello\n' })),
        tools(bash('npm test 2>/dev/null || exit 3', 'run the tests')),
        tools(tool('Agent', { description: 'check notes', prompt: 'SUB: check the notes file', subagent_type: 'general-purpose', run_in_background: false })),
        text('Done: notes written, tests fail with exit 3, the subagent checked the notes.'),
      ][req.step] ?? text('Done.'),
    subagents: { 'SUB:': [tools(bash('cat notes.txt', 'show notes')), text('The notes say hello.')] },
  }),
);
project.file('project/README.md', '# demo\n');
const result = await runClaude({
  cwd: project.dir, home: project.home, baseUrl: ms.url, prompt: 'Write notes, run the tests, and have a subagent check the notes',
  settings: recorderSettings(dir), allowedTools: ['Bash', 'Read', 'Write', 'Agent'],
});
const files = readdirSync(dir).sort();
const t0 = BigInt(files[0]!.split('-')[0]!);
const lines = files.map((f) => {
  const offsetMs = Number((BigInt(f.split('-')[0]!) - t0) / 1_000_000n);
  const raw = readFileSync(join(dir, f), 'utf8').split(project.dir).join('/home/dev/project').split(project.home).join('/home/dev');
  return JSON.stringify({ offsetMs, event: JSON.parse(raw) });
});
writeFileSync('examples/recorded-session.jsonl', `${lines.join('\n')}\n`);
console.log(`exit ${result.exitCode}; recorded ${lines.length} events`);
await ms.close();
project.cleanup();
