// The web view (`claude-otel ui`) in a real browser: headless Debian Chromium driven by
// playwright-core. The ui runs as its own process (dist/cli.js ui), against the CLAUDE_OTEL_HOME
// of a real Claude Code session (real CLI, scripted model, hooks installed by `claude-otel install`,
// no OTLP endpoint: spans go to the local store).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupBridge, type Bridge } from '../support/bridge-e2e.js';
import { bash, scenario, text, tool, tools } from '../support/model-server.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/agent-harness.js';
import { buildUiBundle, CHROMIUM, CHROMIUM_FLAGS as FLAGS, rawGet, startUi } from '../support/ui-e2e.js';

const SHOTS = process.env.UI_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'claude-otel-ui-shots-'));

let browser: Browser;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  expect(existsSync(CHROMIUM), 'Debian chromium (scripts/install-deps.sh installs it)').toBe(true);
  await buildUiBundle();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('claude-otel ui: login', () => {
  it('refuses requests without the token, with a wrong token or a foreign Host; the token sets a cookie, then pages load', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ui-home-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const ui = await startUi(home, await freePort());
    cleanups.push(() => ui.stop());
    const host = `127.0.0.1:${ui.port}`;
    const token = new URL(ui.loginUrl).searchParams.get('token')!;

    // No cookie, no token: nothing, neither the page nor any API.
    for (const path of ['/', '/app.js', '/api/sessions', '/api/sessions/x', '/api/live', '/api/config']) {
      expect((await rawGet(ui.port, path, { host })).status, path).toBe(401);
    }
    expect((await rawGet(ui.port, '/api/sessions?token=' + '0'.repeat(64), { host })).status).toBe(401);
    // The right token under a foreign Host (DNS rebinding) gets nothing either, nor does the right cookie.
    expect((await rawGet(ui.port, `/?token=${token}`, { host: `evil.example:${ui.port}` })).status).toBe(421);
    const login = await rawGet(ui.port, `/?token=${token}`, { host });
    expect(login.status).toBe(303);

    const context = await browser.newContext();
    cleanups.push(() => context.close());
    const page = await context.newPage();
    const res = await page.goto(ui.loginUrl);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(ui.base); // the token is gone from the address bar
    const cookies = await context.cookies(ui.base);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookies[0]!.value).not.toContain(token);
    await page.getByText('No sessions in the local store yet').waitFor();
    const api = await page.evaluate(async () => (await fetch('/api/sessions')).status);
    expect(api).toBe(200);
    // The cookie alone, under a foreign Host: refused.
    expect((await rawGet(ui.port, '/api/sessions', { host: `evil.example:${ui.port}`, cookie: `${cookies[0]!.name}=${cookies[0]!.value}` })).status).toBe(421);
    expect((await rawGet(ui.port, '/api/sessions', { host, cookie: `${cookies[0]!.name}=${cookies[0]!.value}` })).status).toBe(200);
    // No CORS: nothing invites another origin.
    const headers = await page.evaluate(async () => [...(await fetch('/api/sessions')).headers.keys()]);
    expect(headers.filter((h) => h.startsWith('access-control-'))).toEqual([]);

    // A fresh browser without the token sees the refusal and no data.
    const stranger = await browser.newContext();
    cleanups.push(() => stranger.close());
    const p2 = await stranger.newPage();
    const refused = await p2.goto(ui.base);
    expect(refused?.status()).toBe(401);
    expect(await p2.textContent('body')).toContain('login token');
  });
});

type Row = { name: string; depth: number; mark: string; lane: number };
const waterfallRows = (page: Page) =>
  page.$$eval('[data-testid=waterfall] .wrow', (els) =>
    els.map((e) => ({ name: e.getAttribute('data-name')!, depth: Number(e.getAttribute('data-depth')), mark: e.getAttribute('data-mark')!, lane: Number(e.getAttribute('data-lane')) })),
  );

