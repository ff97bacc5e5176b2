/**
 * The web view's access rules, kept pure so they can be tested without a server: a login token
 * (printed with the URL, as notebook servers do) is exchanged once for an HttpOnly SameSite=Strict
 * cookie; every request must carry that cookie and a Host header naming our loopback port (a page on
 * another site that rebinds its DNS name to 127.0.0.1 sends its own Host, and is refused).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../shared/home.js';

export const COOKIE_NAME = 'claude_otel_ui';

/** The login secret, kept 0600 next to the agent's files so that a restarted ui keeps its cookies valid. */
export function ensureUiSecret(file: string): string {
  try {
    const secret = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(secret)) return secret;
  } catch {
    /* created below */
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  writeFileAtomic(file, `${secret}\n`); // a fresh 0600 file: never through a link planted at the name
  return secret;
}

/** The cookie value: derived from the secret, so the cookie jar never holds the login token itself. */
export function cookieValueFor(secret: string): string {
  return createHmac('sha256', secret).update('claude-otel-ui/cookie/v1').digest('hex');
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Only loopback names with our own port: 127.0.0.1, localhost, [::1]. */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return allowed.includes(host.toLowerCase());
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setCookieHeader(value: string): string {
  return `${COOKIE_NAME}=${value}; HttpOnly; SameSite=Strict; Path=/`;
}

export type AccessDecision =
  | { kind: 'bad_host' }
  | { kind: 'login'; location: string; cookie: string }
  | { kind: 'refused' }
  | { kind: 'allowed' };

/** Pure: what to do with one request. `url` is the request target (path and query). */
export function decideAccess(req: { url: string; host: string | undefined; cookie: string | undefined }, secret: string, port: number): AccessDecision {
  if (!hostAllowed(req.host, port)) return { kind: 'bad_host' };
  const url = new URL(req.url, 'http://loopback');
  const token = url.searchParams.get('token');
  const expectedCookie = cookieValueFor(secret);
  if (token !== null) {
    if (!sameSecret(token, secret)) return { kind: 'refused' };
    url.searchParams.delete('token');
    const query = url.searchParams.toString();
    return { kind: 'login', location: url.pathname + (query ? `?${query}` : '') + url.hash, cookie: setCookieHeader(expectedCookie) };
  }
  return sameSecret(readCookie(req.cookie, COOKIE_NAME), expectedCookie) ? { kind: 'allowed' } : { kind: 'refused' };
}
