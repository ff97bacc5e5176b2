-- Model calls and cost as columns (docs/trace-model.md, "Model calls and roll-ups"): on a `chat`
-- span (kind 'model_call') its own models, tokens and cost; on turn, subagent, session and segment
-- spans the roll-up the agent put there. The sink fills them from the span attributes
-- (src/sink/usage.ts); rows written before this migration are filled from their attributes below,
-- by the same rules (a value that is not a count or a cost ≥ 0 stays NULL, and in `attributes`).
-- Adding nullable columns without a default rewrites nothing; the UPDATE touches only the rows
-- that carry such attributes (it reads each partition once).
ALTER TABLE spans
  ADD COLUMN request_model         text,
  ADD COLUMN response_model        text,
  ADD COLUMN input_tokens          bigint,   -- gen_ai.usage.input_tokens: input incl. cache reads and writes
  ADD COLUMN output_tokens         bigint,
  ADD COLUMN cache_read_tokens     bigint,
  ADD COLUMN cache_creation_tokens bigint,
  ADD COLUMN cost_usd              numeric,  -- claude_code.cost.usd (exact decimal of what was sent)
  ADD COLUMN model_calls           integer;  -- claude_code.model_calls; 1 on a chat span

CREATE FUNCTION claude_otel_count(v jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::numeric >= 0 AND v::numeric = trunc(v::numeric)
                   AND v::numeric <= 9007199254740991
              THEN v::numeric::bigint END
$$;

CREATE FUNCTION claude_otel_cost(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(v) = 'number' AND v::numeric >= 0 THEN v::numeric END
$$;

UPDATE spans SET
  request_model         = nullif(attributes ->> 'gen_ai.request.model', ''),
  response_model        = nullif(attributes ->> 'gen_ai.response.model', ''),
  input_tokens          = claude_otel_count(attributes -> 'gen_ai.usage.input_tokens'),
  output_tokens         = claude_otel_count(attributes -> 'gen_ai.usage.output_tokens'),
  cache_read_tokens     = claude_otel_count(attributes -> 'gen_ai.usage.cache_read.input_tokens'),
  cache_creation_tokens = claude_otel_count(attributes -> 'gen_ai.usage.cache_creation.input_tokens'),
  cost_usd              = claude_otel_cost(attributes -> 'claude_code.cost.usd'),
  model_calls           = CASE WHEN kind = 'model_call' THEN 1
                               ELSE claude_otel_count(attributes -> 'claude_code.model_calls') END
WHERE attributes ?| ARRAY['gen_ai.request.model', 'gen_ai.response.model', 'gen_ai.usage.input_tokens',
                          'gen_ai.usage.output_tokens', 'gen_ai.usage.cache_read.input_tokens',
                          'gen_ai.usage.cache_creation.input_tokens', 'claude_code.cost.usd',
                          'claude_code.model_calls'];

-- Cost per day by project and model, cache hit ratio: the model calls by time.
CREATE INDEX spans_model_call_time_idx ON spans (start_time)
  INCLUDE (session_id, request_model, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, cost_usd)
  WHERE kind = 'model_call';
-- The most expensive turns, subagents and sessions: roll-up spans by cost.
CREATE INDEX spans_rollup_cost_idx ON spans (kind, cost_usd DESC)
  INCLUDE (session_id, start_time)
  WHERE cost_usd IS NOT NULL AND kind IN ('turn', 'subagent', 'session', 'segment');

-- session_summaries, version 2: the columns of 0003 unchanged, then the session's project, model
-- calls, tokens (sums over its chat spans) and cost: the figure of its last closed root or resumed
-- segment (which carries the session's cumulative roll-up; on the root Claude Code's own total when
-- the transcript states it), or, while none has closed, the sum of its priced calls.
CREATE OR REPLACE VIEW session_summaries AS
SELECT
  s.session_id,
  min(s.trace_id)                                             AS trace_id,
  min(s.start_time)                                           AS started_at,
  max(coalesce(s.end_time, s.start_time))                     AS ended_at,
  max(s.duration_ms) FILTER (WHERE s.parent_span_id IS NULL)  AS root_duration_ms,
  extract(epoch FROM max(coalesce(s.end_time, s.start_time)) - min(s.start_time)) * 1000 AS wall_ms,
  count(*) FILTER (WHERE s.kind = 'turn')                     AS turns,
  count(*) FILTER (WHERE s.kind = 'tool')                     AS tool_calls,
  count(*) FILTER (WHERE s.kind = 'tool' AND s.status = 'error') AS tool_errors,
  count(*) FILTER (WHERE s.kind = 'subagent')                 AS subagents,
  count(*) FILTER (WHERE s.kind = 'turn' AND s.status = 'error') AS failed_turns,
  coalesce(sum(s.duration_ms) FILTER (WHERE s.kind = 'tool'), 0) AS tool_time_ms,
  bool_or(s.parent_span_id IS NULL AND s.end_time IS NOT NULL) AS ended,
  regexp_replace(min(s.attributes ->> 'claude_code.cwd') FILTER (WHERE s.parent_span_id IS NULL), '^.*/', '') AS project,
  count(*) FILTER (WHERE s.kind = 'model_call')               AS model_calls,
  count(*) FILTER (WHERE s.kind = 'model_call' AND s.cost_usd IS NULL) AS unpriced_calls,
  coalesce(sum(s.input_tokens) FILTER (WHERE s.kind = 'model_call'), 0)          AS input_tokens,
  coalesce(sum(s.output_tokens) FILTER (WHERE s.kind = 'model_call'), 0)         AS output_tokens,
  coalesce(sum(s.cache_read_tokens) FILTER (WHERE s.kind = 'model_call'), 0)     AS cache_read_tokens,
  coalesce(sum(s.cache_creation_tokens) FILTER (WHERE s.kind = 'model_call'), 0) AS cache_creation_tokens,
  coalesce(
    (array_agg(s.cost_usd ORDER BY s.end_time DESC)
       FILTER (WHERE s.kind IN ('session', 'segment') AND s.cost_usd IS NOT NULL AND s.end_time IS NOT NULL))[1],
    sum(s.cost_usd) FILTER (WHERE s.kind = 'model_call'))     AS cost_usd,
  coalesce(
    (array_agg(s.attributes ->> 'claude_code.cost.source' ORDER BY s.end_time DESC)
       FILTER (WHERE s.kind IN ('session', 'segment') AND s.cost_usd IS NOT NULL AND s.end_time IS NOT NULL))[1],
    CASE WHEN bool_or(s.kind = 'model_call' AND s.cost_usd IS NOT NULL) THEN 'price_table' END) AS cost_source
FROM spans s
WHERE s.session_id IS NOT NULL
GROUP BY s.session_id;
