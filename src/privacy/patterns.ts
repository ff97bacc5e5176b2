/**
 * The secret shapes the redactor knows, grouped by kind, each with the documented format it follows.
 * Data only: the engine (redact.ts) applies them in this order, then the command-line and
 * credential-file forms (command-patterns.ts), after private keys (private-keys.ts) and before the
 * name-based scanner (assignments.ts). The compiled table (boundaries made escape-aware, literal
 * hints) is TOKEN_PATTERNS at the end.
 *
 * Every pattern is linear: it starts at a token boundary (a lookbehind that rejects a start inside a
 * run of the same characters, so a run is tried once), and a secret's run is consumed whole with an
 * unbounded class (`+`, `{n,}`) that nothing has to backtrack into. A long token is therefore
 * replaced entirely, never its first N characters (reliability review, finding 7).
 */
import { COMMAND_PATTERNS } from './command-patterns.js';
import {
  END, SCHEME_BEFORE, START, T, decodesToCredentials, keepPrefix, looksLikeToken, re, redactionMarker, type SecretPattern,
} from './pattern-kit.js';
import { isCodeLike, isPlaceholder } from './secret-names.js';

export { redactionMarker, type SecretPattern } from './pattern-kit.js';

const AUTH_SCHEME = /^(?:bearer|basic|token|digest|bot|apikey|api-key|negotiate|ntlm|hmac|aws4-hmac-sha256|sso-key|splunk|dsn|key|otoken)\s+/i;

/** Authorization / Cookie header values: everything after the name, up to the end of the line or string. */
function headerValue(m: string, g: readonly (string | undefined)[]): string {
  const [name = '', , , , value = ''] = g;
  const trimmed = value.trim();
  const scheme = AUTH_SCHEME.exec(trimmed)?.[0] ?? '';
  const rest = trimmed.slice(scheme.length);
  if (isPlaceholder(rest) || (scheme === '' && isCodeLike(rest))) return m;
  const isCookie = /cookie/i.test(name);
  if (isCookie && !rest.includes('=')) return m; // "Cookie: none", prose
  if (!isCookie && scheme === '' && /\s/.test(rest) && !looksLikeToken(rest.split(/\s/)[0] ?? '')) return m; // prose
  const lead = value.length - value.trimStart().length;
  return m.slice(0, m.length - value.length) + value.slice(0, lead) + scheme + redactionMarker(isCookie ? 'cookie' : 'authorization');
}


