import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capValue, captureValue, createRedactor, compileExtraPatterns } from '../../src/privacy/redact.js';

interface Corpus {
  samples: { name: string; text: string; secrets: string[] }[];
  negatives: string[];
}

const corpus = JSON.parse(
  readFileSync(new URL('../fixtures/secrets/corpus.json', import.meta.url), 'utf8'),
) as Corpus;

describe('createRedactor', () => {
  const redactor = createRedactor();

  it('has a corpus of at least 40 samples', () => {
    expect(corpus.samples.length).toBeGreaterThanOrEqual(40);
  });

  for (const sample of corpus.samples) {
    it(`removes the secret: ${sample.name}`, () => {
      const { text, redactions } = redactor.redact(sample.text);
      for (const secret of sample.secrets) expect(text).not.toContain(secret);
      expect(redactions).toBeGreaterThan(0);
      expect(text).toContain('[REDACTED:');
    });
  }

  for (const negative of corpus.negatives) {
    it(`keeps ordinary text: ${negative.slice(0, 50)}`, () => {
      expect(redactor.redact(negative)).toEqual({ text: negative, redactions: 0 });
    });
  }

  it('keeps secrets out when the text is JSON-stringified again (escaped quotes and newlines)', () => {
    for (const sample of corpus.samples) {
      const { text } = redactor.redact(JSON.stringify({ output: sample.text }));
      for (const secret of sample.secrets) expect(text, sample.name).not.toContain(secret);
    }
  });

  it('names the kind of secret and keeps the surrounding structure', () => {
    const input = 'aws_access_key_id = AKIAABCDEFGHIJ234567\nregion = eu-west-1';
    expect(redactor.redact(input).text).toBe('aws_access_key_id = [REDACTED:aws-access-key]\nregion = eu-west-1');
    expect(redactor.redact('DB_PASSWORD="s3cr3tPassw0rd" make').text).toBe('DB_PASSWORD="[REDACTED:secret]" make');
    expect(redactor.redact('postgres://app:pa55word@db:5432/x').text).toBe(
      'postgres://app:[REDACTED:url-credentials]@db:5432/x',
    );
  });

  it('counts each redaction', () => {
    const r = redactor.redact('a ghp_aaaaBBBBccccDDDDeeeeFFFF0000111122223 b ghp_zzzzYYYYxxxxWWWWvvvvUUUU9999888877776');
    expect(r.redactions).toBe(2);
  });

  it('applies extra patterns from config', () => {
    const custom = createRedactor({ extraPatterns: ['ACME-[0-9]{6}'] });
    expect(custom.redact('ticket ACME-123456 opened').text).toBe('ticket [REDACTED:custom] opened');
  });

  it('rejects an invalid or empty-matching extra pattern, naming its index', () => {
    expect(() => compileExtraPatterns(['ok', '('])).toThrow(/redaction\.extraPatterns\.1/);
    expect(() => compileExtraPatterns(['a*'])).toThrow(/empty string/);
  });

  describe('adversarial 1 MB inputs finish (linear passes)', () => {
    const MB = 1024 * 1024;
    const cases: [string, string][] = [
      ['repeated jwt prefixes', 'eyJ'],
      ['repeated jwt halves', 'eyJabcdef.'],
      ['repeated anthropic prefix', 'sk-ant-'],
      ['repeated openai prefix', 'sk-'],
      ['repeated PEM begin', '-----BEGIN PRIVATE KEY-----\n'],
      ['repeated assignments', 'password='],
      ['repeated name without separator', 'api_key_api_key_'],
      ['repeated url scheme', 'a://b:c'],
      ['repeated bearer', 'Bearer '],
      ['repeated basic', 'Basic QUJD'],
      ['repeated flags', '--token '],
      ['repeated quotes', '"password": "'],
      ['one long token run', 'A'],
      ['repeated AKIA', 'AKIA'],
    ];
    for (const [name, unit] of cases) {
      it(name, { timeout: 20_000 }, () => {
        const input = unit.repeat(Math.ceil(MB / unit.length));
        const { text } = redactor.redact(input);
        expect(text.length).toBeGreaterThan(0);
        expect(text.length).toBeLessThanOrEqual(input.length * 30);
      });
    }
  });
});

