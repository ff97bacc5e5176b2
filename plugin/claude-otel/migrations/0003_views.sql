-- One row per session: the root span's time plus counts over its spans.
CREATE VIEW session_summaries AS
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
  bool_or(s.parent_span_id IS NULL AND s.end_time IS NOT NULL) AS ended
FROM spans s
WHERE s.session_id IS NOT NULL
GROUP BY s.session_id;

-- One row per tool over all retained data.
CREATE VIEW tool_stats AS
SELECT
  tool_name,
  count(*)                                                   AS calls,
  count(*) FILTER (WHERE status = 'error')                   AS errors,
  round((count(*) FILTER (WHERE status = 'error'))::numeric / count(*), 4) AS error_rate,
  percentile_cont(0.5)  WITHIN GROUP (ORDER BY duration_ms)  AS p50_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)  AS p95_ms,
  max(duration_ms)                                           AS max_ms,
  count(*) FILTER (WHERE performance_category IN ('slow', 'very_slow')) AS slow_calls,
  max(start_time)                                            AS last_seen
FROM spans
WHERE tool_name IS NOT NULL
GROUP BY tool_name;
