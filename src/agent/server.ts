/**
 * The agent's HTTP face, loopback only. POST /v1/hooks takes one hook event (Claude Code's http
 * hooks, or `claude-otel hook`); the answer is always `{}` with 200 so that nothing we say can
 * change what Claude Code does. GET /healthz, GET /metrics (Prometheus), GET /v1/status (token).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

export interface ServerHandlers {
  token: string;
  maxBodyBytes: number;
  /** Takes one event; the answer waits for the returned promise (the journal write). */
  onHook(body: string, meta: { pid?: number | undefined; via: 'http' | 'command' }): Promise<void> | void;
  onRejected(reason: string): void;
  status(): unknown;
  health(): unknown;
  metrics(req: IncomingMessage, res: ServerResponse): void;
}

const EMPTY = '{}';

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function reply(res: ServerResponse, status: number, body: string, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createAgentServer(handlers: ServerHandlers): Server {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url.startsWith('/v1/hooks')) return hook(req, res);
    if (req.method === 'GET' && url === '/healthz') return reply(res, 200, JSON.stringify(handlers.health()));
    if (req.method === 'GET' && url === '/metrics') return handlers.metrics(req, res);
    if (req.method === 'GET' && url === '/v1/status') {
      if (!authorized(req, handlers.token)) return reply(res, 401, '{"error":"token required"}');
      return reply(res, 200, JSON.stringify(handlers.status()));
    }
    reply(res, 404, '{"error":"not found"}');
  });

  function hook(req: IncomingMessage, res: ServerResponse) {
    if (!authorized(req, handlers.token)) {
      handlers.onRejected('unauthorized');
      req.resume();
      return reply(res, 401, EMPTY);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > handlers.maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        handlers.onRejected('too_large');
        return reply(res, 200, EMPTY);
      }
      const pid = Number(req.headers['x-claude-pid']) || undefined;
      const via = req.headers['x-claude-otel-via'] === 'command' ? 'command' : 'http';
      let journaled: Promise<void> | void = undefined;
      try {
        journaled = handlers.onHook(Buffer.concat(chunks).toString('utf8'), { pid, via });
      } catch {
        handlers.onRejected('internal');
      }
      if (!journaled) return reply(res, 200, EMPTY);
      // Not on disk (disk full): 503, so that a sender that can retry does (counted by the agent).
      journaled.then(() => reply(res, 200, EMPTY), () => reply(res, 503, EMPTY));
    });
    req.on('error', () => handlers.onRejected('aborted'));
  }

  server.keepAliveTimeout = 65_000;
  return server;
}
