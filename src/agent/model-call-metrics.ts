/**
 * The model-call metrics of the agent (GenAI client conventions plus cost), served with the
 * agent's other metrics on /metrics and pushed over OTLP to the collector when one is configured
 * (their meter's scope only: telemetry.ts, otlp-metrics.ts). Labels are bounded: model, agent type, project (the session's cwd
 * basename), token type, error type; never a session, prompt or response id.
 */
import type { Meter } from '@opentelemetry/api';
import type { ModelCall } from '../model-calls/assembler.js';
import type { AssembleCounters } from '../model-calls/assembler.js';
import type { ReaderCounters } from '../transcript/reader.js';
import { createSummedCounter, sameAttributes } from './summed-counter.js';

export interface CallLabels {
  agentType: string;
  project: string;
}

export interface ModelCallMetrics {
  call(call: ModelCall, costUsd: number | undefined, labels: CallLabels): void;
  error(errorText: string | undefined, labels: CallLabels): void;
  refused(reason: string): void;
}

export interface ModelCallGaugeSources {
  reader: ReaderCounters;
  processor: AssembleCounters;
  maxOpenSessionCost(): number;
}

const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const short = (v: string) => (v.length > 100 ? v.slice(0, 100) : v);

type Attrs = Record<string, string>;
type TokenKind = 'input' | 'cache_read' | 'cache_creation' | 'output';
/** Label sets kept (model × agent type × project); past it, new projects are counted as `(other)`. */
const MAX_LABEL_SETS = 2_000;

/** One label set's attribute objects, built once (they also key its sums in the summed counters). */
interface LabelSet {
  base: Attrs;
  /** Per token type: the histogram's input and output, the counter's four disjoint kinds. */
  byKind: Record<TokenKind, Attrs>;
}

function newLabelSet(base: Attrs): LabelSet {
  const withType = (type: TokenKind) => ({ ...base, 'gen_ai.token.type': type });
  return { base, byKind: { input: withType('input'), cache_read: withType('cache_read'), cache_creation: withType('cache_creation'), output: withType('output') } };
}

/**
 * `meter` carries what the agent pushes over OTLP (tokens, duration, cost, errors, open-session
 * cost); `health` the transcript reader's own counters (claude_otel.*), served on /metrics only.
 * The histograms take every call; the counters are summed counters (./summed-counter.ts): a call
 * adds to plain numbers rather than hashing its attributes five more times.
 */
export function createModelCallMetrics(meter: Meter, sources: ModelCallGaugeSources, health: Meter = meter): ModelCallMetrics {
  const tokens = meter.createHistogram('gen_ai.client.token.usage', {
    description: 'Tokens per model call, by gen_ai.token.type (input includes cache reads and writes)',
    unit: '{token}',
    advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
  });
  const duration = meter.createHistogram('gen_ai.client.operation.duration', {
    description: 'Model call duration, from the request to the last block of the response (transcript times)',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const labelSets = new Map<string, LabelSet>();
  const usage = createSummedCounter(meter, 'claude_code.token.usage', { description: 'Tokens by kind (disjoint): input (uncached), cache_read, cache_creation, output' });
  const cost = createSummedCounter(meter, 'claude_code.cost.usd', { description: 'Cost of the priced model calls, USD (shipped price table or modelCalls.prices)' });
  const unpriced = createSummedCounter(meter, 'claude_code.model_calls.unpriced', { description: 'Model calls whose model has no price (their cost is not counted)' });
  const errors = meter.createCounter('claude_code.model_call.errors', { description: 'Model calls that ended in an API error (StopFailure), by error.type' });
  const refused = health.createCounter('claude_otel.transcripts_refused', { description: 'Transcript paths the agent refused to read, by reason' });
  meter.createObservableGauge('claude_code.open_session.max_cost_usd', { description: 'Highest cost of any open session, USD (for the session budget alert)' })
    .addCallback((r) => r.observe(sources.maxOpenSessionCost()));
  health.createObservableCounter('claude_otel.transcript_records_skipped', { description: 'Transcript lines not used: unknown record types, malformed or oversized lines' })
    .addCallback((r) => {
      const other = Object.values(sources.processor.otherTypes).reduce((a, b) => a + b, 0);
      r.observe(other, { reason: 'other_type' });
      r.observe(sources.reader.malformed, { reason: 'malformed' });
      r.observe(sources.reader.oversized, { reason: 'oversized' });
    });
  health.createObservableCounter('claude_otel.transcript_bytes', { description: 'Transcript bytes read' })
    .addCallback((r) => r.observe(sources.reader.bytes));

  const labelSetOf = (model: string, agentType: string, project: string): LabelSet => {
    const key = `${model}\u0000${agentType}\u0000${project}`;
    let set = labelSets.get(key);
    if (set) return set;
    if (labelSets.size >= MAX_LABEL_SETS && project !== '(other)') return labelSetOf(model, agentType, '(other)');
    set = newLabelSet({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': model, 'claude_code.agent.type': agentType, 'claude_code.project': project });
    labelSets.set(key, set);
    return set;
  };

  return {
    call(call, costUsd, labels) {
      const set = labelSetOf(short(call.requestModel ?? call.responseModel ?? 'unknown'), short(labels.agentType), short(labels.project));
      const u = call.usage;
      const { base, byKind } = set;
      tokens.record(u.input + u.cacheRead + u.cacheCreation, byKind.input);
      tokens.record(u.output, byKind.output);
      duration.record(Math.max(0, call.endMs - call.startMs) / 1000, base);
      if (u.input > 0) usage.add(byKind.input, u.input, sameAttributes);
      if (u.cacheRead > 0) usage.add(byKind.cache_read, u.cacheRead, sameAttributes);
      if (u.cacheCreation > 0) usage.add(byKind.cache_creation, u.cacheCreation, sameAttributes);
      if (u.output > 0) usage.add(byKind.output, u.output, sameAttributes);
      if (costUsd !== undefined) cost.add(base, costUsd, sameAttributes);
      else unpriced.add(base, 1, sameAttributes);
    },
    error(errorText, labels) {
      const type = errorText && /^[a-z0-9_]{1,40}$/.test(errorText) ? errorText : 'other';
      errors.add(1, { 'error.type': type, 'claude_code.agent.type': short(labels.agentType), 'claude_code.project': short(labels.project) });
    },
    refused: (reason) => refused.add(1, { reason }),
  };
}