describe('claude-otel ui: a real Claude Code session, live', () => {
  let b: Bridge;
  afterEach(async () => b && (await b.cleanup()));

  it('appears while it runs, its Bash span ticks then closes, the waterfall shows the tree, and a ui restart loses and duplicates nothing', async () => {
    b = await setupBridge(
      scenario({
        main: (req) => (req.promptText.includes('<task-notification>') ? text('noted') : [tools(bash('sleep 3', 'wait a bit')), tools(bash('exit 3', 'fail on purpose')), tools(tool('Agent', { description: 'delegate', prompt: 'SUB1: echo', subagent_type: 'general-purpose', run_in_background: false })), text('done')][req.step] ?? text('done')),
        subagents: { 'SUB1:': [tools(bash('echo in-sub')), text('sub done')] },
      }),
      { allowedTools: ['Bash', 'Agent'] },
    );
    // Local store only: config.json without the OTLP endpoint (as test/e2e/local-view.test.ts does).
    const configFile = join(b.otelHome, 'config.json');
    const written = JSON.parse(readFileSync(configFile, 'utf8')) as { agent: { port: number } };
    writeFileSync(configFile, JSON.stringify({ profile: 'testing', agent: { port: written.agent.port } }));

    const port = await freePort();
    let ui = await startUi(b.otelHome, port, ['--jaeger-url', 'http://127.0.0.1:16686']);
    cleanups.push(() => ui.stop());
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    await page.goto(ui.loginUrl);
    await page.getByText('No sessions in the local store yet').waitFor();

    // The session starts while the page is open: its row appears, running.
    const run = b.run('use tools', { timeoutMs: 60_000 });
    const row = page.locator('[data-testid=sessions] a[data-state=running]');
    await row.waitFor({ timeout: 30_000 });
    const sessionId = (await row.getAttribute('data-session-id'))!;
    await row.click();
    await page.waitForURL(`**/#/s/${sessionId}`);

    // The Bash span runs (from the agent's live state) and its duration ticks on the page.
    const bashRow = page.locator('.wrow[data-name="execute_tool Bash"][data-mark=running]').first();
    await bashRow.waitFor({ timeout: 30_000 });
    const seconds = async () => {
      const t = (await bashRow.locator('[data-testid=duration]').textContent()) ?? '';
      return t.endsWith('ms') ? parseFloat(t) / 1000 : parseFloat(t);
    };
    const first = await seconds();
    await page.waitForFunction(
      ([sel, before]) => {
        const t = document.querySelector(sel)?.querySelector('[data-testid=duration]')?.textContent ?? '';
        const s = t.endsWith('ms') ? parseFloat(t) / 1000 : parseFloat(t);
        return s > before;
      },
      ['.wrow[data-name="execute_tool Bash"][data-mark=running]', first] as const,
      { timeout: 10_000 },
    );

    // Drop the live connection: restart the ui server on the same port while the session goes on.
    // Spans land in the store while it is down (so a resume from "now" would lose them).
    const storeDir = join(b.otelHome, 'store');
    const spanLines = () =>
      readdirSync(storeDir).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(storeDir, f), 'utf8').split('\n').filter((l) => l.includes('"type":"span"')));
    await ui.stop();
    const atStop = spanLines().length;
    await page.getByTestId('connection').getByText('reconnecting').waitFor();
    await waitFor(() => spanLines().length > atStop, 30_000, 'a span landing while the ui is down');
    ui = await startUi(b.otelHome, port, ['--jaeger-url', 'http://127.0.0.1:16686']);
    await page.waitForFunction(() => (window as unknown as { __uiFeed: { hellos: Array<{ resumed: boolean }> } }).__uiFeed.hellos.some((h) => h.resumed), undefined, { timeout: 15_000 });

    // The Bash span closes with its outcome (no longer running, marked ok).
    const result = await run;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.json?.session_id).toBe(sessionId);
    const expected: Array<[number, string]> = [
      [0, 'invoke_agent claude-code'],
      [1, 'claude_code.turn'],
      [2, 'execute_tool Bash'],
      [2, 'execute_tool Bash'],
      [2, 'execute_tool Agent'],
      [3, 'invoke_agent general-purpose'],
      [4, 'execute_tool Bash'],
    ];
    // (the root lands in the store a moment after SessionEnd: wait for the settled tree)
    // Model calls (`chat {model}` rows, one per model response) sit between the tools; their exact
    // places follow the transcript's timestamps, so the hook-event rows are compared in order and
    // the chat rows by count and depth (under the turn or the subagent).
    const answered = b.ms.requests.filter((q) => q.messageId); // the requests answered with a message
    const responses = answered.length;
    await page.waitForFunction(
      ([names, chats]) => {
        const all = [...document.querySelectorAll('[data-testid=waterfall] .wrow')].map((e) => e.getAttribute('data-name') ?? '');
        return JSON.stringify(all.filter((n) => !n.startsWith('chat '))) === JSON.stringify(names) && all.filter((n) => n.startsWith('chat ')).length === chats
          && !document.querySelector('.wrow[data-mark=running], .wrow[data-mark=closing]');
      },
      [expected.map(([, n]) => n), responses] as const,
      { timeout: 30_000 },
    );
    const all = await waterfallRows(page);
    expect(all.filter((r) => r.name.startsWith('chat ')).map((r) => r.depth).sort()).toEqual(answered.map((q) => (q.agent === 'subagent' ? 4 : 2)).sort());
    const rows = all.filter((r) => !r.name.startsWith('chat '));
    expect(rows.map((r) => [r.depth, r.name])).toEqual(expected);
    expect(rows.map((r) => r.mark)).toEqual(['ok', 'ok', 'ok', 'error', 'ok', 'ok', 'ok']);
    await expect(page.locator('.wrow[data-mark=error] .note').textContent()).resolves.toContain('exit_code_3');
    // The subagent and its tool are in a lane of their own; the main agent's spans in lane 0.
    expect(rows.map((r) => r.lane)).toEqual([0, 0, 0, 0, 0, 1, 1]);
    await expect(page.getByTestId('jaeger').getAttribute('href')).resolves.toBe(`http://127.0.0.1:16686/trace/${sessionId.replace(/-/g, '')}`);

    // Keyboard: ↓ moves the selection, Enter opens the details with the span's attributes.
    await page.getByTestId('waterfall').focus();
    await page.keyboard.press('Home');
    const firstTool = all.findIndex((r) => r.name === 'execute_tool Bash'); // model-call rows may come before it
    for (let i = 0; i < firstTool; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const details = page.getByTestId('details');
    await details.waitFor();
    await expect(details.textContent()).resolves.toContain('claude_code.tool.outcome');
    await expect(details.textContent()).resolves.toContain('success');

    // Every span line of the session's store file reached the page exactly once, in order,
    // across the restart (Last-Event-ID resumed the feed).
    const files = readdirSync(storeDir).filter((f) => f.endsWith('.jsonl'));
    expect(files).toHaveLength(1);
    const lines = readFileSync(join(storeDir, files[0]!), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; traceId?: string; spanId?: string });
    const stored = lines.filter((l) => l.type === 'span').map((l) => `${l.traceId}/${l.spanId}`);
    await page.waitForFunction((n) => (window as unknown as { __uiFeed: { spanEvents: string[] } }).__uiFeed.spanEvents.length >= n, stored.length, { timeout: 15_000 });
    const seen = await page.evaluate(() => (window as unknown as { __uiFeed: { spanEvents: string[] } }).__uiFeed.spanEvents);
    expect(seen).toEqual(stored);

    // The live tail saw the spans close; the list finds the session by a tool_use_id, and not by nonsense.
    await page.goto(`${ui.base}#/tail`);
    await page.getByTestId('tail').getByText('execute_tool Agent').first().waitFor();
    await page.goto(ui.base);
    const toolUseId = b.ms.issuedToolUseIds()[1]!;
    await page.getByTestId('search').fill(toolUseId);
    await page.waitForFunction(() => document.querySelector('.count')?.textContent === '1 sessions');
    await page.getByTestId('search').fill('no-such-id');
    await page.getByText('No session matches.').waitFor();
    await page.goto(`${ui.base}#/s/${sessionId}`);
    await page.locator('.wrow[data-name="execute_tool Agent"]').waitFor();
    await page.locator('.wrow[data-name="execute_tool Agent"]').click();
    await page.keyboard.press('Enter');
    await page.getByTestId('details').waitFor();

    // Screenshots of the session page, light and dark, for a person to look at.
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(SHOTS, 'session-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'session-dark.png') });
    await page.goto(`${ui.base}#/`);
    await page.locator('[data-testid=sessions] a').first().waitFor();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(SHOTS, 'sessions-light.png') });
    console.log(`screenshots in ${SHOTS}`);
  });
});

