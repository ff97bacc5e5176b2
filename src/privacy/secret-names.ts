/**
 * The vocabulary that decides whether a name (a variable, a key, a header, a flag) holds a secret,
 * and what a value must look like to be redacted next to it. Redaction by name generalizes where
 * redaction by token shape cannot: `DB_PASS=`, `_auth=`, `"auth":`, `sig=`, `X-Amz-Signature=`,
 * `password: …` are one rule ("a secret-named name, a separator, a value"), not one pattern each.
 *
 * A name is split into words (snake, kebab, dot and camel case). It is *strong* when a word is a
 * secret word (password, pass, pwd, secret, token, auth, credentials, …) or a key compound (api key,
 * access key, private key, …): its value is redacted unless it is a placeholder or, in code, an
 * identifier. It is *weak* when a word only often holds secrets (key, sig, signature, session,
 * cookie, private, salt): its value is redacted when it looks random. A name whose last word says
 * it holds something else (…_id, …_file, …_type, …_length, …) is not secret.
 */

export type NameStrength = 'strong' | 'weak' | 'none';

/** Words that always name a secret (compared with the whole word). */
const STRONG_WORDS = new Set([
  'password', 'passwords', 'passwd', 'passphrase', 'pass', 'pwd', 'pw', 'psk', 'secret', 'secrets',
  'token', 'apikey', 'credential', 'credentials', 'creds', 'cred', 'auth', 'pat', 'bearer', 'jwt',
]);

