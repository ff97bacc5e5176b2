import { describe, expect, it } from 'vitest';
import { gzipFor } from '../../../src/agent/otlp-options.js';

describe('gzipFor', () => {
  it('auto: gzip to a remote endpoint, none to this machine', () => {
    for (const url of ['https://otel-gateway.example.internal:4318/v1/traces', 'http://10.0.0.7:4318', 'http://[2001:db8::1]:4318']) expect(gzipFor('auto', url)).toBe(true);
    for (const url of ['http://127.0.0.1:4318/v1/traces', 'http://localhost:4318', 'http://[::1]:4318', 'http://127.3.2.1:9']) expect(gzipFor('auto', url)).toBe(false);
  });
  it('an explicit choice wins, and an unparsable url compresses (the safe side for a remote one)', () => {
    expect(gzipFor('gzip', 'http://127.0.0.1:4318')).toBe(true);
    expect(gzipFor('none', 'https://gateway.example:4318')).toBe(false);
    expect(gzipFor('auto', undefined)).toBe(true);
    expect(gzipFor('auto', 'not a url')).toBe(true);
  });
});
