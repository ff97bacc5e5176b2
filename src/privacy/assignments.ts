/**
 * The name-based scanner: `NAME <sep> VALUE` in every syntax a tool prints or a file holds — shell
 * and .env (`DB_PASS=x`, `export TOKEN=x`), INI/TOML/properties (`password = x`), YAML
 * (`password: x`), JSON and JSON escaped inside JSON (`"auth": "x"`, `\"token\": \"x\"`), XML
 * attributes (`password="x"`), query strings (`?sig=x&token=x`), connection strings
 * (`;Password=x;`), HTTP headers (`X-Api-Key: x`), `--flag=x` — plus XML elements
 * (`<password>x</password>`) and Kubernetes-style name/value pairs (`name: DB_PASSWORD` / `value: x`).
 *
 * Whether the name holds a secret is decided by secret-names.ts. Whether the value is a literal
 * (redacted) or code (an identifier, kept) is decided from the syntax around it: a quoted value, an
 * ALL_CAPS name, a query or connection string, a line that is only `name: value`, or `name=value`
 * without spaces (shell) are literals; `password: string;` or `f(password=pw)` are code.
 *
 * Linear: the scan looks for separators (`=`, `:`, `:=`, `=>`) and reads the name backwards from
 * each (at most ~100 characters), which is much cheaper than trying a name regex at every position.
 * The value is read by hand and, when it is kept, at most VALUE_PEEK characters of it are looked at
 * before the scan goes on right after the separator (so a value that holds another assignment is
 * scanned too).
 */
import { redactionMarker } from './pattern-kit.js';
import type { RedactionResult } from './private-keys.js';
import { isCodeLike, isPlaceholder, isWorkingDirectory, looksRandom, nameStrength, type NameStrength } from './secret-names.js';

/** Separators between a name and its value; `::` (a path in C++/Rust) and `!=`, `<=`, `>=` are not. */
const SEPARATOR = /=>|:=|={1,3}|:(?!:)/g;
const MAX_NAME = 82;

/** `NAME <sep>` found around one separator. */
interface Assignment {
  /** Where the name (or its opening quote) starts. */
  index: number;
  name: string;
  nameQuoted: boolean;
  /** From the end of the name (and its closing quote) to the value: spaces, separator, spaces. */
  separator: string;
  afterSep: number;
}

const isNameChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45;
const isBlank = (ch: string | undefined) => ch === ' ' || ch === '\t';
/** True when a name may start after position `at - 1`: not inside a run, not after a backslash, except the escapes \n \r \t. */
function boundaryBefore(text: string, at: number): boolean {
  if (at === 0) return true;
  const prev = text.charCodeAt(at - 1);
  if ((prev === 110 || prev === 114 || prev === 116) && text[at - 2] === '\\') return true;
  return !isNameChar(prev) && prev !== 92;
}

/** Reads the name that ends before the separator at [sepStart, sepEnd). */
function assignmentAt(text: string, sepStart: number, sepEnd: number): Assignment | undefined {
  const prevSep = text[sepStart - 1];
  if (prevSep === ':' || prevSep === '!' || prevSep === '<' || prevSep === '>' || prevSep === '=') return undefined;
  let p = sepStart;
  for (let k = 0; k < 8 && isBlank(text[p - 1]); k++) p--;
  if (isBlank(text[p - 1])) return undefined;
  const separatorStart = p;
  if (text[p - 1] === '"' || text[p - 1] === "'") {
    p--;
    for (let b = 0; b < 7 && text[p - 1] === '\\'; b++) p--;
  }
  const nameEnd = p;
  let q = nameEnd;
  while (q > 0 && nameEnd - q <= MAX_NAME && isNameChar(text.charCodeAt(q - 1))) q--;
  if (nameEnd - q > MAX_NAME) return undefined;
  // `\nDB_PASS=`: the `n` belongs to the escape, not to the name.
  if (q > 0 && text[q - 1] === '\\' && (text[q] === 'n' || text[q] === 'r' || text[q] === 't') && nameEnd - q > 1) q++;
  const name = text.slice(q, nameEnd);
  if (!/^-{0,2}[A-Za-z_]/.test(name)) return undefined;
  let index = q;
  let nameQuoted = false;
  if (text[q - 1] === '"' || text[q - 1] === "'") {
    let quoteStart = q - 1;
    for (let b = 0; b < 7 && text[quoteStart - 1] === '\\'; b++) quoteStart--;
    if (boundaryBefore(text, quoteStart)) {
      index = quoteStart;
      nameQuoted = true;
    }
  } else if (!boundaryBefore(text, q)) return undefined;
  let afterSep = sepEnd;
  for (let k = 0; k < 8 && isBlank(text[afterSep]); k++) afterSep++;
  return { index, name, nameQuoted, separator: text.slice(separatorStart, afterSep), afterSep };
}