describe('claude-otel ui: a large session', () => {
  it('renders only the rows in view of a 5,000-span session and scrolls to its end', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ui-home-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(home, 'store'), { recursive: true });
    const sid = '11111111-2222-4333-8444-555555555555';
    const trace = sid.replace(/-/g, '');
    const t0 = 1_764_000_000_000n * 1_000_000n;
    const line = (id: string, parent: string | undefined, name: string, kind: string, start: bigint, end: bigint) =>
      JSON.stringify({ type: 'span', traceId: trace, spanId: id, ...(parent ? { parentSpanId: parent } : {}), name, kind: 'internal', startTimeUnixNano: String(t0 + start), endTimeUnixNano: String(t0 + end), status: { code: 'unset' }, attributes: { 'session.id': sid, 'claude_code.span.kind': kind }, events: [] });
    const lines = [line('r'.padStart(16, '0'), undefined, 'invoke_agent claude-code', 'session', 0n, 5_001_000_000n), line('t'.padStart(16, '0'), 'r'.padStart(16, '0'), 'claude_code.turn', 'turn', 0n, 5_000_000_000n)];
    for (let i = 0; i < 4998; i++) lines.push(line(i.toString(16).padStart(16, '0'), 't'.padStart(16, '0'), `execute_tool Read${i}`, 'tool', BigInt(i) * 1_000_000n, BigInt(i) * 1_000_000n + 900_000n));
    writeFileSync(join(home, 'store', `${sid}.jsonl`), lines.join('\n') + '\n');
    const ui = await startUi(home, await freePort());
    cleanups.push(() => ui.stop());
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    cleanups.push(() => context.close());
    const page = await context.newPage();
    await page.goto(ui.loginUrl);
    const started = Date.now();
    await page.goto(`${ui.base}#/s/${sid}`);
    await page.locator('.wrow[data-name="execute_tool Read0"]').waitFor();
    console.log(`5,000-span session: first waterfall render ${Date.now() - started} ms (one run, not an assertion)`);
    const inDom = await page.locator('[data-testid=waterfall] .wrow').count();
    expect(inDom).toBeGreaterThan(10);
    expect(inDom).toBeLessThan(100);
    await page.getByTestId('waterfall').focus();
    await page.keyboard.press('End');
    await page.locator('.wrow[data-name="execute_tool Read4997"]').waitFor();
    expect(await page.locator('[data-testid=waterfall] .wrow').count()).toBeLessThan(100);
  });
});

