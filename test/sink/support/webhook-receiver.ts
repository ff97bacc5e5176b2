import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify } from '../../../src/sink/webhooks/sign.js';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signatureValid: boolean;
  body: Record<string, unknown>;
  status: number;
  headers: IncomingHttpHeaders;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides the status of the next request (default 200). */
  respond: (n: number, headers: IncomingHttpHeaders) => { status: number; headers?: Record<string, string> };
  waitFor(predicate: (all: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  close(): Promise<void>;
}

/** A receiver that verifies Standard Webhooks signatures with `secret`. */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const receiver: WebhookReceiver = {
    url: '',
    received,
    respond: () => ({ status: 200 }),
    async waitFor(predicate, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > until) throw new Error(`webhook receiver: condition not met; got ${JSON.stringify(received.map((r) => [r.id, r.status, r.body.type]))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const h = (k: string) => (req.headers[k] as string | undefined);
      const { status, headers } = receiver.respond(received.length, req.headers);
      received.push({
        id: h('webhook-id') ?? '',
        timestamp: h('webhook-timestamp') ?? '',
        signatureValid: verify(secret, { id: h('webhook-id'), timestamp: h('webhook-timestamp'), signature: h('webhook-signature') }, text),
        body: JSON.parse(text) as Record<string, unknown>,
        status,
        headers: req.headers,
      });
      res.writeHead(status, headers);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
