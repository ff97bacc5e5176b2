/**
 * Secret redaction for captured values (prompts, tool inputs, tool outputs).
 *
 * Every pattern is applied in one left-to-right pass with `String.prototype.replace`. To keep
 * each pass linear, patterns start at a token boundary (a lookbehind that rejects a start in the
 * middle of a run of the same characters) and bound every repetition, so an adversarial input
 * (a megabyte of `eyJ`, `sk-ant-` or `password=`) costs a bounded amount of work per position.
 * PEM blocks are found with `indexOf` rather than a lazy regex for the same reason.
 */
import { capValue } from './cap.js';

export { capValue } from './cap.js';

export interface RedactionResult {
  text: string;
  redactions: number;
}

export interface Redactor {
  redact(text: string): RedactionResult;
}

export interface RedactorOptions {
  /** Extra regular expressions (source text, compiled with the `g` flag); matches become `[REDACTED:custom]`. */
  extraPatterns?: readonly string[];
}

interface SecretPattern {
  name: string;
  regex: RegExp;
  /**
   * Builds the replacement from the match and its capture groups; returning the match itself
   * keeps it (a validator decided it is not a secret). Default: replace the whole match.
   */
  replace?: (match: string, groups: readonly (string | undefined)[]) => string;
}

export const redactionMarker = (name: string): string => `[REDACTED:${name}]`;

const TOKEN_CHAR = 'A-Za-z0-9_\\-';

/** True when a candidate value looks like a credential rather than a word or a placeholder. */
const looksRandom = (value: string): boolean => {
  const hasDigit = /[0-9]/.test(value);
  const hasLetter = /[A-Za-z]/.test(value);
  const hasUpper = /[A-Z]/.test(value);
  const hasLower = /[a-z]/.test(value);
  if (hasDigit && hasLetter) return true;
  return value.length >= 16 && hasUpper && hasLower;
};

const PLACEHOLDER_VALUES = new Set([
  'null',
  'none',
  'nil',
  'true',
  'false',
  'undefined',
  'required',
  'bearer',
  'basic',
  'optional',
  'string',
  'str',
  'changeme',
  'redacted',
  'xxx',
  'xxxx',
  '***',
  '****',
  '...',
]);

/** Values of `NAME=value` that are references or placeholders rather than secrets. */
const isPlaceholder = (value: string): boolean => {
  const v = value.trim();
  if (v.length === 0) return true;
  if (v.startsWith('[REDACTED')) return true;
  if (v.startsWith('$') || v.startsWith('%') || v.startsWith('{{') || v.startsWith('<')) return true;
  if (/^(?:process\.env|os\.environ|env\.|secrets\.|vars\.)/.test(v)) return true;
  if (/^\*+$/.test(v)) return true;
  return PLACEHOLDER_VALUES.has(v.toLowerCase());
};

// Names that look like they hold a secret. `tokens`/`tokenizer` (counts, libraries) are excluded.
const SECRET_NAME_WORD =
  '(?:passwords?|passwd|passphrase|pwd|secret|token(?!s|izer|_count|_limit|_budget|_usage)|api[_-]?key|apikey|access[_-]?key|account[_-]?key|private[_-]?key|secret[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|auth[_-]?key|credentials?|client[_-]?secret)';
const SECRET_NAME = `[A-Za-z0-9_.\\-]{0,40}${SECRET_NAME_WORD}[A-Za-z0-9_.\\-]{0,40}`;

/** Environment variables that contain a secret-sounding word but hold a path. */
const NON_SECRET_NAMES = /^(?:OLD)?PWD$/;

