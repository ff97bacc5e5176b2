/**
 * The web view's HTTP server (`claude-otel ui`): loopback only, every route behind the login cookie
 * and the Host check (src/ui/auth.ts), no CORS. Serves the bundled page (dist/ui) and a small JSON
 * API over a UiSource (src/ui/source.ts: the local store and agent, or the team's PostgreSQL and
 * Redis); /api/live is Server-Sent Events whose ids are the source's feed positions, so a page that
 * reconnects (Last-Event-ID) resumes where it left off.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decideAccess } from './auth.js';
import type { UiSource } from './source.js';

export type { SessionRow } from './source.js';
export { matchesQuery, sessionRows } from './local-source.js';

export interface UiServerOptions {
  source: UiSource;
  /** Directory holding index.html, app.js and app.css (the esbuild output). */
  assetsDir: string;
  secret: string;
  host?: string;
  /** 0 = a free port. */
  port?: number;
  jaegerUrl?: string;
}

export interface UiServer {
  url: string;
  port: number;
  loginUrl: string;
  close(): Promise<void>;
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

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const { source } = options;
  const streams = new Set<ServerResponse>();
  let port = 0;

  async function session(id: string, res: ServerResponse) {
    const detail = await source.getSession(id);
    if (!detail) return send(res, 404, JSON.stringify({ error: 'no such session' }));
    json(res, detail);
  }

  async function liveFeed(req: IncomingMessage, url: URL, res: ServerResponse) {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    streams.add(res);
    let closed = false;
    res.write('retry: 500\n\n');
    const lastEventId = req.headers['last-event-id'];
    let feed;
    try {
      feed = await source.openFeed(
        { lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined, since: url.searchParams.get('since') ?? undefined },
        (id, event, data) => {
          if (!closed) res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        },
      );
    } catch {
      // The source is down (e.g. Redis): end the stream; the browser retries after `retry`.
      streams.delete(res);
      return void res.end();
    }
    const keepAlive = setInterval(() => !closed && res.write(': keep-alive\n\n'), 15_000);
    const stop = () => {
      closed = true;
      clearInterval(keepAlive);
      feed.stop();
      streams.delete(res);
    };
    if (res.destroyed) stop();
    else res.on('close', stop);
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
    if (route === '/api/config') return json(res, { jaegerUrl: options.jaegerUrl ?? null, source: source.name });
    if (route === '/api/sessions') return void done(source.listSessions(url.searchParams.get('q') ?? '').then((list) => json(res, list)));
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
        server.close(() => void source.close().then(resolve, resolve));
        server.closeAllConnections();
      }),
  };
}
