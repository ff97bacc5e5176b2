/**
 * Who may talk to the sink. The OTLP routes need `Authorization: Bearer <token>` (compared in
 * constant time) whenever a token is configured; the config refuses a non-loopback listener or
 * webhooks without one. A loopback listener also refuses requests whose Host is a DNS name other
 * than localhost: a web page that rebinds its name to 127.0.0.1 cannot read or write through it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface RequestAuth {
  /** True when a token is configured (every accepted OTLP request is then authenticated). */
  readonly required: boolean;
  /** The request carries the configured bearer token (always true when none is configured). */
  authorized(req: IncomingMessage): boolean;
  /** The Host header is acceptable for this listener. */
  hostAllowed(req: IncomingMessage): boolean;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function createRequestAuth(options: { token: string | undefined; loopback: boolean }): RequestAuth {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return {
    required: expected !== undefined,
    authorized(req) {
      if (!expected) return true;
      const header = req.headers.authorization;
      if (typeof header !== 'string') return false;
      const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
      // Digests have equal lengths, so timingSafeEqual neither throws nor leaks the token's length.
      return m !== null && timingSafeEqual(digest(m[1]!), expected);
    },
    hostAllowed(req) {
      if (!options.loopback) return true;
      const host = req.headers.host;
      if (host === undefined) return true; // HTTP/1.0 without Host: not a browser
      const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d*$/, '');
      const lower = name.toLowerCase();
      return isIP(lower) !== 0 || lower === 'localhost' || lower.endsWith('.localhost');
    },
  };
}
