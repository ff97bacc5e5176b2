// The web view's *team* source in a real browser (headless Debian Chromium, playwright-core): a real
// Claude Code session (real CLI, scripted model) whose agent exports OTLP to the real sink, which
// writes real PostgreSQL rows and Redis stream entries; `claude-otel ui --source team` reads them
// with a read-only PostgreSQL role and a read-only Redis ACL user. The ui is killed (SIGKILL) while
// entries flow and restarted: the page's feed must resume at its Last-Event-ID (a stream entry id)
// and receive every entry written after its start position exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, createTestDatabase, type TestDatabase } from '../sink/support/pg.js';
import { startTestSink, waitForStores, type TestSink } from '../sink/support/sink.js';
import { setupBridge, type Bridge } from '../support/bridge-e2e.js';
import { bash, scenario, text, tool, tools } from '../support/model-server.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/agent-harness.js';
import { buildUiBundle, CHROMIUM, CHROMIUM_FLAGS, rawGet, startUi, type Ui } from '../support/ui-e2e.js';

const REDIS = 'redis://127.0.0.1:6379';
const SHOTS = process.env.UI_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'claude-otel-ui-shots-'));
const tag = `${process.pid}_${Date.now().toString(36)}`;
const PREFIX = `claude-otel-test:uiteam:${tag}`;
const PG_ROLE = `ui_ro_${tag}`;
const REDIS_USER = `ui-ro-${tag}`;

type FeedLog = { spanEvents: string[]; entryIds: string[]; since: string; hellos: Array<{ resumed: boolean; lost?: boolean }> };
const feedLog = (page: Page) => page.evaluate(() => (window as unknown as { __uiFeed: FeedLog }).__uiFeed);

let browser: Browser;
let db: TestDatabase;
let sink: TestSink;
let redis: ReturnType<typeof createClient>;
let home: string;
let roPostgres: string;
let roRedis: string;
let bridge: Bridge | undefined;
const uis: Ui[] = [];

async function startTeamUi(port: number): Promise<Ui> {
  const ui = await startUi(home, port, ['--source', 'team', '--postgres', roPostgres, '--redis', roRedis, '--redis-prefix', PREFIX]);
  uis.push(ui);
  return ui;
}

/** Span entries of the global stream after `since` (exclusive), as the sink wrote them. */
async function spanEntriesAfter(since: string) {
  const all = await redis.sendCommand(['XRANGE', `${PREFIX}:spans`, `(${since}`, '+']) as Array<[string, string[]]>;
  return all.map(([id, flat]) => ({ id, type: flat[flat.indexOf('type') + 1], key: `${flat[flat.indexOf('trace_id') + 1]}/${flat[flat.indexOf('span_id') + 1]}` })).filter((e) => e.type === 'span');
}

beforeAll(async () => {
  await buildUiBundle();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  db = await createTestDatabase('uiteam');
  sink = await startTestSink({ postgres: { url: db.url }, redis: { url: REDIS } }, PREFIX, { token: false });
  await waitForStores(sink);
  home = mkdtempSync(join(tmpdir(), 'ui-team-home-'));
  // The read-only credentials docs/ui.md tells an operator to create (trust auth here: no password).
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`CREATE ROLE ${PG_ROLE} LOGIN`);
  await admin.query(`GRANT CONNECT ON DATABASE ${db.name} TO ${PG_ROLE}`);
  await admin.query(`GRANT USAGE ON SCHEMA public TO ${PG_ROLE}`);
  await admin.query(`GRANT SELECT ON spans TO ${PG_ROLE}`);
  await admin.end();
  const u = new URL(db.url);
  u.username = PG_ROLE;
  roPostgres = u.toString();
  redis = createClient({ url: REDIS });
  await redis.connect();
  await redis.sendCommand(['ACL', 'SETUSER', REDIS_USER, 'reset', 'on', 'nopass', `~${PREFIX}:*`, 'resetchannels', '+xread', '+xrange', '+xrevrange', '+xinfo|stream', '+ping']);
  roRedis = `redis://${REDIS_USER}@127.0.0.1:6379`;
}, 120_000);

