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

/**
 * `meter` carries what the agent pushes over OTLP (tokens, duration, cost, errors, open-session
 * cost); `health` the transcript reader's own counters (claude_otel.*), served on /metrics only.
 */
export function createModelCallMetrics(meter: Meter, sources: ModelCallGaugeSources, health: Meter = meter): ModelCallMetrics {
  const tokens = meter.createHistogram('gen_ai.client.token.usage', {
    description: 'Tokens per model call, by gen_ai.token.type (input includes cache reads and writes)',
    unit: '{token}',
    advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
  });
  const cacheTokens = meter.createCounter('claude_code.token.usage', {
    description: 'Tokens by kind (disjoint): input (uncached), cache_read, cache_creation, output',
  });
  const duration = meter.createHistogram('gen_ai.client.operation.duration', {
    description: 'Model call duration, from the request to the last block of the response (transcript times)',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const cost = meter.createCounter('claude_code.cost.usd', { description: 'Cost of the priced model calls, USD (shipped price table or modelCalls.prices)' });
  const unpriced = meter.createCounter('claude_code.model_calls.unpriced', { description: 'Model calls whose model has no price (their cost is not counted)' });
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
  return {
    call(call, costUsd, labels) {
      const model = short(call.requestModel ?? call.responseModel ?? 'unknown');
      const base = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'anthropic', 'gen_ai.request.model': model, 'claude_code.agent.type': short(labels.agentType), 'claude_code.project': short(labels.project) };
      const u = call.usage;
      tokens.record(u.input + u.cacheRead + u.cacheCreation, { ...base, 'gen_ai.token.type': 'input' });
      tokens.record(u.output, { ...base, 'gen_ai.token.type': 'output' });
      for (const [kind, n] of [['input', u.input], ['cache_read', u.cacheRead], ['cache_creation', u.cacheCreation], ['output', u.output]] as const) {
        if (n > 0) cacheTokens.add(n, { ...base, 'gen_ai.token.type': kind });
      }
      duration.record(Math.max(0, call.endMs - call.startMs) / 1000, base);
      if (costUsd !== undefined) cost.add(costUsd, base);
      else unpriced.add(1, base);
    },
    error(errorText, labels) {
      const type = errorText && /^[a-z0-9_]{1,40}$/.test(errorText) ? errorText : 'other';
      errors.add(1, { 'error.type': type, 'claude_code.agent.type': short(labels.agentType), 'claude_code.project': short(labels.project) });
    },
    refused: (reason) => refused.add(1, { reason }),
  };
}
