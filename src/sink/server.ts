/**
 * The sink's HTTP receiver: OTLP/HTTP JSON on /v1/traces and /v1/logs (bearer token), /healthz
 * (open, says only ok/draining) and /metrics (open on a loopback listener, else token). It maps
 * every outcome to the OTLP answer the sender acts on: 200 / partialSuccess (some records
 * dropped, never retried), 400 (permanent), 401, 413, 415, 429 and 503 + Retry-After (retry).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { RequestAuth } from './auth.js';
import type { Batch, Logger } from './destination.js';
import { HttpError, drain, readBody } from './http-body.js';
import type { IngestResult } from './ingest.js';
import type { SinkMetrics } from './metrics.js';
import { type ValidateOptions, type Validated, jsonDepthExceeded, rejectedCount, validateLogs, validateTraces } from './validate.js';

export interface SinkServerOptions {
  ingest: (batch: Batch) => Promise<IngestResult>;
  metrics: SinkMetrics;
  log: Logger;
  auth: RequestAuth;
  /** /metrics without the token (the listener is loopback-only). */
  metricsOpen: boolean;
  maxBodyBytes: number;
  maxInFlight: number;
  validate: ValidateOptions;
}

export interface SinkServer {
  readonly server: Server;
  /** Stop accepting: new requests get 503 while in-flight ones finish. */
  drain(): Promise<void>;
}

// google.rpc.Code values used in OTLP error bodies.
const RPC = { INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

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

  const refuse = (req: IncomingMessage, res: ServerResponse, reason: string, status: number, code: number, message: string, headers?: Record<string, string>) => {
    drain(req, o.maxBodyBytes);
    o.metrics.requestRejected(reason);
    rpcError(res, status, code, message, headers);
  };

  async function otlp(req: IncomingMessage, res: ServerResponse, signal: 'traces' | 'logs'): Promise<void> {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/x-protobuf' || type === 'application/protobuf') {
      return refuse(req, res, 'protobuf_unsupported', 415, RPC.INVALID_ARGUMENT, 'only OTLP/HTTP JSON is accepted (set encoding: json on the otlphttp exporter)');
    }
    if (type !== 'application/json') {
      return refuse(req, res, 'unsupported_content_type', 415, RPC.INVALID_ARGUMENT, `unsupported content-type "${type}"`);
    }
    const raw = await readBody(req, o.maxBodyBytes);
    // Before JSON.parse and zod: deep nesting is a permanent 400, never a stack overflow (503).
    const at = jsonDepthExceeded(raw, o.validate.limits.maxJsonDepth);
    if (at >= 0) {
      o.metrics.requestRejected('too_deep');
      return rpcError(res, 400, RPC.INVALID_ARGUMENT, `JSON nested deeper than ${o.validate.limits.maxJsonDepth} levels (at byte ${at})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      o.metrics.requestRejected('malformed_json');
      return rpcError(res, 400, RPC.INVALID_ARGUMENT, `malformed JSON: ${(err as Error).message.slice(0, 200)}`);
    }
    const batch: Batch = { spans: [], logs: [], authenticated: o.auth.required };
    let v: Validated<unknown>;
    if (signal === 'traces') {
      const parsed = validateTraces(json, o.validate);
      if (!parsed.ok) return invalid(res, parsed.error);
      batch.spans = parsed.value.records;
      v = parsed.value;
    } else {
      const parsed = validateLogs(json, o.validate);
      if (!parsed.ok) return invalid(res, parsed.error);
      batch.logs = parsed.value.records;
      v = parsed.value;
    }
    const rejected = rejectedCount(v);
    o.metrics.received(signal, v.records.length + rejected);
    for (const [reason, n] of v.rejected) o.metrics.recordsRejected(signal, reason, n);
    if (v.records.length === 0 && rejected > 0) {
      return rpcError(res, 400, RPC.INVALID_ARGUMENT, `all ${rejected} records rejected: ${v.errors.join('; ')}`);
    }
    if (v.records.length > 0) {
      const result = await o.ingest(batch);
      if (!result.ok) {
        if (result.failure.kind === 'permanent') {
          return rpcError(res, 400, RPC.INVALID_ARGUMENT, `${result.destination}: ${result.failure.reason}`);
        }
        const after = String(Math.max(1, Math.ceil((result.failure.retryAfterMs ?? 1000) / 1000)));
        return rpcError(res, 503, RPC.UNAVAILABLE, `${result.destination} unavailable: ${result.failure.reason}`, { 'retry-after': after });
      }
    }
    if (rejected > 0) {
      const key = signal === 'traces' ? 'rejectedSpans' : 'rejectedLogRecords';
      return send(res, 200, { partialSuccess: { [key]: String(rejected), errorMessage: v.errors.join('; ') } });
    }
    send(res, 200, {});
  }

  function invalid(res: ServerResponse, error: string): void {
    o.metrics.requestRejected('invalid_otlp');
    rpcError(res, 400, RPC.INVALID_ARGUMENT, `invalid OTLP body: ${error}`);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (!o.auth.hostAllowed(req)) {
      return refuse(req, res, 'forbidden_host', 403, RPC.PERMISSION_DENIED, 'Host must be an IP address or localhost on a loopback listener');
    }
    if (req.method === 'GET' && path === '/healthz') {
      return send(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
    }
    if (req.method === 'GET' && path === '/metrics') {
      if (!o.metricsOpen && !o.auth.authorized(req)) {
        return refuse(req, res, 'unauthorized', 401, RPC.UNAUTHENTICATED, 'bearer token required', { 'www-authenticate': 'Bearer' });
      }
      return o.metrics.handle(req, res);
    }
    if (path === '/v1/traces' || path === '/v1/logs') {
      if (req.method !== 'POST') return refuse(req, res, 'method', 405, RPC.INVALID_ARGUMENT, 'use POST', { allow: 'POST' });
      // Before anything reads the body: an unauthenticated request costs no parsing and writes nothing.
      if (!o.auth.authorized(req)) {
        return refuse(req, res, 'unauthorized', 401, RPC.UNAUTHENTICATED, 'bearer token required', { 'www-authenticate': 'Bearer' });
      }
      if (draining) {
        drain(req, o.maxBodyBytes);
        return rpcError(res, 503, RPC.UNAVAILABLE, 'sink is shutting down', { 'retry-after': '1' });
      }
      if (inFlight >= o.maxInFlight) {
        drain(req, o.maxBodyBytes);
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
    refuse(req, res, 'no_route', 404, 5, `no route for ${req.method} ${path}`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) {
        o.metrics.requestRejected(err.status === 413 ? 'too_large' : `http_${err.status}`);
        return rpcError(res, err.status, RPC.INVALID_ARGUMENT, err.message);
      }
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
