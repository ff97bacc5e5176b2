/**
 * The agent's HTTP face, loopback only. POST /v1/hooks takes one hook event (Claude Code's http
 * hooks, or `claude-otel hook`); the answer is always `{}` with 200 so that nothing we say can
 * change what Claude Code does. GET /v1/status (token), GET /metrics (Prometheus; without the token
 * the resource attributes are left out), GET /healthz (`ok`; pid and version only with the token),
 * GET /v1/identity?nonce=N (a proof that we hold the token, see identity.ts).
 * Every route first checks `Host` (DNS rebinding: only 127.0.0.1, localhost and [::1], with our
 * port), and refused requests are counted apart from rejected events (onUnauthorized), so nobody
 * can fire the events-rejected alert without the token (reliability review, finding 10).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { IDENTITY_PATH, identityProof, validNonce } from './identity.js';

export interface ServerHandlers {
  token: string;
  maxBodyBytes: number;
  /** Extra loopback name or address we listen on (config agent.host), accepted in Host. */
  host?: string;
  /** Takes one event; the answer waits for the returned promise (the journal write). */
  onHook(body: string, meta: { pid?: number | undefined; via: 'http' | 'command'; traceparent?: string | undefined }): Promise<void> | void;
  onRejected(reason: string): void;
  /** A request refused before reading it: wrong/missing token or a foreign Host header. */
  onUnauthorized?(reason: 'token' | 'host', route: string): void;
  status(): unknown;
  health(): unknown;
  metrics(req: IncomingMessage, res: ServerResponse): void;
}

const EMPTY = '{}';
const ROUTES = new Set(['/v1/hooks', '/healthz', '/metrics', '/v1/status', IDENTITY_PATH]);

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7).trim() : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Host names a loopback client of ours sends; anything else came through a name we do not own. */
export function allowedHost(hostHeader: string | undefined, port: number, extra?: string): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  if (!m) return false;
  if (m[2] !== undefined && Number(m[2]) !== port) return false;
  const name = m[1]!.toLowerCase();
  const extraName = extra && (extra.includes(':') && !extra.startsWith('[') ? `[${extra}]` : extra).toLowerCase();
  return name === '127.0.0.1' || name === 'localhost' || name === '[::1]' || name === extraName;
}

function reply(res: ServerResponse, status: number, body: string, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The headers of the answer to a hook event, built once (writeHead reads them, it does not keep them). */
const EMPTY_HEADERS = Object.freeze({ 'content-type': 'application/json', 'content-length': Buffer.byteLength(EMPTY) });

/** The answer to a hook event: `{}`. */
function replyEmpty(res: ServerResponse, status: number) {
  res.writeHead(status, EMPTY_HEADERS);
  res.end(EMPTY);
}

/** Lets the Prometheus handler write, minus target_info (the resource attributes). */
function withoutTargetInfo(res: ServerResponse): ServerResponse {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') chunk = chunk.split('\n').filter((l) => !/^(# (HELP|TYPE) )?target_info\b/.test(l)).join('\n');
    return end(chunk, ...rest);
  }) as ServerResponse['end'];
  return res;
}

export function createAgentServer(handlers: ServerHandlers): Server {
  const refuse = (res: ServerResponse, req: IncomingMessage, reason: 'token' | 'host', route: string, status: number, body: string) => {
    handlers.onUnauthorized?.(reason, route);
    req.resume();
    reply(res, status, body);
  };
  let boundPort: number | undefined;
  let lastAllowedHost: string | undefined; // every request of a client carries the same Host: checked once per value
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const route = ROUTES.has(path) ? path : 'other';
    const port = (boundPort ??= (server.address() as AddressInfo | null)?.port); // once: address() costs a syscall
    const host = req.headers.host;
    if (host !== lastAllowedHost || host === undefined) {
      if (!allowedHost(host, port ?? 0, handlers.host)) return refuse(res, req, 'host', route, 403, '{"error":"host not allowed"}');
      lastAllowedHost = host;
    }
    const withToken = authorized(req, handlers.token);
    if (req.method === 'POST' && path === '/v1/hooks') {
      if (!withToken) return refuse(res, req, 'token', route, 401, EMPTY);
      return hook(req, res);
    }
    if (req.method === 'GET' && path === '/healthz') {
      return withToken ? reply(res, 200, JSON.stringify(handlers.health())) : reply(res, 200, 'ok', 'text/plain');
    }
    if (req.method === 'GET' && path === IDENTITY_PATH) {
      const nonce = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '').get('nonce') ?? '';
      if (!validNonce(nonce)) return reply(res, 400, '{"error":"nonce: 32 to 128 hex digits"}');
      return reply(res, 200, JSON.stringify({ proof: identityProof(handlers.token, nonce, port ?? 0) }));
    }
    if (req.method === 'GET' && path === '/metrics') return handlers.metrics(req, withToken ? res : withoutTargetInfo(res));
    if (req.method === 'GET' && path === '/v1/status') {
      if (!withToken) return refuse(res, req, 'token', route, 401, '{"error":"token required"}');
      return reply(res, 200, JSON.stringify(handlers.status()));
    }
    req.resume();
    reply(res, 404, '{"error":"not found"}');
  });

  function hook(req: IncomingMessage, res: ServerResponse) {
    // A hook event is one chunk almost always: it is decoded as it is, without a copy.
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
        return replyEmpty(res, 200);
      }
      const pid = Number(req.headers['x-claude-pid']) || undefined;
      const via = req.headers['x-claude-otel-via'] === 'command' ? 'command' : 'http';
      const tp = req.headers.traceparent; // the command hook's TRACEPARENT (validated at normalize)
      const traceparent = typeof tp === 'string' ? tp : undefined;
      let journaled: Promise<void> | void = undefined;
      try {
        const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
        journaled = handlers.onHook(body, { pid, via, traceparent });
      } catch {
        handlers.onRejected('internal');
      }
      if (!journaled) return replyEmpty(res, 200);
      // Not on disk (disk full): 503, so that a sender that can retry does (counted by the agent).
      journaled.then(() => replyEmpty(res, 200), () => replyEmpty(res, 503));
    });
    req.on('error', () => handlers.onRejected('aborted'));
  }

  server.keepAliveTimeout = 65_000;
  return server;
}