/** Characters that end a bare (unquoted) value. */
const BARE_STOP = new Set([' ', '\t', '\r', '\n', '"', "'", '`', ',', ';', '&', '|', '<', '>', '(', ')', '{', '}', '[', ']', '\\']);
/** How much of a value is read to decide that it is kept. */
const VALUE_PEEK = 256;

interface Value {
  start: number;
  end: number;
  quoted: boolean;
}

/** Reads the value that starts at `pos`: quoted (also \"…\"), or a bare run. */
function readValue(text: string, pos: number, limit: number): Value | undefined {
  let p = pos;
  while (p < text.length && text[p] === '\\' && p - pos < 8) p++;
  const q = text[p];
  if (q === '"' || q === "'" || q === '`') {
    const start = p + 1;
    let end = start;
    while (end < text.length && end - start < limit && text[end] !== q && text[end] !== '\n' && text[end] !== '\r') end++;
    let valueEnd = end;
    while (valueEnd > start && text[valueEnd - 1] === '\\') valueEnd--; // the backslashes of an escaped closing quote
    return { start, end: valueEnd, quoted: true };
  }
  if (p !== pos) return undefined; // a backslash that does not escape a quote
  let end = pos;
  while (end < text.length && end - pos < limit && !BARE_STOP.has(text[end] ?? ' ')) end++;
  if (end === pos) return undefined;
  return { start: pos, end, quoted: false };
}

