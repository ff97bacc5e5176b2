/**
 * Shared pieces of the pattern tables (patterns.ts, command-patterns.ts): the pattern type, the
 * marker, and the small helpers that keep a prefix and replace only the secret after it.
 */
import { isPlaceholder } from './secret-names.js';

export interface SecretPattern {
  /** The kind, shown as `[REDACTED:<kind>]`. */
  kind: string;
  regex: RegExp;
  /** A cheap regex (leading literal) that must match somewhere for this pattern to be run at all. */
  prefilter?: RegExp;
  /**
   * Builds the replacement from the match and its capture groups; returning the match itself keeps
   * it (a validator decided it is not a secret). Default: the whole match becomes the marker.
   */
  replace?: (match: string, groups: readonly (string | undefined)[], offset: number, input: string) => string;
}

/** A URL scheme (RFC 3986) that ends right before `://`, at a boundary. */
export const SCHEME_BEFORE = /(?:^|[^A-Za-z0-9+.-]|\\[nrt])[A-Za-z][A-Za-z0-9+.-]{1,20}$/;

export const redactionMarker = (kind: string): string => `[REDACTED:${kind}]`;

/** A run of token characters of at least `min` (base64url, as most providers use). */
export const T = '[A-Za-z0-9_-]';
/** Not preceded by a token character: the pattern starts at the start of a run. */
export const START = '(?<![A-Za-z0-9_-])'; // made escape-aware with the rest (see escapeAware)
/** Not followed by a token character. */
export const END = '(?![A-Za-z0-9_-])';
export const re = (source: string, flags = 'g') => new RegExp(source, flags);

/** A shell word: '…', "…" (also JSON-escaped \"…\") or a bare word. */
export const SHELL_WORD = `(?:'[^'\\r\\n]*'|\\\\{0,7}"[^"\\\\\\r\\n]*\\\\{0,7}"|[^\\s"'\\\\|;&]+)`;

/** Keeps the named groups and replaces the last one (the secret) with the marker. */
export const keepPrefix = (kind: string) => (m: string, g: readonly (string | undefined)[]) => {
  const secret = g.at(-1);
  if (secret === undefined || isPlaceholder(unquote(secret))) return m;
  return m.slice(0, m.length - secret.length) + redactionMarker(kind);
};

export function unquote(word: string): string {
  return word.replace(/^\\*["']|\\*["']$/g, '');
}

/** A token-ish credential (Bearer values): random-looking, not a word. */
export function looksLikeToken(v: string): boolean {
  const digit = /[0-9]/.test(v);
  const letter = /[A-Za-z]/.test(v);
  return v.length >= 8 && ((digit && letter) || (v.length >= 16 && /[A-Z]/.test(v) && /[a-z]/.test(v)));
}

export function decodesToCredentials(b64: string): boolean {
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  return /^[\x20-\x7e]{1,256}:[\x20-\x7e]{1,256}$/.test(decoded);
}