describe('claude-otel ui: the router', () => {
  it('follows a hash that changed before it listened (a navigation while the page was still loading)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ui-home-'));
    cleanups.push(() => rmSync(home, { recursive: true, force: true }));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(home, 'store'), { recursive: true });
    const sid = '22222222-3333-4444-8555-666666666666';
    const trace = sid.replace(/-/g, '');
    const t0 = 1_764_000_000_000n * 1_000_000n;
    const span = (id: string, parent: string | undefined, name: string, kind: string) =>
      JSON.stringify({ type: 'span', traceId: trace, spanId: id.padStart(16, '0'), ...(parent ? { parentSpanId: parent.padStart(16, '0') } : {}), name, kind: 'internal', startTimeUnixNano: String(t0), endTimeUnixNano: String(t0 + 1_000_000n), status: { code: 'unset' }, attributes: { 'session.id': sid, 'claude_code.span.kind': kind }, events: [] });
    writeFileSync(join(home, 'store', `${sid}.jsonl`), `${span('r', undefined, 'invoke_agent claude-code', 'session')}\n${span('a', 'r', 'execute_tool Early', 'tool')}\n`);
    const ui = await startUi(home, await freePort());
    cleanups.push(() => ui.stop());
    const context = await browser.newContext();
    cleanups.push(() => context.close());
    await (await context.newPage()).goto(ui.loginUrl); // the cookie
    const page = await context.newPage();
    // The app has rendered (its module ran) but its effects have not run yet at DOMContentLoaded;
    // replaceState changes the hash there without any hashchange event.
    await page.addInitScript((hash) => {
      addEventListener('DOMContentLoaded', () => history.replaceState(null, '', hash));
    }, `#/s/${sid}`);
    await page.goto(ui.base);
    await page.locator('.wrow[data-name="execute_tool Early"]').waitFor({ timeout: 10_000 });
  });
});