describe('adversarial 69k-character inputs (the pre-cut size): every detector stays linear and consumes whole runs', () => {
  const redactor = createRedactor();
  const N = 69_632;
  const fill = (unit: string, n = N) => unit.repeat(Math.ceil(n / unit.length));
  const pem = `-----BEGIN RSA PRIVATE KEY-----\n${'MIIEow'.repeat(1000)}\n-----END RSA PRIVATE KEY-----\n`;
  const exact: [string, string, string][] = [
    ['one long run', fill('A'), fill('A')],
    ['a bearer token of 69k characters (no tail survives)', `Bearer ${fill('a1')}`, 'Bearer [REDACTED:bearer-token]'],
    ['a GitHub token of 69k characters', `ghp_${fill('a1')}`, '[REDACTED:github-token]'],
    ['a JWT of 69k characters', `eyJ${fill('a', N / 2)}.eyJ${fill('b', N / 2)}.sig`, '[REDACTED:jwt]'],
    ['an assignment whose value is 69k characters', `password=${fill('a1')}`, 'password=[REDACTED:secret]'],
    ['a placeholder of 69k characters', `password=${fill('x')}`, `password=${fill('x')}`],
    ['repeated assignments: the first value is the rest of the run', fill('password='), 'password=[REDACTED:secret]'],
    ['repeated weak names with word values', fill('key='), fill('key=')],
    ['a cookie header of 69k characters', `Cookie: a=${fill('b')}`, 'Cookie: [REDACTED:cookie]'],
    ['URL credentials with a 69k-character password', `https://u:${fill('p')}@h`, 'https://u:[REDACTED:url-credentials]@h'],
    ['URL userinfo without @', `https://u:${fill('p')}`, `https://u:${fill('p')}`],
    ['repeated base64 "-----BEGIN" prefixes (not a key)', fill('LS0tLS1CRUdJTi'), fill('LS0tLS1CRUdJTi')],
    ['a base64 PEM key of 69k characters', `client-key-data: ${Buffer.from(pem.repeat(10)).toString('base64')}`, 'client-key-data: [REDACTED:private-key]'],
    ['an unclosed XML element', fill('<password>'), fill('<password>')],
    ['repeated escaped newlines', fill('\\n'), fill('\\n')],
    ['repeated Signature= (a weak name whose value is words)', fill('Signature='), fill('Signature=')],
    ['repeated AKIA', fill('AKIA'), fill('AKIA')],
    ['repeated name/value pair names', fill('- name: DB_PASSWORD\n'), fill('- name: DB_PASSWORD\n')],
    ['repeated password words (netrc without a value at line end)', fill('password '), fill('password ')],
    ['repeated flags without values', fill('--password --token '), fill('--password --token ')],
  ];
  for (const [name, input, expected] of exact) {
    it(name, () => {
      expect(redactor.redact(input).text).toBe(expected);
    });
  }

  const noSecretLeft: [string, string, RegExp][] = [
    ['repeated mysql -p', fill('mysql -pS3cretpw '), /S3cretpw/],
    ['repeated sshpass -p', fill("sshpass -p 'S3cretpw' "), /S3cretpw/],
    ['repeated redis-cli -a', fill('redis-cli -a S3cretpw '), /S3cretpw/],
    ['repeated htpasswd -b', fill('htpasswd -b f u S3cretpw '), /S3cretpw/],
    ['repeated netrc lines', fill('machine h login u password S3cretpw\n'), /S3cretpw/],
    ['repeated pgpass lines', fill('h:5432:db:u:S3cretpw\n'), /S3cretpw/],
    ['repeated XML elements', fill('<password>S3cretpw</password>'), /S3cretpw/],
    ['repeated name/value pairs', fill('- name: DB_PASSWORD\n  value: S3cretpw\n'), /S3cretpw/],
    ['repeated quoted JSON pairs', fill('"password": "S3cretpw", '), /S3cretpw/],
    ['repeated escaped JSON pairs', fill('\\"token\\": \\"S3cretpw\\", '), /S3cretpw/],
    ['repeated Set-Cookie lines', fill('Set-Cookie: sid=S3cretpw\n'), /S3cretpw/],
    ['repeated query strings', fill('?sig=S3cretpwS3cretpwAB12&token=S3cretpw'), /S3cretpw/],
  ];
  for (const [name, input, secret] of noSecretLeft) {
    it(name, () => {
      const { text, redactions } = redactor.redact(input);
      expect(text).not.toMatch(secret);
      expect(redactions).toBeGreaterThan(100);
    });
  }
});

describe('capValue', () => {
  it('returns short text unchanged', () => {
    expect(capValue('hello', 10)).toBe('hello');
  });

  it('truncates to maxBytes including the marker', () => {
    const out = capValue('x'.repeat(10_000), 100);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(100);
    expect(out).toMatch(/…\[truncated \d+ bytes\]$/);
    const kept = out.indexOf('…');
    expect(out).toContain(`[truncated ${10_000 - kept} bytes]`);
  });

  it('never splits a multi-byte character', () => {
    const text = '€😀'.repeat(1000);
    for (let max = 40; max < 80; max++) {
      const out = capValue(text, max);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(max);
      expect(out).not.toContain('\uFFFD');
      expect(text.startsWith(out.slice(0, out.indexOf('…')))).toBe(true);
    }
  });

  it('cuts without a marker when the limit is smaller than the marker', () => {
    expect(capValue('abcdefghijklmnopqrstuvwxyz'.repeat(3), 5)).toBe('abcde');
  });
});

describe('captureValue', () => {
  const redactor = createRedactor();

  it('stringifies, redacts, then caps', () => {
    const out = captureValue({ command: 'export GITHUB_TOKEN=ghp_aaaaBBBBccccDDDDeeeeFFFF0000111122223' }, { maxBytes: 4096, redactor });
    expect(out).toBe('{"command":"export GITHUB_TOKEN=[REDACTED:github-token]"}');
  });

  it('handles circular values and bigints', () => {
    const a: Record<string, unknown> = { n: 10n };
    a.self = a;
    expect(captureValue(a, { maxBytes: 100, redactor })).toBe('{"n":"10","self":"[Circular]"}');
  });

  it('does not leak a secret that straddles the cap', () => {
    const secret = 'ghp_aaaaBBBBccccDDDDeeeeFFFF0000111122223';
    const out = captureValue('x'.repeat(90) + ' ' + secret, { maxBytes: 200, redactor });
    expect(out).not.toContain('BBBBcccc');
  });

  it('caps very large values and still redacts the kept part', () => {
    const secret = 'sk-ant-api03-' + 'Ab1'.repeat(30);
    const big = `${secret} ${'y'.repeat(5 * 1024 * 1024)}`;
    const out = captureValue(big, { maxBytes: 4096, redactor });
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(4096);
    expect(out.startsWith('[REDACTED:anthropic-api-key]')).toBe(true);
    expect(out).toMatch(/truncated \d+ bytes/);
  });
});