const RAW_PATTERNS: readonly SecretPattern[] = [
  // --- URL credentials (RFC 3986 userinfo): scheme://user:password@host — postgres, mysql, mongodb+srv, redis, amqp, https (.git-credentials)
  {
    kind: 'url-credentials',
    // The match starts at the literal `://` so the engine scans for it quickly; the scheme before it is checked by hand.
    regex: /:\/\/([^\s:/?#@"'<>\\]{0,256}):([^\s/?#"'<>\\]+)@/g,
    replace: (m, g, at, input) =>
      isPlaceholder(g[1] ?? '') || !SCHEME_BEFORE.test(input.slice(Math.max(0, at - 24), at)) ? m : `://${g[0]}:${redactionMarker('url-credentials')}@`,
  },

  // --- HTTP auth headers (RFC 9110 Authorization / Proxy-Authorization, RFC 6265 Cookie / Set-Cookie), raw, curl -H, JSON or code
  {
    kind: 'authorization',
    regex: /(?<![A-Za-z0-9_-])((?:proxy-)?authorization|(?:set-)?cookie)(\\{0,7}["'])?([ \t]{0,8}[:=][ \t]{0,8})([fFrRbB]?\\{0,7}["'])?([^\r\n"'\\]+)/gi,
    replace: headerValue,
  },
  // AWS SigV4 (docs: "Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=<64 hex>") outside a header
  { kind: 'aws-signature', regex: /(?<![A-Za-z0-9_-])(Signature=)([0-9a-f]{64})(?![0-9a-f])/g, replace: keepPrefix('aws-signature') },
  // RFC 6750 bearer tokens anywhere ("Bearer <token>")
  {
    kind: 'bearer-token',
    regex: /(?<![A-Za-z0-9_-])(Bearer[ \t]{1,8})([A-Za-z0-9._~+/=-]+)/gi,
    replace: (m, g) => (looksLikeToken(g[1] ?? '') ? `${g[0]}${redactionMarker('bearer-token')}` : m),
  },
  // RFC 7617 Basic credentials: base64("user:password")
  {
    kind: 'basic-auth',
    regex: /(?<![A-Za-z0-9_-])(Basic[ \t]{1,8})([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/g,
    replace: (m, g) => (decodesToCredentials(g[1] ?? '') ? `${g[0]}${redactionMarker('basic-auth')}` : m),
  },

  // --- Provider tokens with documented prefixes
  // Anthropic: sk-ant-api03-… / sk-ant-admin01-… / sk-ant-oat01-… (API keys, admin keys, OAuth tokens)
  { kind: 'anthropic-api-key', regex: re(`${START}sk-ant-${T}{16,}`) },
  // OpenAI: sk-proj-…, sk-svcacct-…, sk-admin-…, legacy sk-<48> (random bodies only: `sk-learn-style` stays)
  {
    kind: 'openai-api-key',
    regex: re(`${START}sk-(?:proj-|svcacct-|admin-|None-)?${T}{20,}`),
    replace: (m) => {
      const body = m.replace(/^sk-(?:proj-|svcacct-|admin-|None-)?/, '');
      return looksLikeToken(body) && /[0-9]/.test(body) ? redactionMarker('openai-api-key') : m;
    },
  },
  // Google API key: AIza + 35 characters; OAuth 2.0 access token ya29.…; refresh token 1//0…; OAuth client secret GOCSPX-…
  { kind: 'google-api-key', regex: re(`${START}AIza[0-9A-Za-z_-]{35}${END}`) },
  { kind: 'google-oauth-token', regex: re(`${START}ya29\\.[A-Za-z0-9_.-]{20,}`) },
  { kind: 'google-oauth-token', regex: re(`(?<![A-Za-z0-9_/-])1//0[A-Za-z0-9_-]{30,}`) },
  { kind: 'google-oauth-secret', regex: re(`${START}GOCSPX-[A-Za-z0-9_-]{20,}`) },
  // AWS: access key id AKIA/ASIA/… + 16 base32; the 40-char secret next to it (IAM console CSV) or after its name in prose
  {
    kind: 'aws-secret-key',
    regex: /(?<![A-Za-z0-9])((?:AKIA|ASIA)[A-Z0-9]{16})([ \t]*(?:[,;|\t]|\\t)[ \t]*|[ \t]{1,8})([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/g,
    replace: (_m, g) => `${redactionMarker('aws-access-key')}${g[1]}${redactionMarker('aws-secret-key')}`,
  },
  {
    kind: 'aws-secret-key',
    regex: /(?<![A-Za-z0-9])(secret[ _-]?access[ _-]?key(?:[ \t]*\[[^\]\r\n]{0,20}\])?["']?[ \t]*(?:[:=,|]|\\t|\t)[ \t]*["']?)([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    replace: keepPrefix('aws-secret-key'),
  },
  {
    kind: 'aws-access-key',
    regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  // GitHub: ghp_/gho_/ghu_/ghs_/ghr_ + 36 base62; fine-grained github_pat_<22>_<59>
  { kind: 'github-token', regex: /(?<![A-Za-z0-9_])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}(?![A-Za-z0-9])/g },
  { kind: 'github-token', regex: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,}/g },
  // GitLab: glpat- (personal), gldt- (deploy), glrt- (runner), glptt- (trigger), gloas- (OAuth app), glcbt- (CI job), glft- (feed), glimt-, glsoat-, glagent-; runner registration GR1348941…
  { kind: 'gitlab-token', regex: /(?<![A-Za-z0-9_])gl(?:pat|dt|rt|ptt|oas|cbt|ft|imt|soat|agent|wt)-[A-Za-z0-9_.-]{20,}/g },
  { kind: 'gitlab-token', regex: /(?<![A-Za-z0-9_])GR1348941[A-Za-z0-9_-]{20,}/g },
  // Slack: xoxb-/xoxp-/xoxa-/xoxr-/xoxs-/xoxe- tokens, xapp- app tokens, incoming webhooks
  { kind: 'slack-token', regex: /(?<![A-Za-z0-9_-])xox[abposre](?:\.xox[a-z])?-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack-token', regex: /(?<![A-Za-z0-9_-])xapp-[0-9]-[A-Za-z0-9-]{10,}/g },
  { kind: 'slack-webhook', regex: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{16,}/g },
  // Discord: webhook URLs; bot tokens base64(user id).<6>.<27+> (the first part must decode to a snowflake id)
  { kind: 'discord-webhook', regex: /https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/[0-9]{5,30}\/[A-Za-z0-9_-]{20,}/g },
  {
    kind: 'discord-bot-token',
    regex: re(`${START}([MNO][A-Za-z0-9_-]{23,27})\\.[A-Za-z0-9_-]{6,7}\\.[A-Za-z0-9_-]{27,}`),
    prefilter: /\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27}/,
    replace: (m, g) => (/^\d{17,20}$/.test(Buffer.from(g[0] ?? '', 'base64url').toString('latin1')) ? redactionMarker('discord-bot-token') : m),
  },
  // Stripe: sk_live_/sk_test_/rk_live_/rk_test_/pk_live_ + 24+ base62; webhook signing secret whsec_
  { kind: 'stripe-key', regex: /(?<![A-Za-z0-9_])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/g },
  { kind: 'stripe-key', regex: /(?<![A-Za-z0-9_])whsec_[A-Za-z0-9+/=]{20,}/g },
  // Twilio: API key SID SK + 32 hex, Account SID AC + 32 hex
  { kind: 'twilio-key', regex: /(?<![A-Za-z0-9])(?:SK|AC)[0-9a-f]{32}(?![A-Za-z0-9])/g, prefilter: /SK[0-9a-f]{32}|AC[0-9a-f]{32}/ },
  // SendGrid: SG.<22>.<43>
  { kind: 'sendgrid-key', regex: /(?<![A-Za-z0-9_])SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,}/g },
  // Mailgun: legacy key-<32 hex>; current <32 hex>-<8 hex>-<8 hex>
  { kind: 'mailgun-key', regex: /(?<![A-Za-z0-9_-])key-[0-9a-f]{32}(?![A-Za-z0-9])/g },
  // (the boundary is checked after the first hex digit: a leading lookbehind would run at every position of the text)
  { kind: 'mailgun-key', regex: /[0-9a-f](?<![A-Za-mo-qsu-z0-9_-][0-9a-f]|(?<!\\)[nrt][0-9a-f])[0-9a-f]{31}-[0-9a-f]{8}-[0-9a-f]{8}(?![A-Za-z0-9-])/g, prefilter: /-[0-9a-f]{8}-[0-9a-f]{8}/ },
  // npm: npm_ + 36 base62 (granular and automation tokens)
  { kind: 'npm-token', regex: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36,}(?![A-Za-z0-9])/g },
  // PyPI: macaroon pypi-AgEIcHlwaS5vcmc… (pypi.org) / pypi-AgENdGVzdC5weXBp… (test.pypi.org)
  { kind: 'pypi-token', regex: re(`${START}pypi-AgE[A-Za-z0-9_-]{40,}`) },
  // Hugging Face: hf_ + 34 letters; organization api_org_
  { kind: 'huggingface-token', regex: /(?<![A-Za-z0-9_])(?:hf_|api_org_)[A-Za-z0-9]{30,}(?![A-Za-z0-9])/g },
  // HashiCorp Vault: hvs. (service), hvb. (batch), hvr. (recovery) tokens
  { kind: 'vault-token', regex: re(`${START}hv[sbr]\\.[A-Za-z0-9_-]{24,}`) },
  // Terraform Cloud / Enterprise: <14>.atlasv1.<60+>
  { kind: 'terraform-token', regex: /(?<![A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}/g },
  // DigitalOcean: dop_v1_ (personal), doo_v1_ (OAuth), dor_v1_ (refresh) + 64 hex
  { kind: 'digitalocean-token', regex: /(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}(?![A-Za-z0-9])/g },
  // age: AGE-SECRET-KEY-1 + 58 bech32 characters
  { kind: 'age-secret-key', regex: /(?<![A-Za-z0-9-])AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{50,}/g },
  // Databricks: dapi + 32 hex (optionally -<n>)
  { kind: 'databricks-token', regex: /(?<![A-Za-z0-9_])dapi[a-f0-9]{32}(?:-\d+)?(?![A-Za-z0-9])/g },
  // Heroku: HRKU- platform API tokens
  { kind: 'heroku-token', regex: re(`${START}HRKU-[A-Za-z0-9_-]{30,}`) },
  // Shopify: shpat_ (admin API), shpss_ (shared secret), shpca_ (custom app), shppa_ (private app) + 32 hex
  { kind: 'shopify-token', regex: /(?<![A-Za-z0-9_])shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32,}(?![A-Za-z0-9])/g },
  // Atlassian: API tokens ATATT3…, Bitbucket app passwords ATBB…
  { kind: 'atlassian-token', regex: re(`${START}ATATT3[A-Za-z0-9_=-]{50,}`) },
  { kind: 'atlassian-token', regex: /(?<![A-Za-z0-9_])ATBB[A-Za-z0-9]{28,}(?![A-Za-z0-9])/g },
  // Linear: lin_api_ / lin_oauth_ + 40 base62
  { kind: 'linear-token', regex: /(?<![A-Za-z0-9_])lin_(?:api|oauth)_[A-Za-z0-9]{32,}(?![A-Za-z0-9])/g },
  // Doppler: dp.st.<config>.<40>, dp.pt., dp.sa., dp.ct., dp.scim., dp.audit.
  { kind: 'doppler-token', regex: /(?<![A-Za-z0-9_.])dp\.(?:st|pt|sa|ct|scim|audit)\.(?:[A-Za-z0-9_-]{1,40}\.)?[A-Za-z0-9]{32,}(?![A-Za-z0-9])/g },
  // Azure: Entra ID client secrets <3><digit>Q~<31-34>
  { kind: 'azure-client-secret', regex: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g },
  // Grafana: service account glsa_<32>_<8 hex>, Cloud glc_<base64>
  { kind: 'grafana-token', regex: /(?<![A-Za-z0-9_])glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?![A-Za-z0-9])/g },
  { kind: 'grafana-token', regex: /(?<![A-Za-z0-9_])glc_[A-Za-z0-9+/]{32,}={0,2}/g },
  // Sentry: org auth tokens sntrys_, user tokens sntryu_
  { kind: 'sentry-token', regex: /(?<![A-Za-z0-9_])sntry[su]_[A-Za-z0-9+/=_]{32,}/g },
  // New Relic: NRAK- (user key), NRII- (ingest), NRJS- (browser) + 27
  { kind: 'newrelic-key', regex: /(?<![A-Za-z0-9_-])NR(?:AK|II|JS)-[A-Z0-9]{27,}(?![A-Za-z0-9])/g },
  // Postman: PMAK-<24 hex>-<34 hex>
  { kind: 'postman-key', regex: /(?<![A-Za-z0-9_-])PMAK-[a-f0-9]{24}-[a-f0-9]{34}(?![A-Za-z0-9])/g },
  // Supabase: sbp_ (management) + 40 hex; sb_secret_ API keys
  { kind: 'supabase-key', regex: /(?<![A-Za-z0-9_])(?:sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{20,})(?![A-Za-z0-9])/g },
  // Pulumi: pul- + 40 hex
  { kind: 'pulumi-token', regex: /(?<![A-Za-z0-9_-])pul-[a-f0-9]{40}(?![A-Za-z0-9])/g },
  // Square: sq0atp- (access token), sq0csp- (application secret)
  { kind: 'square-token', regex: re(`${START}sq0(?:atp|csp)-${T}{22,}`) },
  // Telegram bot token: <bot id>:AA<33>
  { kind: 'telegram-bot-token', regex: /(?:(?<=\/bot)|(?<![A-Za-mo-qsu-z0-9_-]|(?<!\\)[nrt]))\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g },
  // Mapbox secret token: sk.eyJ…
  { kind: 'mapbox-token', regex: /(?<![A-Za-z0-9_.-])sk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{10,}/g },
  // JWT (RFC 7519, JWS compact): eyJ<header>.eyJ<payload>.<signature>
  { kind: 'jwt', regex: re(`${START}eyJ${T}{5,}\\.eyJ${T}{5,}\\.${T}*`) },
];

/**
 * In JSON-escaped text (a tool response object is serialized before redaction) a token at the
 * start of a line follows `\n`, whose `n` would fail a "not after a letter" boundary. A leading
 * `(?<![…a-z…])` becomes `(?<![…a-mo-qsu-z…]|(?<!\\)[nrt])`: it still rejects a start after a
 * letter, except after the escapes `\n`, `\r`, `\t`. (One lookbehind, not an alternation of two,
 * which would cost the regex engine its fast scan.)
 */
function escapeAware(regex: RegExp): RegExp {
  const m = /^\(\?<!\[([^\]]*)\]\)/.exec(regex.source);
  if (!m || !m[1]!.includes('a-z')) return regex;
  const without = m[1]!.replace('a-z', 'a-mo-qsu-z');
  return new RegExp(`(?<![${without}]|(?<!\\\\)[nrt])${regex.source.slice(m[0].length)}`, regex.flags);
}

/** Literal text that must occur (case-insensitively) for a pattern to match: a pass is skipped without it. */
function literalHint(source: string): string | undefined {
  const body = source.replace(/^\(\?<!\[[^\]]*\]\)/, '');
  const m = /^(?:[A-Za-z0-9_~-]|\\[./])+/.exec(body);
  const literal = m?.[0].replace(/\\/g, '');
  return literal && literal.length >= 3 ? literal.toLowerCase() : undefined;
}

export interface CompiledPattern extends SecretPattern {
  /** The pattern can only match when the lowercased text contains one of these. */
  hints?: readonly string[];
}

/** Hints for the patterns that do not start with a literal. */
const HINTS: Record<string, readonly string[]> = {
  'url-credentials': ['://'],
  authorization: ['authorization', 'cookie'],
  'aws-signature': ['signature='],
  'aws-access-key': ['akia', 'asia', 'abia', 'acca', 'agpa', 'aida', 'aroa', 'aipa', 'anpa', 'anva', 'apka'],
  'aws-secret-key': ['akia', 'asia', 'access'],
  'github-token': ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  'gitlab-token': ['gl', 'gr1348941'],
  'slack-token': ['xox', 'xapp-'],
  'stripe-key': ['_live_', '_test_', 'whsec_'],
  'twilio-key': ['sk', 'ac'],
  'mailgun-key': ['key-', '-'],
  'huggingface-token': ['hf_', 'api_org_'],
  'vault-token': ['hvs.', 'hvb.', 'hvr.'],
  'terraform-token': ['.atlasv1.'],
  'digitalocean-token': ['_v1_'],
  'shopify-token': ['shp'],
  'atlassian-token': ['atatt3', 'atbb'],
  'linear-token': ['lin_'],
  'doppler-token': ['dp.'],
  'azure-client-secret': ['q~'],
  'grafana-token': ['glsa_', 'glc_'],
  'sentry-token': ['sntry'],
  'newrelic-key': ['nrak-', 'nrii-', 'nrjs-'],
  'supabase-key': ['sbp_', 'sb_secret_'],
  'square-token': ['sq0'],
  'telegram-bot-token': [':aa'],
  'discord-bot-token': ['.'],
  password: ['-u', '--user', 'mysql', 'mariadb', 'sshpass', 'redis-cli', 'pass:', 'htpasswd'],
  secret: ['-', 'env'],
  netrc: ['password'],
  pgpass: [':'],
  cookie: ['\t', '\\t'],
};

export const TOKEN_PATTERNS: readonly CompiledPattern[] = [...RAW_PATTERNS, ...COMMAND_PATTERNS].map((p) => {
  const literal = literalHint(p.regex.source);
  const hints = literal ? [literal] : HINTS[p.kind];
  return { ...p, regex: escapeAware(p.regex), ...(hints ? { hints } : {}) };
});
