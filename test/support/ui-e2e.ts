// Shared by the web view's browser tests: the ui as a child process, a raw GET with our own Host
// header, the bundle build and the Chromium launch flags.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { CLI } from './bridge-e2e.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Ui {
  proc: ChildProcess;
  loginUrl: string;
  base: string;
  port: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** `claude-otel ui --port P …` as a child process; resolves once it printed its login URL. */
export async function startUi(home: string, port: number, extra: string[] = []): Promise<Ui> {
  const proc = spawn(process.execPath, [CLI, 'ui', '--port', String(port), ...extra], { env: { ...process.env, CLAUDE_OTEL_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const loginUrl = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`ui exited ${code}: ${err}`)));
  });
  const stop = (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  return { proc, loginUrl, base: `http://127.0.0.1:${port}/`, port, stop };
}

/** A raw GET with a Host header of our choosing (fetch does not let us set Host). */
export function rawGet(port: number, path: string, headers: Record<string, string>, maxMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(maxMs, () => req.destroy(new Error(`GET ${path}: no answer in ${maxMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** vitest's global setup runs tsc only; the page bundle is the second half of `npm run build`. */
export function buildUiBundle(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'build-ui.mjs')], { stdio: 'inherit' });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build-ui exited ${code}`))));
  });
}
