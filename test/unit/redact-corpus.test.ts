// The redaction corpus: fake secrets of every kind the redactor claims to know, in the text tools
// print (test/fixtures/secrets/kinds.json, generated from the providers' documented formats by
// generate-kinds.ts; corpus.json, hand-written), and ordinary text that must survive unchanged
// (negatives.json, corpus.json). Zero leaks, zero changed negatives.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { captureValue, createRedactor } from '../../src/privacy/redact.js';

interface Sample { kind?: string; name: string; text: string; secrets: string[] }
const load = <T>(file: string) => JSON.parse(readFileSync(new URL(`../fixtures/secrets/${file}`, import.meta.url), 'utf8')) as T;
const kinds = load<{ samples: Sample[] }>('kinds.json').samples;
const legacy = load<{ samples: Sample[]; negatives: string[] }>('corpus.json');
const negatives = [...load<{ negatives: string[] }>('negatives.json').negatives, ...legacy.negatives];
const samples: Sample[] = [...kinds, ...legacy.samples.map((s) => ({ ...s, kind: s.kind ?? 'hand-written' }))];

/** Every secret of every sample that is still in the redacted text, as "kind / name: secret…". */
function leaks(redact: (text: string) => string, wrap: (text: string) => string = (t) => t): string[] {
  const found: string[] = [];
  for (const s of samples) {
    const out = redact(wrap(s.text));
    for (const secret of s.secrets) {
      const needle = wrap(secret).replace(/^"|"$/g, '');
      if (out.includes(needle)) found.push(`${s.kind} / ${s.name}: ${secret.slice(0, 24)}…`);
    }
  }
  return found;
}

describe('redaction corpus', () => {
  const redactor = createRedactor();
  const redact = (t: string) => redactor.redact(t).text;

  it('holds at least 150 generated samples across at least 40 kinds, each secret at least 8 characters', () => {
    expect(kinds.length).toBeGreaterThanOrEqual(150);
    expect(new Set(kinds.map((s) => s.kind)).size).toBeGreaterThanOrEqual(40);
    for (const s of samples) {
      expect(s.secrets.length, s.name).toBeGreaterThan(0);
      for (const secret of s.secrets) {
        expect(secret.length, s.name).toBeGreaterThanOrEqual(8);
        expect(s.text, s.name).toContain(secret);
      }
    }
  });

  it('leaks none of the secrets in plain text', () => {
    expect(leaks(redact)).toEqual([]);
  });

  it('leaks none of the secrets once the text is JSON-stringified (a tool response object) or stringified twice', () => {
    expect(leaks(redact, (t) => JSON.stringify(t))).toEqual([]);
    expect(leaks(redact, (t) => JSON.stringify(JSON.stringify(t)))).toEqual([]);
  });

  it('leaks none of the secrets through captureValue (objects are serialized first)', () => {
    const found: string[] = [];
    for (const s of samples) {
      const out = captureValue({ stdout: s.text, stderr: '' }, { maxBytes: 1 << 20, redactor });
      for (const secret of s.secrets) if (out.includes(JSON.stringify(secret).slice(1, -1))) found.push(`${s.kind} / ${s.name}`);
    }
    expect(found).toEqual([]);
  });

  it('marks every sample as redacted', () => {
    for (const s of samples) expect(redact(s.text), s.name).toContain('[REDACTED:');
  });

  for (const negative of negatives) {
    it(`keeps ordinary text unchanged: ${negative.slice(0, 60).replace(/\s+/g, ' ')}`, () => {
      expect(redactor.redact(negative)).toEqual({ text: negative, redactions: 0 });
      const json = JSON.stringify({ output: negative });
      expect(redactor.redact(json).text).toBe(json);
    });
  }
});
