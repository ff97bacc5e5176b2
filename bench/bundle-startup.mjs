// Agent start-up from the esbuild bundle (plugin/claude-otel/dist/cli.js) vs from tsc's dist/cli.js:
// wall time from spawning `claude-otel agent` until it has written agent.json (it listens), over
// --runs alternating runs, each in a fresh CLAUDE_OTEL_HOME; then SIGTERM. Prints a markdown table.
//   node bench/bundle-startup.mjs [--runs 10]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const variants = { bundle: join(root, 'plugin', 'claude-otel', 'dist', 'cli.js'), 'tsc dist/': join(root, 'dist', 'cli.js') };

const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });

async function once(cli) {
  const home = mkdtempSync(join(tmpdir(), 'startup-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'agent', '--port', String(port)], { env: { ...process.env, CLAUDE_OTEL_HOME: home }, stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  while (!existsSync(join(home, 'agent.json'))) {
    if (exited) throw new Error(`${cli} agent exited before it listened`);
    await new Promise((r) => setTimeout(r, 2));
  }
  const ms = performance.now() - started;
  child.kill('SIGTERM');
  if (!exited) await new Promise((r) => child.on('exit', r));
  rmSync(home, { recursive: true, force: true });
  return ms;
}

const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [k, cli] of Object.entries(variants)) times[k].push(await once(cli));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = (dir) => readdirSync(dir, { recursive: true }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile() && f.endsWith('.js')).reduce((n, f) => n + statSync(f).size, 0);
console.log('| agent start-up | median ms | min ms | max ms |\n| --- | --- | --- | --- |');
for (const [k, xs] of Object.entries(times)) console.log(`| ${k} | ${median(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`);
console.log(`\nbundle JavaScript: ${(size(join(root, 'plugin', 'claude-otel', 'dist')) / 1024).toFixed(0)} KiB (runs ${runs})`);