const BASE_PATTERNS: SecretPattern[] = [
  {
    name: 'anthropic-api-key',
    regex: new RegExp(`(?<![${TOKEN_CHAR}])sk-ant-[${TOKEN_CHAR}]{16,}`, 'g'),
  },
  {
    name: 'openai-api-key',
    regex: new RegExp(`(?<![${TOKEN_CHAR}])sk-(?:proj-|svcacct-|admin-|None-)?[${TOKEN_CHAR}]{20,}`, 'g'),
    replace: (m) => {
      const body = m.replace(/^sk-(?:proj-|svcacct-|admin-|None-)?/, '');
      return looksRandom(body) && /[0-9]/.test(body) ? redactionMarker('openai-api-key') : m;
    },
  },
  { name: 'google-api-key', regex: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g },
  {
    name: 'aws-access-key',
    regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    name: 'aws-secret-key',
    regex:
      /(?<![A-Za-z0-9_])(aws_?secret_?(?:access_?)?key|secretAccessKey|SecretAccessKey)(\\{0,7}["']?\s{0,8}[:=]{1,2}\s{0,8}\\{0,7}["']?)([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    replace: (_m, g) => `${g[0]}${g[1]}${redactionMarker('aws-secret-key')}`,
  },
  { name: 'github-token', regex: /(?<![A-Za-z0-9_])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])/g },
  { name: 'github-token', regex: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}/g },
  { name: 'gitlab-token', regex: /(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,255}/g },
  { name: 'slack-token', regex: /(?<![A-Za-z0-9_-])xox[abposre]-[A-Za-z0-9-]{10,255}/g },
  { name: 'slack-token', regex: /(?<![A-Za-z0-9_-])xapp-[0-9]-[A-Za-z0-9-]{10,255}/g },
  {
    name: 'slack-webhook',
    regex: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{16,255}/g,
  },
  {
    name: 'discord-webhook',
    regex: /https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/[0-9]{5,30}\/[A-Za-z0-9_-]{20,255}/g,
  },
  { name: 'stripe-key', regex: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,255}/g },
  { name: 'stripe-key', regex: /(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/=]{20,255}/g },
  { name: 'npm-token', regex: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
  { name: 'huggingface-token', regex: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,64}(?![A-Za-z0-9])/g },
  {
    name: 'sendgrid-key',
    regex: /(?<![A-Za-z0-9_])SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,64}/g,
  },
  {
    name: 'jwt',
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,4096}/g,
  },
  {
    // scheme://user:password@host — covers postgres, mysql, mongodb+srv, redis, amqp, https, ...
    name: 'url-credentials',
    regex: /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/)([^\s:/?#@"'<>\\]{0,256}):([^\s/?#"'<>\\]{1,256})@/g,
    replace: (m, g) =>
      isPlaceholder(g[2] ?? '') ? m : `${g[0]}${g[1]}:${redactionMarker('url-credentials')}@`,
  },
  {
    name: 'authorization-header',
    regex:
      /(?<![A-Za-z0-9_-])((?:proxy-)?authorization|x-api-key|api-key|x-auth-token|private-token|cookie)(\\{0,7}["']?\s{0,8}[:=]\s{0,8}\\{0,7}["']?)((?:bearer|basic|token|digest|bot|apikey)\s{1,8})?([^\s"'\\,;]{6,4096})/gi,
    replace: (m, g) =>
      isPlaceholder(g[3] ?? '') ? m : `${g[0]}${g[1]}${g[2] ?? ''}${redactionMarker('authorization')}`,
  },
  {
    name: 'bearer-token',
    regex: /(?<![A-Za-z0-9_-])(Bearer\s{1,8})([A-Za-z0-9._~+/=-]{8,4096})/gi,
    replace: (m, g) => (looksRandom(g[1] ?? '') ? `${g[0]}${redactionMarker('bearer-token')}` : m),
  },
  {
    name: 'basic-auth',
    regex: /(?<![A-Za-z0-9_-])(Basic\s{1,8})([A-Za-z0-9+/]{8,4096}={0,2})(?![A-Za-z0-9+/=])/g,
    replace: (m, g) => (decodesToCredentials(g[1] ?? '') ? `${g[0]}${redactionMarker('basic-auth')}` : m),
  },
  {
    // curl -u user:password / --user user:password
    name: 'cli-user-password',
    regex: /(?<![A-Za-z0-9_-])(-u|--user)(\s{1,8}\\{0,7}["']?)([^\s:"'\\]{1,256}):([^\s"'\\]{1,256})/g,
    replace: (m, g) => (isPlaceholder(g[3] ?? '') ? m : `${g[0]}${g[1]}${g[2]}:${redactionMarker('password')}`),
  },
  {
    // --password x, --api-key=x, --token "x"
    name: 'cli-secret-flag',
    regex: new RegExp(
      `(?<![A-Za-z0-9_-])(--?[A-Za-z0-9_-]{0,30}${SECRET_NAME_WORD}[A-Za-z0-9_-]{0,20})(=|\\s{1,8})(\\\\{0,7}["']?)([^\\s"'\\\\-][^\\s"'\\\\]{2,1023})`,
      'gi',
    ),
    replace: (m, g) => (isPlaceholder(g[3] ?? '') ? m : `${g[0]}${g[1]}${g[2]}${redactionMarker('secret')}`),
  },
  {
    // NAME=value, NAME: "value", "name": "value", \"name\": \"value\", Password=value; (connection strings)
    name: 'secret-assignment',
    regex: new RegExp(
      `(?<![A-Za-z0-9_.\\-])(${SECRET_NAME})(\\\\{0,7}["']?)(\\s{0,8}(?:=>|:=|=|:)\\s{0,8})(?:(\\\\{0,7}["'])([^"'\\\\\\r\\n]{1,1024})|([^\\s"'\\\\,;&|<>(){}\\[\\]]{1,1024}))`,
      'gi',
    ),
    replace: (m, g) => {
      const [name = '', nameQuote = '', separator = '', valueQuote, quotedValue, bareValue] = g;
      const value = quotedValue ?? bareValue ?? '';
      if (NON_SECRET_NAMES.test(name) || isPlaceholder(value)) return m;
      // A colon in prose ("token: missing") only counts when the key or the value is quoted.
      if (separator.trim() === ':' && nameQuote === '' && valueQuote === undefined) {
        if (!looksRandom(value) && value.length < 24) return m;
      }
      return `${name}${nameQuote}${separator}${valueQuote ?? ''}${redactionMarker('secret')}`;
    },
  },
];

