/**
 * The server component: the agent's HTTP face (server.ts) wired to the pipeline, listening on the
 * configured loopback port. POST /v1/hooks drains the spool first (command-hook events that came
 * before keep their order), ingests, and answers once the event is on disk: 200, or 503 when the
 * journal could not keep it (counted as unacknowledged), so that a sender that can retry does.
 */
import type { AddressInfo } from 'node:net';
import type { Component } from './component.js';
import type { Ingestor } from './ingest.js';
import { JournalUnavailable, type Journal } from './journal.js';
import type { AgentMetrics } from './metrics.js';
import { listenOrExplain } from './port-owner.js';
import { createAgentServer, type ServerHandlers } from './server.js';
import type { AgentStatus } from './status.js';

export interface ListenerOptions {
  host: string;
  port: number;
  token: string;
  maxBodyBytes: number;
  version: string;
  ingest: Ingestor['ingest'];
  journal: Journal;
  metrics: AgentMetrics;
  /** Runs before each http event (the spool drain) and after it (the reaper's idle clock). */
  before(): void;
  after(): void;
  status(): AgentStatus;
  metricsHandler: ServerHandlers['metrics'];
  /** A request refused before it was read (wrong token, foreign Host): counted apart from events. */
  onUnauthorized?: ServerHandlers['onUnauthorized'];
}

export interface Listener extends Component {
  /** Once started. */
  address(): { port: number; url: string };
}

export function createListener(options: ListenerOptions): Listener {
  const { metrics, journal } = options;
  const server = createAgentServer({
    token: options.token,
    host: options.host,
    ...(options.onUnauthorized ? { onUnauthorized: options.onUnauthorized } : {}),
    maxBodyBytes: options.maxBodyBytes,
    onHook(body, meta) {
      options.before();
      const result = options.ingest(body, { timeMs: performance.timeOrigin + performance.now(), via: meta.via, pid: meta.pid, traceparent: meta.traceparent });
      options.after();
      const unacknowledged = (err: unknown): never => {
        metrics.unacknowledged.add(1, { transport: meta.via });
        throw err;
      };
      if (!result.ok && result.reason === 'unavailable') return Promise.reject(new JournalUnavailable('the journal cannot take events now')).catch(unacknowledged);
      return journal.flushSoon().catch(unacknowledged);
    },
    onRejected: (reason) => metrics.rejected.add(1, { reason }),
    health: () => ({ status: 'ok', pid: process.pid, version: options.version }),
    status: options.status,
    metrics: options.metricsHandler,
  });
  return {
    name: 'server',
    // A port in use throws PortHeld naming the holder's uid (another user's listener would get the
    // token and payloads from Claude Code's http hooks): the start fails loudly, doctor reports it.
    start: () => listenOrExplain(server, options.port, options.host),
    address() {
      const port = (server.address() as AddressInfo).port;
      return { port, url: `http://${options.host}:${port}` };
    },
    shutdown: () => new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeIdleConnections?.();
    }),
  };
}