afterAll(async () => {
  for (const ui of uis) await ui.stop();
  await bridge?.cleanup();
  await browser?.close();
  await sink?.service.shutdown();
  if (redis?.isOpen) {
    for await (const keys of redis.scanIterator({ MATCH: `${PREFIX}:*`, COUNT: 500 })) if (keys.length) await redis.del(keys);
    await redis.sendCommand(['ACL', 'DELUSER', REDIS_USER]);
    await redis.close();
  }
  await db?.drop();
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${PG_ROLE}`).catch(() => {});
  await admin.end();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('claude-otel ui --source team', () => {
  let sessionId = '';

  it('the read-only credentials cannot write', async () => {
    const ro = new pg.Client({ connectionString: roPostgres });
    await ro.connect();
    await expect(ro.query(`DELETE FROM spans`)).rejects.toThrow(/permission denied/);
    await ro.end();
    const r = createClient({ url: roRedis });
    await r.connect();
    await expect(r.sendCommand(['XADD', `${PREFIX}:spans`, '*', 'type', 'span'])).rejects.toThrow(/NOPERM/);
    await r.close();
  });

  it('shows a real session live, resumes its feed after the ui is killed mid-stream with nothing lost or repeated, and draws the tree from PostgreSQL', async () => {
    bridge = await setupBridge(
      scenario({
        main: (req) => (req.promptText.includes('<task-notification>') ? text('noted') : [tools(bash('sleep 2', 'wait a bit')), tools(bash('exit 3', 'fail on purpose')), tools(tool('Agent', { description: 'delegate', prompt: 'SUB1: echo', subagent_type: 'general-purpose', run_in_background: false })), tools(bash('sleep 2', 'wait again')), text('done')][req.step] ?? text('done')),
        subagents: { 'SUB1:': [tools(bash('echo in-sub')), text('sub done')] },
      }),
      { allowedTools: ['Bash', 'Agent'], otlpEndpoint: sink.url },
    );
    const port = await freePort();
    let ui = await startTeamUi(port);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(ui.loginUrl);
    await page.getByText("No sessions in the team's PostgreSQL yet").waitFor();
    await expect(page.getByTestId('connection').textContent()).resolves.toContain('team');

    // The session starts while the page is open: its row arrives over the feed, running.
    let finished = false;
    const run = bridge.run('use tools', { timeoutMs: 90_000 }).finally(() => (finished = true));
    const row = page.locator('[data-testid=sessions] a[data-state=running]');
    await row.waitFor({ timeout: 45_000 });
    expect(finished, 'the row appeared while the session ran').toBe(false);
    sessionId = (await row.getAttribute('data-session-id'))!;
    await row.click();
    await page.waitForURL(`**/#/s/${sessionId}`);
    await page.locator('.wrow[data-name="execute_tool Bash"]').first().waitFor({ timeout: 30_000 });

    // Kill the ui (SIGKILL: no goodbye on the SSE connection) while entries flow; entries land
    // in Redis while it is down; a new process on the same port serves the page's reconnect.
    const before = await feedLog(page);
    expect(before.entryIds.length).toBeGreaterThan(0);
    await ui.stop('SIGKILL');
    await page.getByTestId('connection').getByText('reconnecting').waitFor();
    const seenAtKill = before.entryIds[before.entryIds.length - 1]!;
    await waitFor(async () => (await spanEntriesAfter(seenAtKill)).length > 0, 45_000, 'entries written while the ui is down');
    ui = await startTeamUi(port);
    await page.waitForFunction(() => (window as unknown as { __uiFeed: FeedLog }).__uiFeed.hellos.some((h) => h.resumed), undefined, { timeout: 15_000 });

    const result = await run;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.json?.session_id).toBe(sessionId);
    await bridge.stopAgent(); // flushes every span to the sink

    // PostgreSQL and Redis agree on the session's spans; the page got every entry after its start
    // position exactly once, in stream order, across the kill.
    const pgRows = async () => (await db.pool.query<{ span_id: string; name: string }>('SELECT span_id, name FROM spans WHERE session_id = $1', [sessionId])).rows;
    await waitFor(async () => (await pgRows()).some((r) => r.name === 'invoke_agent claude-code'), 30_000, 'the root span in PostgreSQL');
    const rows = await pgRows();
    const { since } = await feedLog(page);
    const written = await spanEntriesAfter(since);
    expect(new Set(written.map((e) => e.key)).size).toBe(written.length); // the sink wrote each span once
    expect(written.length).toBeGreaterThan(before.entryIds.length);
    await page.waitForFunction((n) => (window as unknown as { __uiFeed: FeedLog }).__uiFeed.entryIds.length >= n, written.length, { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1_000)); // nothing more may arrive
    const after = await feedLog(page);
    expect(after.entryIds).toEqual(written.map((e) => e.id));
    expect(after.spanEvents).toEqual(written.map((e) => e.key));
    expect(after.hellos.filter((h) => h.resumed)).toHaveLength(1);
    expect(after.hellos.some((h) => h.lost)).toBe(false);

    // The waterfall: exactly the session's rows in PostgreSQL, the tree as the hooks made it.
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=waterfall] .wrow').length === n, rows.length, { timeout: 20_000 });
    const drawn = await page.$$eval('[data-testid=waterfall] .wrow', (els) => els.map((e) => ({ name: e.getAttribute('data-name')!, depth: Number(e.getAttribute('data-depth')), mark: e.getAttribute('data-mark')!, lane: Number(e.getAttribute('data-lane')) })));
    expect(drawn.map((r) => r.name).sort()).toEqual(rows.map((r) => r.name).sort());
    const hookRows = drawn.filter((r) => !r.name.startsWith('chat '));
    expect(hookRows.map((r) => [r.depth, r.name, r.mark, r.lane])).toEqual([
      [0, 'invoke_agent claude-code', 'ok', 0],
      [1, 'claude_code.turn', 'ok', 0],
      [2, 'execute_tool Bash', 'ok', 0],
      [2, 'execute_tool Bash', 'error', 0],
      [2, 'execute_tool Agent', 'ok', 0],
      [3, 'invoke_agent general-purpose', 'ok', 1],
      [4, 'execute_tool Bash', 'ok', 1],
      [2, 'execute_tool Bash', 'ok', 0],
    ]);

    // History alone (PostgreSQL through the read-only role): the same spans, the row's counts.
    const detail = await page.evaluate(async (id) => (await fetch(`/api/sessions/${id}`)).json(), sessionId) as { session: Record<string, unknown>; spans: Array<{ spanId: string }> };
    expect(detail.spans.map((s) => s.spanId).sort()).toEqual(rows.map((r) => r.span_id).sort());
    expect(detail.session).toMatchObject({ sessionId, turns: 1, tools: 5, errors: 1, open: false, running: false });
    const list = await page.evaluate(async () => (await fetch('/api/sessions?q=nothing-like-this')).json()) as { sessions: unknown[] };
    expect(list.sessions).toEqual([]);

    // Screenshots for docs/ui.md: the waterfall with a span's details, and the sessions page.
    await page.locator('.wrow[data-mark=error]').click();
    await page.keyboard.press('Enter');
    await page.getByTestId('details').waitFor();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(SHOTS, 'team-session-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'team-session-dark.png') });
    await page.goto(`${ui.base}#/`);
    await page.locator('[data-testid=sessions] a').first().waitFor();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: join(SHOTS, 'team-sessions-light.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'team-sessions-dark.png') });
    console.log(`screenshots in ${SHOTS}`);
    await context.close();
  }, 240_000);

  it('a wrong or missing login token gets no data, neither history nor feed', async () => {
    expect(sessionId, 'runs after the live test').not.toBe('');
    const ui = await startTeamUi(await freePort());
    const host = `127.0.0.1:${ui.port}`;
    const token = new URL(ui.loginUrl).searchParams.get('token')!;
    const wrong = token.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    for (const path of ['/', '/api/sessions', `/api/sessions/${sessionId}`, '/api/live', `/api/live?since=0-0`, '/api/config']) {
      for (const query of ['', `${path.includes('?') ? '&' : '?'}token=${wrong}`]) {
        const res = await rawGet(ui.port, path + query, { host, 'last-event-id': '0-0' });
        expect(res.status, path + query).toBe(401);
        expect(res.body).not.toContain(sessionId);
      }
    }
    // The right token, then its cookie: the same routes answer with the session.
    const login = await rawGet(ui.port, `/?token=${token}`, { host });
    expect(login.status).toBe(303);
    const cookie = (await fetch(`${ui.base}?token=${token}`, { redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;
    const ok = await rawGet(ui.port, '/api/sessions', { host, cookie });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain(sessionId);

    const stranger = await browser.newContext();
    const p = await stranger.newPage();
    expect((await p.goto(ui.base))?.status()).toBe(401);
    expect(await p.textContent('body')).not.toContain(sessionId);
    expect((await p.goto(`${ui.base}?token=${wrong}`))?.status()).toBe(401);
    await stranger.close();
  });
});
