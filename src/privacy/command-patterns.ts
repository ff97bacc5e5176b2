/**
 * Secrets in command lines and credential files: `curl -u`, `mysql -p…`, `sshpass -p`,
 * `redis-cli -a`, `openssl pass:`, `htpasswd -b`, `--password x`, `.netrc`, `.pgpass`, Netscape
 * cookie jars and Dockerfile `ENV NAME value`. Data for the engine, like patterns.ts.
 */
import { SHELL_WORD, keepPrefix, re, redactionMarker, unquote, type SecretPattern } from './pattern-kit.js';
import { isPlaceholder, looksRandom, nameStrength } from './secret-names.js';

export const COMMAND_PATTERNS: readonly SecretPattern[] = [
  // --- CLI password arguments
  // curl -u user:password / --user user:password; smbclient -U user%password
  { kind: 'password', regex: /(?<![A-Za-z0-9_-])((?:-u|--user)[ \t]{1,8}\\{0,7}["']?[^\s:"'\\]{1,256}:)([^\s"'\\]+)/g, replace: keepPrefix('password') },
  { kind: 'password', regex: /(?<![A-Za-z0-9_-])((?:-U|--user)[ \t]{1,8}\\{0,7}["']?[^\s%"'\\]{1,256}%)([^\s"'\\]+)/g, replace: keepPrefix('password') },
  // mysql/mariadb clients: -p<password> (no space; `-p` alone prompts)
  {
    kind: 'password',
    regex: /(?<![A-Za-z0-9_-])((?:mysql(?:dump|admin|import|show|check|pump|sh)?|mariadb(?:-dump|-admin)?)\b[^\r\n|;&]{0,300}?[ \t]-p)((?:'[^'\r\n]*'|"[^"\r\n]*"|[^\s"'\\|;&]+))/g,
    replace: keepPrefix('password'),
  },
  // sshpass -p <password>; redis-cli -a <password>; openssl -passin/-passout pass:<password>
  { kind: 'password', regex: re(`(?<![A-Za-z0-9_-])(sshpass\\b[^\\r\\n|;&]{0,200}?[ \\t]-p[ \\t]*)(${SHELL_WORD})`), replace: keepPrefix('password') },
  { kind: 'password', regex: re(`(?<![A-Za-z0-9_-])(redis-cli\\b[^\\r\\n|;&]{0,300}?[ \\t]-a[ \\t]+)(${SHELL_WORD})`), replace: keepPrefix('password') },
  { kind: 'password', regex: /(?<![A-Za-z0-9_-])(-pass(?:in|out)?[ \t]+pass:)([^\s"'\\]+)/g, replace: keepPrefix('password') },
  // htpasswd -b[cBmsp…] file user password / htpasswd -nb user password
  {
    kind: 'password',
    regex: re(`(?<![A-Za-z0-9_-])htpasswd((?:[ \\t]+-[A-Za-z]+){1,6})[ \\t]+(${SHELL_WORD})[ \\t]+(${SHELL_WORD})(?:[ \\t]+(${SHELL_WORD}))?`),
    replace: (m, g) => {
      const flags = g[0] ?? '';
      if (!/b/.test(flags)) return m;
      const secret = /n/.test(flags) ? g[2] : g[3];
      if (secret === undefined || isPlaceholder(unquote(secret))) return m;
      const at = m.lastIndexOf(secret);
      return m.slice(0, at) + redactionMarker('password') + m.slice(at + secret.length);
    },
  },
  // --password x, --api-key x, -storepass x (the `=` form is left to the assignment scanner)
  {
    kind: 'secret',
    regex: re(`(?<![A-Za-z0-9_-])(--?[A-Za-z][A-Za-z0-9_-]{0,40})([ \\t]{1,8})(${SHELL_WORD})`),
    replace: (m, g) => {
      const [flag = '', , word = ''] = g;
      const strength = nameStrength(flag);
      const value = unquote(word);
      if (strength === 'none' || word.startsWith('-') || isPlaceholder(value)) return m;
      if (strength === 'weak' && !looksRandom(value)) return m;
      return m.slice(0, m.length - word.length) + redactionMarker('secret');
    },
  },

  // --- Credential files
  // ~/.netrc: "machine h login u password X" (one line), or "password X" on its own line
  { kind: 'netrc', regex: /(?<![A-Za-z0-9_-])(login[ \t]+\S+[ \t]+password[ \t]+)([^\s"'\\]+)/g, replace: keepPrefix('netrc') },
  { kind: 'netrc', regex: /(password(?<=(?:^|[\r\n"]|\\n)[ \t]{0,20}password)[ \t]+)([^\s"'\\]+)(?=[ \t]*(?:$|[\r\n]|\\[nr]|"))/g, replace: keepPrefix('netrc') },
  // ~/.pgpass: hostname:port:database:username:password (the line break before it is matched, not looked behind: cheaper)
  {
    kind: 'pgpass',
    regex: /(^|[\r\n"]|\\n)([A-Za-z0-9_.*-]{1,253}:(?:[1-9]\d{0,4}|\*):[A-Za-z0-9_.*-]{1,63}:[A-Za-z0-9_.*@-]{1,63}:)([^\s"\\]+)(?=$|[\r\n]|\\[nr]|")/g,
    // An IPv6 address (2001:4888:50:ff00:…) has the same shape: its first group is 1-4 hex digits.
    replace: (m, g) => (/^[0-9a-f]{1,4}:/i.test(g[1] ?? '') ? m : keepPrefix('pgpass')(m, g)),
  },
  // Netscape cookie jar (curl -c, wget): domain TRUE path FALSE expiry name value
  {
    kind: 'cookie',
    regex: /(^|[\r\n"]|\\n)((?:#HttpOnly_)?[A-Za-z0-9.-]{1,253}(?:\t|\\t)(?:TRUE|FALSE)(?:\t|\\t)[^\t\r\n\\]{1,512}(?:\t|\\t)(?:TRUE|FALSE)(?:\t|\\t)\d{1,12}(?:\t|\\t)[^\t\r\n\\]{1,256}(?:\t|\\t))([^\t\r\n\\]+)/g,
    replace: keepPrefix('cookie'),
  },
  // Dockerfile legacy form: ENV NAME value (the literal comes first so the engine can scan for it)
  {
    kind: 'secret',
    regex: /ENV(?<=(?:^|[\r\n"]|\\n)[ \t]{0,20}ENV)([ \t]+([A-Za-z_][A-Za-z0-9_]{0,80})[ \t]+)([^\s"'\\=][^\s"'\\]*)/g,
    replace: (m, g) => (nameStrength(g[1] ?? '') === 'strong' && !isPlaceholder(g[2] ?? '') ? `ENV${g[0]}${redactionMarker('secret')}` : m),
  },
];