function decodesToCredentials(b64: string): boolean {
  try {
    const decoded = Buffer.from(b64, 'base64').toString('utf8');
    return /^[\x20-\x7e]{1,256}:[\x20-\x7e]{1,256}$/.test(decoded);
  } catch {
    return false;
  }
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40})PRIVATE KEY( BLOCK)?-----/g;
const PEM_BODY = /[A-Za-z0-9+/=\s\\:,-]*/y;

/** Replaces PEM private key blocks, including ones whose END line is missing (truncated output). */
function redactPem(text: string): RedactionResult {
  if (!text.includes('PRIVATE KEY')) return { text, redactions: 0 };
  let out = '';
  let last = 0;
  let redactions = 0;
  PEM_BEGIN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PEM_BEGIN.exec(text)) !== null) {
    const start = m.index;
    const afterBegin = start + m[0].length;
    const endMarker = `-----END ${m[1] ?? ''}PRIVATE KEY${m[2] ?? ''}-----`;
    const endIdx = text.indexOf(endMarker, afterBegin);
    let stop: number;
    if (endIdx >= 0) {
      stop = endIdx + endMarker.length;
    } else {
      PEM_BODY.lastIndex = afterBegin;
      PEM_BODY.exec(text);
      stop = PEM_BODY.lastIndex;
    }
    out += text.slice(last, start) + redactionMarker('private-key');
    redactions += 1;
    last = stop;
    PEM_BEGIN.lastIndex = Math.max(stop, afterBegin);
  }
  if (redactions === 0) return { text, redactions: 0 };
  return { text: out + text.slice(last), redactions };
}

function applyPattern(text: string, pattern: SecretPattern): RedactionResult {
  let redactions = 0;
  pattern.regex.lastIndex = 0;
  const result = text.replace(pattern.regex, (match: string, ...rest: unknown[]) => {
    // Text an earlier pattern already replaced is not matched again (no nested markers).
    if (match.includes('[REDACTED:')) return match;
    // rest = [...groups, offset, input, (namedGroups)]; keep the capture groups only.
    const offsetIndex = rest.findIndex((v) => typeof v === 'number');
    const groups = rest.slice(0, offsetIndex) as (string | undefined)[];
    const replacement = pattern.replace ? pattern.replace(match, groups) : redactionMarker(pattern.name);
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
    return { name: 'custom', regex };
  });
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  // Fresh RegExp objects: a global regex carries lastIndex, so redactors never share them.
  const patterns: SecretPattern[] = [
    ...BASE_PATTERNS.map((p) => ({ ...p, regex: new RegExp(p.regex.source, p.regex.flags) })),
    ...compileExtraPatterns(options.extraPatterns ?? []),
  ];
  return {
    redact(text: string): RedactionResult {
      let { text: current, redactions } = redactPem(text);
      for (const pattern of patterns) {
        const r = applyPattern(current, pattern);
        current = r.text;
        redactions += r.redactions;
      }
      return { text: current, redactions };
    },
  };
}

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
