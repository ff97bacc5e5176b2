/**
 * What the agent pushes over OTLP metrics: the model-call meter's scope only (gen_ai.client.*,
 * claude_code.cost.usd, claude_code.token.usage, errors, the open-session cost gauge). The agent's
 * own health metrics (claude_otel.*) stay on its /metrics: pushed too, every agent's would reach
 * Prometheus twice. The SDK has no per-reader instrument filter (views apply to every reader), so
 * this wraps the OTLP exporter and drops the other scopes from each export.
 */
import { ExportResultCode } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';

export const MODEL_CALL_SCOPE = 'claude-otel-bridge/model-calls';

export function onlyScope(inner: PushMetricExporter, scope: string): PushMetricExporter {
  const filtered: PushMetricExporter = {
    export(metrics: ResourceMetrics, done) {
      const scopeMetrics = metrics.scopeMetrics.filter((s) => s.scope.name === scope);
      if (scopeMetrics.length === 0) return done({ code: ExportResultCode.SUCCESS }); // no model call yet: no request
      inner.export({ ...metrics, scopeMetrics }, done);
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
  };
  if (inner.selectAggregationTemporality) filtered.selectAggregationTemporality = inner.selectAggregationTemporality.bind(inner);
  if (inner.selectAggregation) filtered.selectAggregation = inner.selectAggregation.bind(inner);
  return filtered;
}