const LINE_PREFIX = /^[ \t]*(?:(?:-|#+|\/\/|export|set|declare(?:[ \t]+-x)?|ARG|ENV|\$env:|\[[^\]]*\])[ \t]*)?$/;

/** True when only indentation (or a list dash, `export`, a comment mark) precedes `at` on its line. */
function startsLine(text: string, at: number): boolean {
  const from = Math.max(0, at - 32);
  const slice = text.slice(from, at);
  const breaks = [slice.lastIndexOf('\n'), slice.lastIndexOf('\r')];
  const escaped = slice.lastIndexOf('\\n');
  let cut = Math.max(...breaks);
  if (escaped >= 0 && escaped + 1 > cut) cut = escaped + 1;
  if (cut < 0 && from > 0) return false;
  return LINE_PREFIX.test(slice.slice(cut + 1));
}

/** True when nothing but spaces (or a comment, or the end of an enclosing string) follows `at` on its line. */
function endsLine(text: string, at: number): boolean {
  let p = at;
  while (p < text.length && (text[p] === ' ' || text[p] === '\t') && p - at < 64) p++;
  if (p >= text.length) return true;
  const c = text[p];
  if (c === '\n' || c === '\r' || c === '#' || c === '"') return true;
  return c === '\\' && (text[p + 1] === 'n' || text[p + 1] === 'r' || text[p + 1] === '"');
}

/** The character before `at`, skipping spaces (at most 8). */
function charBefore(text: string, at: number): string {
  let p = at - 1;
  while (p >= 0 && (text[p] === ' ' || text[p] === '\t') && at - p < 9) p--;
  return p >= 0 ? (text[p] ?? '') : '';
}

function isLiteral(text: string, a: Assignment, value: Value): boolean {
  if (value.quoted || a.nameQuoted) return true;
  if (/^[A-Z][A-Z0-9_-]*$/.test(a.name) || a.name.startsWith('-')) return true; // env var, header, --flag=
  const before = charBefore(text, a.index);
  if (before === '?' || before === '&' || before === ';') return true; // query and connection strings
  if (startsLine(text, a.index) && endsLine(text, value.end)) return true; // YAML, INI, .env, properties
  if (a.separator === '=' && before !== ',' && before !== '(') return true; // shell, libpq conninfo (no spaces around =)
  return false;
}

/** Decides whether the value next to this name is a secret. */
function isSecretValue(strength: NameStrength, literal: boolean, value: string): boolean {
  if (isPlaceholder(value)) return false;
  if (strength === 'weak') return looksRandom(value);
  return literal || !isCodeLike(value);
}

export function redactAssignments(text: string): RedactionResult {
  const regex = new RegExp(SEPARATOR.source, 'g');
  let out = '';
  let last = 0;
  let redactions = 0;
  let m: RegExpExecArray | null;
  while ((m = regex.exec(text)) !== null) {
    const a = assignmentAt(text, m.index, m.index + m[0].length);
    if (!a || a.index < last) continue;
    const { name, afterSep } = a;
    const strength = nameStrength(name);
    if (strength === 'none') continue;
    const peek = readValue(text, afterSep, VALUE_PEEK);
    if (!peek) continue;
    const peeked = text.slice(peek.start, peek.end);
    if (isWorkingDirectory(name, peeked)) continue;
    // `libsecret-1-0:amd64`, `secret-store:latest`, `host:port`: an unquoted `name:value` without a
    // space is a qualified name, not an assignment (YAML, JSON and prose put a space after `:`).
    if (a.separator === ':' && !a.nameQuoted && !peek.quoted) continue;
    const literal = isLiteral(text, a, peek);
    if (!isSecretValue(strength, literal, peeked)) continue;
    // A secret: consume its whole run, however long.
    const value = readValue(text, afterSep, Infinity) ?? peek;
    out += text.slice(last, value.start) + redactionMarker('secret');
    last = value.end;
    redactions += 1;
    regex.lastIndex = Math.max(value.end, afterSep);
  }
  if (redactions === 0) return { text, redactions: 0 };
  return { text: out + text.slice(last), redactions };
}

const XML_ELEMENT = /<([A-Za-z_][A-Za-z0-9_.:-]{0,63})>([^<\r\n]+)<\/\1>/g;

/** `<password>x</password>` (Maven settings.xml, Spring XML, FileZilla). */
export function redactXmlElements(text: string): RedactionResult {
  if (!text.includes('</')) return { text, redactions: 0 };
  let redactions = 0;
  const out = text.replace(new RegExp(XML_ELEMENT.source, 'g'), (m, tag: string, value: string) => {
    const strength = nameStrength(tag.replace(/^.*:/, ''));
    if (strength === 'none' || !isSecretValue(strength, true, value.trim())) return m;
    redactions += 1;
    return `<${tag}>${redactionMarker('secret')}</${tag}>`;
  });
  return { text: out, redactions };
}

// Starts at the literal `name`/`key` (the boundary before it is looked behind), so the engine scans quickly.
const NAME_VALUE_PAIR =
  /(?:[Nn]ame|[Kk]ey)(?<=(?:^|[^A-Za-z0-9_-]|\\[nrt])(?:[Nn]ame|[Kk]ey))(\\{0,7}["']?[ \t]{0,8}[:=][ \t]{0,8}\\{0,7}["']?)([A-Za-z_][A-Za-z0-9_.-]{0,79})(\\{0,7}["']?[ \t]{0,8}(?:,|\r?\n|\\n)[ \t]{0,40}(?:-[ \t]+)?\\{0,7}["']?(?:value|Value)\\{0,7}["']?[ \t]{0,8}[:=][ \t]{0,8})/g;

/** `- name: DB_PASSWORD` / `value: x` (Kubernetes env, ECS task definitions, GitHub/Terraform variables). */
export function redactNameValuePairs(text: string): RedactionResult {
  const regex = new RegExp(NAME_VALUE_PAIR.source, 'g');
  let out = '';
  let last = 0;
  let redactions = 0;
  let m: RegExpExecArray | null;
  while ((m = regex.exec(text)) !== null) {
    const strength = nameStrength(m[2] ?? '');
    if (strength === 'none') continue;
    const afterSep = m.index + m[0].length;
    const value = readValue(text, afterSep, Infinity);
    if (!value || !isSecretValue(strength, true, text.slice(value.start, value.end))) continue;
    out += text.slice(last, value.start) + redactionMarker('secret');
    last = value.end;
    redactions += 1;
    regex.lastIndex = Math.max(value.end, afterSep);
  }
  if (redactions === 0) return { text, redactions: 0 };
  return { text: out + text.slice(last), redactions };
}