/** Suffixes that make a joined word secret (`PGPASSWORD`, `authToken` written as one word, `clientsecret`). */
const STRONG_SUFFIXES = ['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'pwd'];

/** Words ending in "pass" or "pwd" that are not secrets. */
const NOT_SECRET_WORDS = new Set([
  'bypass', 'compass', 'surpass', 'trespass', 'overpass', 'underpass', 'encompass', 'impass', 'oldpwd',
]);

/** `<prefix> key` (or `<prefix>key`) is a secret key: api key, access key, private key, … */
const KEY_PREFIXES = new Set([
  'api', 'access', 'secret', 'private', 'account', 'signing', 'sign', 'encryption', 'encrypt', 'decryption',
  'master', 'auth', 'client', 'shared', 'subscription', 'license', 'licence', 'app', 'consumer', 'service',
  'deploy', 'storage', 'ssh', 'gpg', 'pgp', 'root', 'admin', 'session', 'webhook', 'sas', 'hmac', 'jwt',
  'crypt', 'cipher', 'aes', 'rsa', 'ingest', 'write', 'server', 'management', 'mgmt', 'wrapping', 'recovery',
]);

/** Words that often, not always, hold a secret: the value must look random. */
const WEAK_WORDS = new Set(['key', 'sig', 'signature', 'session', 'sessionid', 'sessid', 'cookie', 'private', 'salt', 'otp']);

/** A last word saying the value is about the secret, not the secret itself. */
const NOT_SECRET_LAST = new Set([
  'id', 'ids', 'uuid', 'arn', 'name', 'names', 'type', 'types', 'kind', 'path', 'paths', 'file', 'files',
  'filename', 'dir', 'directory', 'folder', 'url', 'uri', 'urls', 'link', 'endpoint', 'host', 'port',
  'length', 'len', 'size', 'count', 'num', 'number', 'limit', 'limits', 'max', 'min', 'field', 'fields',
  'header', 'env', 'var', 'variable', 'ttl', 'expiry', 'expires', 'expiration', 'expired', 'timeout',
  'lifetime', 'age', 'at', 'format', 'algorithm', 'alg', 'version', 'prefix', 'suffix', 'mode', 'policy',
  'provider', 'method', 'scheme', 'source', 'hint', 'prompt', 'label', 'required', 'enabled', 'disabled',
  'enable', 'disable', 'allowed', 'regex', 'pattern', 'usage', 'budget', 'tokenizer', 'index', 'ref',
  'reference', 'region', 'rotation', 'reset', 'changed', 'updated', 'created', 'strength', 'validator',
  'validation', 'input', 'placeholder', 'message', 'text', 'description', 'help', 'title', 'error',
  'errors', 'stdin', 'manager', 'store', 'vault', 'location', 'style', 'class', 'color', 'width', 'height',
  'visible', 'hidden', 'shown', 'show', 'toggle', 'icon', 'button', 'form', 'page', 'view', 'component',
  'schema', 'model', 'spec', 'test', 'tests', 'mock', 'fixture', 'handler', 'callback', 'fn', 'func',
  'service', 'client', 'cache', 'count', 'counts', 'tokens', 'status', 'state', 'step', 'flow', 'grant',
  'scope', 'scopes', 'audience', 'issuer', 'claims', 'level', 'ask',
]);
/** A first word that makes a flag a question, not a value (`--ask-pass`, `--no-password`). */
const NOT_SECRET_FIRST = new Set(['ask', 'no', 'use', 'with', 'without', 'require', 'requires', 'prompt', 'show']);

/** A last word that is a file extension after a dot: `secret-names.ts:42`, `token.json:` (grep and compiler output). */
const FILE_EXTENSIONS = new Set([
  'ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'py', 'rb', 'go', 'rs', 'java', 'kt', 'c', 'h', 'cc', 'cpp', 'hpp', 'cs', 'php',
  'swift', 'json', 'jsonl', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf', 'md', 'txt', 'sh', 'bash', 'zsh', 'sql', 'html',
  'css', 'scss', 'xml', 'lock', 'log', 'snap', 'map', 'd', 'test', 'spec', 'tf', 'hcl', 'proto', 'gradle',
]);

const cache = new Map<string, NameStrength>();

/** Splits `X-Amz-Signature`, `clientSecret`, `DB_PASS`, `spring.datasource.password` into lowercase words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase());
}

function wordStrength(words: readonly string[], i: number): NameStrength {
  const w = words[i] ?? '';
  if (NOT_SECRET_WORDS.has(w)) return 'none';
  if (STRONG_WORDS.has(w)) return 'strong';
  for (const suffix of STRONG_SUFFIXES) if (w.length > suffix.length && w.endsWith(suffix)) return 'strong';
  if (w.length > 4 && w.endsWith('pass')) return 'strong'; // storepass, keypass, dbpass
  if (w === 'key' || w === 'keys') {
    const prev = words[i - 1];
    return prev !== undefined && KEY_PREFIXES.has(prev) ? 'strong' : 'weak';
  }
  if (w.length > 3 && w.endsWith('key')) {
    const prefix = w.slice(0, -3);
    for (const p of KEY_PREFIXES) if (prefix === p || prefix.endsWith(p)) return 'strong';
    return 'none'; // monkey, hotkey, turkey
  }
  if (WEAK_WORDS.has(w) || w.endsWith('signature') || w.endsWith('cookie') || w.endsWith('sessid')) return 'weak';
  return 'none';
}

/** How strongly a name says its value is a secret. */
export function nameStrength(name: string): NameStrength {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const words = nameWords(name);
  let result: NameStrength = 'none';
  const last = words.at(-1);
  const isFileName = last !== undefined && FILE_EXTENSIONS.has(last) && name.toLowerCase().endsWith(`.${last}`);
  if (!isFileName && words.length > 0 && last !== undefined && !(NOT_SECRET_LAST.has(last) && words.length > 1) && !NOT_SECRET_FIRST.has(words[0] ?? '')) {
    for (let i = 0; i < words.length; i++) {
      const s = wordStrength(words, i);
      if (s === 'strong') {
        result = 'strong';
        break;
      }
      if (s === 'weak') result = 'weak';
    }
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(name, result);
  return result;
}

const PLACEHOLDER_VALUES = new Set([
  'null', 'none', 'nil', 'true', 'false', 'yes', 'no', 'on', 'off', 'undefined', 'required', 'optional',
  'bearer', 'basic', 'token', 'digest', 'string', 'str', 'number', 'boolean', 'bool', 'any', 'unknown',
  'never', 'object', 'void', 'bytes', 'int', 'float', 'char', 'secretstr', 'secret', 'password',
  'changeme', 'redacted', 'placeholder', 'include', 'omit', 'same-origin', 'hidden', 'masked', 'env',
  'file', 'prompt', 'stdin', 'default', 'empty', 'example', 'dummy', 'xxx', '...', '…', 'n/a', 'na', 'tbd',
]);

/** Values that are references, types or placeholders rather than secrets. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim().replace(/[;,]$/, '');
  if (v.length === 0) return true;
  if (v.startsWith('[REDACTED')) return true;
  if (/^(?:\$(?![0-9][a-z]?\$)|%[A-Za-z_(]|\{\{|\{[^}]*\}$|<[^>]*>?$|!)/.test(v)) return true; // $VAR ${VAR} $(cmd) %VAR% {{ x }} <your-key> !vault (not a $2b$ hash)
  if (/^(?:process\.env|os\.environ|os\.getenv|env\.|secrets\.|vars\.|import\.meta\.env)/.test(v)) return true;
  if (/^([*x.•#-])\1*$/i.test(v)) return true; // ****, xxxx, ...., ----
  if (/^(?:your|my|the|a|an|some|example|sample|dummy|fake|test)[_-]/i.test(v)) return true; // your_api_key, example-token
  return PLACEHOLDER_VALUES.has(v.toLowerCase());
}

/** `PWD=/home/dev` is the shell's working directory, not a password (ODBC `PWD=x;` is one). */
export function isWorkingDirectory(name: string, value: string): boolean {
  return /^(?:OLD)?PWD$/i.test(name) && /^(?:[/~.]|[A-Za-z]:\\)/.test(value);
}

/** An identifier or member expression (`password`, `this.token`, `options.apiKey`, `getSecret()`): code, not a literal. */
export function isCodeLike(value: string): boolean {
  return value.length <= 64 && /^[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*(?:\(\))?[;,]?$/.test(value);
}

/** True when a value next to a weak name looks like a credential: long, mixed, many distinct characters, not words. */
export function looksRandom(value: string): boolean {
  if (value.length < 16) return false;
  if (!/^[A-Za-z0-9+/=_\-.~%:]+$/.test(value)) return false;
  const hasDigit = /[0-9]/.test(value);
  const hasLetter = /[A-Za-z]/.test(value);
  const mixedCase = /[A-Z]/.test(value) && /[a-z]/.test(value);
  if (!((hasDigit && hasLetter) || mixedCase)) return false;
  if (new Set(value).size < 10) return false;
  return !isWordy(value);
}

/**
 * True when every piece of a value (split at separators and camel-case humps) is a word, a number
 * or a number with a unit: `getOwnPropertyNames`, `cache_creation_5m_tokens`, `v2.api-route`.
 * Random strings break into pieces like `b3z` or `q9k` that are neither.
 */
function isWordy(value: string): boolean {
  const pieces = value
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p.length > 0)
    .map((p) => p.toLowerCase());
  return pieces.length > 0 && pieces.every((p) => (/^[a-z]{2,}$/.test(p) && /[aeiouy]/.test(p)) || /^\d+[a-z]{0,2}$/.test(p) || /^[a-z]\d{1,3}$/.test(p));
}
