/**
 * The capture policy for one content value (a prompt, a tool input or output, an error text):
 * serialize, redact, then cap. Redaction runs before the cap so a secret straddling the cut is never
 * half-kept. A very large value is redacted on a prefix only (the cap plus a margin) so that one huge
 * tool output costs bounded work; the kept part then ends well before the end of that prefix.
 */
import { capValue } from './cap.js';
import type { Redactor } from './redact.js';

export interface CaptureOptions {
  maxBytes: number;
  redactor: Redactor;
}

/** Beyond this many characters past maxBytes, redaction runs on a prefix only. */
const PRECUT_MARGIN_CHARS = 65_536;
/** The kept window must end this far before the pre-cut point, so no partial secret survives. */
const PRECUT_SAFETY_CHARS = 4_096;

/** JSON-stringifies non-strings, redacts, then caps to maxBytes (UTF-8). */
export function captureValue(value: unknown, options: CaptureOptions): string {
  const text = typeof value === 'string' ? value : safeStringify(value);
  const { maxBytes, redactor } = options;
  if (text.length > maxBytes + PRECUT_MARGIN_CHARS) {
    const redactedPrefix = redactor.redact(text.slice(0, maxBytes + PRECUT_MARGIN_CHARS)).text;
    if (redactedPrefix.length >= maxBytes + PRECUT_SAFETY_CHARS) {
      const dropped = Buffer.byteLength(text) - Buffer.byteLength(redactedPrefix);
      return capValue(redactedPrefix, maxBytes, dropped);
    }
  }
  return capValue(redactor.redact(text).text, maxBytes);
}

function safeStringify(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    const seen = new WeakSet<object>();
    const json = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
    return json ?? String(value);
  } catch {
    return String(value);
  }
}
