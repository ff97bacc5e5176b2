// `npm run demo -- --ui`: the recorded session replayed through the hook path, then the web view
// over the demo's store; the printed URL opens that session's waterfall in Chromium (the fragment
// survives the login redirect).
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/bridge-e2e.js';
import { buildUiBundle, CHROMIUM, CHROMIUM_FLAGS } from '../support/ui-e2e.js';

let browser: Awaited<ReturnType<typeof chromium.launch>>;
beforeAll(async () => {
  await buildUiBundle();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
});
afterAll(async () => browser?.close());

describe('claude-otel demo --ui', () => {
  it('prints a URL that opens the replayed session in the web view, and stops on SIGINT', async () => {
    const proc = spawn(process.execPath, [CLI, 'demo', '--ui'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ui URL in 60 s:\n${out}`)), 60_000);
        proc.stdout!.on('data', () => {
          const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+#\/s\/([0-9a-f-]{36}))/.exec(out);
          if (m?.[1]) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      const sessionId = url.split('#/s/')[1]!;
      expect(out).toContain(`session ${sessionId}`); // the terminal waterfall came first
      const page = await browser.newPage();
      await page.goto(url);
      await page.waitForURL(`**/#/s/${sessionId}`);
      await page.locator('.wrow[data-name="invoke_agent claude-code"]').waitFor({ timeout: 15_000 });
      const names = await page.$$eval('[data-testid=waterfall] .wrow', (els) => els.map((e) => e.getAttribute('data-name')));
      // The recorded session: 6 tools (one a subagent's Agent call), as the terminal printed them.
      const printed = (out.match(/^\s+(Bash|Read|Write|Agent|Edit|Glob|Grep)\s/gm) ?? []).length;
      expect(printed).toBeGreaterThan(0);
      expect(names.filter((n) => n?.startsWith('execute_tool ')).length).toBe(printed);
      await page.close();
    } finally {
      proc.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 120_000);
});
