import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Batch, Logger } from './destination.js';
import { HttpError, readBody } from './http-body.js';
import type { IngestResult } from './ingest.js';
import type { SinkMetrics } from './metrics.js';
import { parseLogsRequest, parseTraceRequest } from './otlp-schema.js';
import { type Normalized, normalizeLogs, normalizeTraces } from './records.js';

export interface SinkServerOptions {
  ingest: (batch: Batch) => Promise<IngestResult>;
  metrics: SinkMetrics;
  log: Logger;
  maxBodyBytes: number;
  maxInFlight: number;
  health: () => Record<string, unknown>;
  now?: () => Date;
}

export interface SinkServer {
  readonly server: Server;
  /** Stop accepting: new requests get 503 while in-flight ones finish. */
  drain(): Promise<void>;
}

// google.rpc.Code values used in OTLP error bodies.
const RPC = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const rpcError = (res: ServerResponse, status: number, code: number, message: string, headers?: Record<string, string>) =>
  send(res, status, { code, message }, headers);

export function createSinkServer(o: SinkServerOptions): SinkServer {
  let inFlight = 0;
  let draining = false;
  let idle: (() => void) | undefined;

  async function otlp(req: IncomingMessage, res: ServerResponse, signal: 'traces' | 'logs'): Promise<void> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/x-protobuf' || type === 'application/protobuf') {
      req.resume();
      o.metrics.rejected('protobuf_unsupported', 1);
      return rpcError(res, 415, RPC.INVALID_ARGUMENT, 'only OTLP/HTTP JSON is accepted (set encoding: json on the otlphttp exporter)');
    }
    if (type !== 'application/json') {
      req.resume();
      return rpcError(res, 415, RPC.INVALID_ARGUMENT, `unsupported content-type "${type}"`);
    }
    const raw = await readBody(req, o.maxBodyBytes);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      o.metrics.rejected('malformed_json', 1);
      return rpcError(res, 400, RPC.INVALID_ARGUMENT, `malformed JSON: ${(err as Error).message}`);
    }
    let normalized: Normalized<unknown>;
    const batch: Batch = { spans: [], logs: [] };
    if (signal === 'traces') {
      const parsed = parseTraceRequest(json);
      if (!parsed.ok) return invalid(res, parsed.error);
      const n = normalizeTraces(parsed.value);
      batch.spans = n.records;
      normalized = n;
    } else {
      const parsed = parseLogsRequest(json);
      if (!parsed.ok) return invalid(res, parsed.error);
      const n = normalizeLogs(parsed.value, o.now);
      batch.logs = n.records;
      normalized = n;
    }
    o.metrics.received(signal, normalized.records.length + normalized.rejected);
    if (normalized.rejected) o.metrics.rejected('invalid_record', normalized.rejected);
    if (normalized.records.length === 0 && normalized.rejected > 0) {
      return rpcError(res, 400, RPC.INVALID_ARGUMENT, `all records rejected: ${normalized.errors.join('; ')}`);
    }
    if (normalized.records.length > 0) {
      const result = await o.ingest(batch);
      if (!result.ok) {
        if (result.failure.kind === 'permanent') {
          return rpcError(res, 400, RPC.INVALID_ARGUMENT, `${result.destination}: ${result.failure.reason}`);
        }
        const after = String(Math.max(1, Math.ceil((result.failure.retryAfterMs ?? 1000) / 1000)));
        return rpcError(res, 503, RPC.UNAVAILABLE, `${result.destination} unavailable: ${result.failure.reason}`, { 'retry-after': after });
      }
    }
    if (normalized.rejected > 0) {
      const key = signal === 'traces' ? 'rejectedSpans' : 'rejectedLogRecords';
      return send(res, 200, { partialSuccess: { [key]: String(normalized.rejected), errorMessage: normalized.errors.join('; ') } });
    }
    send(res, 200, {});
  }

  function invalid(res: ServerResponse, error: string): void {
    o.metrics.rejected('invalid_otlp', 1);
    rpcError(res, 400, RPC.INVALID_ARGUMENT, `invalid OTLP body: ${error}`);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      return send(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok', ...o.health() });
    }
    if (req.method === 'GET' && path === '/metrics') return o.metrics.handle(req, res);
    if (path === '/v1/traces' || path === '/v1/logs') {
      if (req.method !== 'POST') return rpcError(res, 405, RPC.INVALID_ARGUMENT, 'use POST', { allow: 'POST' });
      if (draining) {
        req.resume();
        return rpcError(res, 503, RPC.UNAVAILABLE, 'sink is shutting down', { 'retry-after': '1' });
      }
      if (inFlight >= o.maxInFlight) {
        req.resume();
        o.metrics.retried('server');
        return rpcError(res, 429, RPC.RESOURCE_EXHAUSTED, 'too many concurrent requests', { 'retry-after': '1' });
      }
      inFlight++;
      try {
        return await otlp(req, res, path === '/v1/traces' ? 'traces' : 'logs');
      } finally {
        inFlight--;
        if (inFlight === 0) idle?.();
      }
    }
    send(res, 404, { code: 5, message: `no route for ${req.method} ${path}` });
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) return rpcError(res, err.status, RPC.INVALID_ARGUMENT, err.message);
      // Unexpected: answer retryable, never 500, and log it.
      o.log.error('unexpected error handling request', { error: (err as Error).stack ?? String(err) });
      rpcError(res, 503, RPC.UNAVAILABLE, 'internal error; retry', { 'retry-after': '1' });
    });
  });

  return {
    server,
    drain() {
      draining = true;
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
  };
}
