/**
 * What the agent pushes over OTLP metrics: the model-call meter's scope only (gen_ai.client.*,
 * claude_code.cost.usd, claude_code.token.usage, errors, the open-session cost gauge). The agent's
 * own health metrics (claude_otel.*) stay on its /metrics: pushed too, every agent's would reach
 * Prometheus twice. The SDK has no per-reader instrument filter, so the model-call instruments live
 * on a meter provider of their own (telemetry.ts), the only one the OTLP reader reads.
 */
export const MODEL_CALL_SCOPE = 'claude-otel-bridge/model-calls';
