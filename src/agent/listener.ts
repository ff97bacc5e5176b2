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
import { AgentAlreadyRunning } from './process-files.js';
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
}

export interface Listener extends Component {
  /** Once started. */
  address(): { port: number; url: string };
}

export function createListener(options: ListenerOptions): Listener {
  const { metrics, journal } = options;
  const server = createAgentServer({
    token: options.token,
    maxBodyBytes: options.maxBodyBytes,
    onHook(body, meta) {
      options.before();
      const result = options.ingest(body, { timeMs: performance.timeOrigin + performance.now(), via: meta.via, pid: meta.pid });
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
    // Seam: the identity work checks here who holds the port when it is in use.
    start: () => new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new AgentAlreadyRunning(`port ${options.host}:${options.port} is in use`);
      throw err;
    }),
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
