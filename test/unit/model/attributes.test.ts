/** The GenAI attribute names copied into src/model/attributes.ts are the ones semconv 1.45.0 defines. */
import { describe, expect, it } from 'vitest';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import * as ours from '../../../src/model/attributes.js';

describe('attribute vocabulary', () => {
  it('matches @opentelemetry/semantic-conventions/incubating for every copied GenAI constant', () => {
    const copied = Object.entries(ours).filter(([k]) => k.startsWith('ATTR_') || k.startsWith('GEN_AI_'));
    expect(copied.length).toBeGreaterThan(8);
    for (const [name, value] of copied) expect([name, (incubating as Record<string, unknown>)[name]]).toEqual([name, value]);
  });
});
