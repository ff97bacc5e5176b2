/**
 * The redaction engine: applies every detector, in a fixed order, to one text and counts what it
 * replaced with `[REDACTED:<kind>]`. The order matters only where shapes overlap: private keys
 * first (they span lines), then URL credentials and auth headers (whole values), then provider
 * token shapes and CLI/credential-file forms (patterns.ts), then the name-based scanner
 * (assignments.ts), which leaves values that are already markers alone, then user patterns.
 *
 * Every detector is linear in the text (see patterns.ts and assignments.ts for how), so an
 * adversarial input costs a bounded amount of work per character. The capture policy (redact, then
 * cap) is capture.ts; `captureValue` and `capValue` are re-exported here for existing callers.
 */
import { redactAssignments, redactNameValuePairs, redactXmlElements } from './assignments.js';
import { TOKEN_PATTERNS, redactionMarker, type CompiledPattern, type SecretPattern } from './patterns.js';
import { redactBase64Pem, redactPem, redactPuttyKey, type RedactionResult } from './private-keys.js';

export { capValue } from './cap.js';
export { captureValue, type CaptureOptions } from './capture.js';
export { redactionMarker } from './patterns.js';
export type { RedactionResult } from './private-keys.js';

export interface Redactor {
  redact(text: string): RedactionResult;
}

export interface RedactorOptions {
  /** Extra regular expressions (source text, compiled with the `g` flag); matches become `[REDACTED:custom]`. */
  extraPatterns?: readonly string[];
}

/** A detector sees the text and its lowercased copy (for the patterns' literal hints). */
type Detector = (text: string, lower: string) => RedactionResult;

function applyPattern(text: string, pattern: SecretPattern): RedactionResult {
  let redactions = 0;
  pattern.regex.lastIndex = 0;
  const result = text.replace(pattern.regex, (match: string, ...rest: unknown[]) => {
    // rest = [...groups, offset, input, (namedGroups)]; keep the capture groups only.
    const offsetIndex = rest.findIndex((v) => typeof v === 'number');
    const groups = rest.slice(0, offsetIndex) as (string | undefined)[];
    const replacement = pattern.replace ? pattern.replace(match, groups, rest[offsetIndex] as number, text) : redactionMarker(pattern.kind);
    if (replacement !== match) redactions += 1;
    return replacement;
  });
  return { text: result, redactions };
}

/** Compiles user-supplied patterns; throws an Error naming the index of a bad one. */
export function compileExtraPatterns(sources: readonly string[]): SecretPattern[] {
  return sources.map((source, index) => {
    let regex: RegExp;
    try {
      regex = new RegExp(source, 'g');
    } catch (err) {
      throw new Error(`redaction.extraPatterns.${index}: invalid regular expression: ${(err as Error).message}`);
    }
    if (regex.test('')) {
      throw new Error(`redaction.extraPatterns.${index}: the pattern matches the empty string`);
    }
    return { kind: 'custom', regex };
  });
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  // Fresh RegExp objects: a global regex carries lastIndex, so redactors never share them.
  const fresh = (p: CompiledPattern): CompiledPattern => ({ ...p, regex: new RegExp(p.regex.source, p.regex.flags) });
  const tokenPatterns = TOKEN_PATTERNS.map(fresh);
  const hinted = (p: CompiledPattern): Detector => {
    const { hints, prefilter } = p;
    return (t, lower) => {
      if (hints && !hints.some((h) => lower.includes(h))) return { text: t, redactions: 0 };
      if (prefilter && !prefilter.test(t)) return { text: t, redactions: 0 };
      return applyPattern(t, p);
    };
  };
  const extra = compileExtraPatterns(options.extraPatterns ?? []);
  const detectors: Detector[] = [
    redactPem,
    redactBase64Pem,
    redactPuttyKey,
    ...tokenPatterns.map(hinted),
    redactAssignments,
    redactNameValuePairs,
    redactXmlElements,
    ...extra.map((p): Detector => (t) => applyPattern(t, p)),
  ];
  return {
    redact(text: string): RedactionResult {
      let current = text;
      let lower = text.toLowerCase();
      let redactions = 0;
      for (const detect of detectors) {
        const r = detect(current, lower);
        if (r.redactions > 0) {
          current = r.text;
          lower = current.toLowerCase();
          redactions += r.redactions;
        }
      }
      return { text: current, redactions };
    },
  };
}
