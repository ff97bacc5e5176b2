/**
 * Telling our agent from a stranger on its port. The agent proves it holds the install token
 * without revealing it: GET /v1/identity?nonce=N answers HMAC-SHA256(token, "claude-otel-identity:
 * v1:<port>:<N>"), port = the port the agent listens on, so a proof relayed from an agent on another
 * port does not verify. The command hook and doctor ask for the proof with a fresh random nonce and
 * send the token or a payload only when it verifies (reliability review, finding 2). The route needs
 * no token, so a squatter learns nothing but that we asked. Node built-ins only (hook hot path).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { request } from 'node:http';

export const IDENTITY_PATH = '/v1/identity';
const NONCE = /^[0-9a-f]{32,128}$/;

export const validNonce = (nonce: string): boolean => NONCE.test(nonce);

export function identityProof(token: string, nonce: string, port: number): string {
  return createHmac('sha256', token).update(`claude-otel-identity:v1:${port}:${nonce}`).digest('hex');
}

/** 127.0.0.0/8, localhost and [::1] only: agent.json naming anything else is not followed. */
export function loopbackUrl(text: string | undefined): URL | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    const host = url.hostname;
    const loopback = host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
    return url.protocol === 'http:' && loopback && url.port !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** `ours`: whoever answers at `url` proves it holds `token`; `stranger`: something answers without a valid proof; `unreachable`: nothing answers in time. */
export function probeAgentIdentity(url: URL, token: string, timeoutMs = 1000): Promise<'ours' | 'stranger' | 'unreachable'> {
  const nonce = randomBytes(16).toString('hex');
  const expected = Buffer.from(identityProof(token, nonce, Number(url.port)));
  return new Promise((resolve) => {
    const req = request(new URL(`${IDENTITY_PATH}?nonce=${nonce}`, url), { method: 'GET', timeout: timeoutMs, agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 4096) req.destroy();
        else chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve('stranger');
        try {
          const proof = Buffer.from(String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { proof?: unknown }).proof ?? ''));
          resolve(proof.length === expected.length && timingSafeEqual(proof, expected) ? 'ours' : 'stranger');
        } catch {
          resolve('stranger');
        }
      });
      res.on('error', () => resolve('stranger'));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve('unreachable')); // refused, reset, timed out (a response already settled it)
    req.end();
  });
}

/** True only when the agent at `url` proved it holds `token`; false on any doubt. */
export async function verifyAgentIdentity(url: URL, token: string, timeoutMs = 1000): Promise<boolean> {
  return (await probeAgentIdentity(url, token, timeoutMs)) === 'ours';
}
