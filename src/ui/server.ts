/**
 * The web view's HTTP server (`claude-otel ui`): loopback only, every route behind the login cookie
 * and the Host check (src/ui/auth.ts), no CORS. Serves the bundled page (dist/ui) and a small JSON
 * API over the local store and the agent's live state; /api/live is Server-Sent Events whose ids
 * are store cursors (src/ui/store-feed.ts), so a page that reconnects resumes where it left off.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { SessionSummary } from '../store/session-summary.js';
import type { LiveSource, LiveState } from './agent-live.js';
import { decideAccess } from './auth.js';
import { cursorNow, decodeCursor, encodeCursor, readChanges, readSnapshot, type StoreSnapshot } from './store-feed.js';

export interface UiServerOptions {
  storeDir: string;
  /** Directory holding index.html, app.js and app.css (the esbuild output). */
  assetsDir: string;
  secret: string;
  live: LiveSource;
  host?: string;
  /** 0 = a free port. */
  port?: number;
  jaegerUrl?: string;
  /** How often the live feed looks at the store and the agent (default 200 ms). */
  pollMs?: number;
}

export interface UiServer {
  url: string;
  port: number;
  loginUrl: string;
  close(): Promise<void>;
}

export interface SessionRow extends Partial<SessionSummary> {
  sessionId: string;
  /** The agent has it open right now. */
  running: boolean;
  openSpans: number;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, body: string, type = 'application/json') {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const json = (res: ServerResponse, body: unknown) => send(res, 200, JSON.stringify(body));

/** Pure: store rows and live sessions as one list, running sessions first, then newest start. */
export function sessionRows(snapshot: Pick<StoreSnapshot, 'sessions'>, live: LiveState): SessionRow[] {
  const running = new Map(live.sessions.map((s) => [s.sessionId, s]));
  const rows: SessionRow[] = snapshot.sessions.map((s) => ({ ...s, running: running.has(s.sessionId), openSpans: running.get(s.sessionId)?.spans.length ?? 0 }));
  for (const s of live.sessions) {
    if (rows.some((r) => r.sessionId === s.sessionId)) continue;
    const start = Math.min(...s.spans.map((x) => x.startMs), s.lastEventMs);
    rows.push({ sessionId: s.sessionId, traceId: s.traceId, start: new Date(start).toISOString(), running: true, openSpans: s.spans.length, turns: 0, tools: 0, errors: 0, spans: 0, open: true });
  }
  return rows.sort((a, b) => Number(b.running) - Number(a.running) || Date.parse(b.start ?? '') - Date.parse(a.start ?? '') || a.sessionId.localeCompare(b.sessionId));
}

/** Pure: does the session match a search (session id, prompt id or tool_use_id, substring)? */
export function matchesQuery(row: SessionRow, spans: readonly { attributes: Record<string, unknown> }[], query: string): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  if (row.sessionId.toLowerCase().includes(q) || (row.traceId ?? '').includes(q)) return true;
  return spans.some((s) =>
    ['claude_code.prompt.id', 'gen_ai.tool.call.id'].some((k) => {
      const v = s.attributes[k];
      return typeof v === 'string' && v.toLowerCase().includes(q);
    }),
  );
}

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const pollMs = options.pollMs ?? 200;
  const streams = new Set<ServerResponse>();
  let port = 0;

  async function sessions(url: URL, res: ServerResponse) {
    const [snapshot, live] = await Promise.all([readSnapshot(options.storeDir), options.live()]);
    const q = url.searchParams.get('q') ?? '';
    const spansOf = (row: SessionRow) => [...(snapshot.spans.get(row.fileKey ?? '') ?? []), ...(live.sessions.find((s) => s.sessionId === row.sessionId)?.spans ?? [])];
    const rows = sessionRows(snapshot, live).filter((r) => matchesQuery(r, spansOf(r), q));
    json(res, { sessions: rows, agent: live.agent, cursor: encodeCursor(snapshot.cursor) });
  }

  async function session(id: string, res: ServerResponse) {
    const [snapshot, live] = await Promise.all([readSnapshot(options.storeDir), options.live()]);
    const rows = sessionRows(snapshot, live);
    const row = rows.find((r) => r.sessionId === id) ?? (rows.filter((r) => r.sessionId.startsWith(id)).length === 1 ? rows.find((r) => r.sessionId.startsWith(id)) : undefined);
    if (!row) return send(res, 404, JSON.stringify({ error: 'no such session' }));
    json(res, {
      session: row,
      spans: snapshot.spans.get(row.fileKey ?? '') ?? [],
      live: live.sessions.find((s) => s.sessionId === row.sessionId) ?? null,
      cursor: encodeCursor(snapshot.cursor),
    });
  }

  async function liveFeed(req: IncomingMessage, url: URL, res: ServerResponse) {
    const resumeFrom = decodeCursor(req.headers['last-event-id'] as string | undefined) ?? decodeCursor(url.searchParams.get('since'));
    const cursor = resumeFrom ?? (await cursorNow(options.storeDir));
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    streams.add(res);
    let closed = false;
    const write = (event: string, data: unknown) => {
      if (!closed) res.write(`id: ${encodeCursor(cursor)}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    res.write('retry: 500\n\n');
    write('hello', { resumed: req.headers['last-event-id'] !== undefined, at: Date.now() });
    let lastLive = '';
    let busy = false;
    const tick = async () => {
      if (busy || closed) return;
      busy = true;
      try {
        for (const change of await readChanges(options.storeDir, cursor)) {
          write('spans', { fileKey: change.fileKey, sessionId: change.summary?.sessionId, summary: change.summary ?? null, spans: change.spans });
        }
        const live = await options.live();
        const text = JSON.stringify(live);
        if (text !== lastLive) {
          lastLive = text;
          write('live', { ...live, at: Date.now() });
        }
      } catch {
        /* the next tick tries again */
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), pollMs);
    const keepAlive = setInterval(() => !closed && res.write(': keep-alive\n\n'), 15_000);
    void tick();
    res.on('close', () => {
      closed = true;
      clearInterval(timer);
      clearInterval(keepAlive);
      streams.delete(res);
    });
  }

  async function asset(path: string, res: ServerResponse) {
    const a = ASSETS[path];
    if (!a) return send(res, 404, '{"error":"not found"}');
    try {
      send(res, 200, await readFile(join(options.assetsDir, a.file), 'utf8'), a.type);
    } catch {
      send(res, 500, 'the page is not built: run `npm run build`', 'text/plain; charset=utf-8');
    }
  }

  const server: Server = createServer((req, res) => {
    const decision = decideAccess({ url: req.url ?? '/', host: req.headers.host, cookie: req.headers.cookie }, options.secret, port);
    if (decision.kind === 'bad_host') return send(res, 421, '{"error":"wrong Host"}');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, '{"error":"read only"}');
    if (decision.kind === 'refused') {
      const api = (req.url ?? '').startsWith('/api/');
      return api
        ? send(res, 401, '{"error":"login required"}')
        : send(res, 401, 'Open the URL that `claude-otel ui` printed (it carries the login token).\n', 'text/plain; charset=utf-8');
    }
    if (decision.kind === 'login') {
      res.writeHead(303, { ...SECURITY_HEADERS, location: decision.location, 'set-cookie': decision.cookie });
      return res.end();
    }
    const url = new URL(req.url ?? '/', 'http://loopback');
    const route = url.pathname;
    const done = (p: Promise<void>) => p.catch((err: unknown) => !res.headersSent && send(res, 500, JSON.stringify({ error: String(err) })));
    if (route === '/api/config') return json(res, { jaegerUrl: options.jaegerUrl ?? null });
    if (route === '/api/sessions') return void done(sessions(url, res));
    if (route.startsWith('/api/sessions/')) return void done(session(decodeURIComponent(route.slice('/api/sessions/'.length)), res));
    if (route === '/api/live') return void done(liveFeed(req, url, res));
    return void done(asset(route, res));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: `${base}/`,
    port,
    loginUrl: `${base}/?token=${options.secret}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
