-- Exact span counts (issue 13, docs/operations.md "Counts that are exact").
--
-- Delivery between the collector tiers is at-least-once: a batch a gateway re-sends, or one a
-- killed backend replays from its queue, reaches the span-metrics connector twice and is counted
-- twice; a killed backend loses the counts it had not yet been scraped for. The one place where a
-- span is known to be new is its insert here (ON CONFLICT DO NOTHING on the span's key), so this is
-- where exact counts are kept: the sink's insert statement adds the rows it actually inserted to
-- this table in the same statement (src/sink/postgres/sink.ts), whichever replica wrote them. The
-- sink serves the totals as `claude_otel_stored_spans_total` (the same value on every replica).
-- Retention drops span partitions and leaves these counters alone: they only grow.
CREATE TABLE span_counts (
  service_name    text             NOT NULL,
  span_name       text             NOT NULL,
  span_kind       text             NOT NULL,  -- claude_code.span.kind, '' when absent
  status          text             NOT NULL,  -- unset | ok | error
  tool_name       text             NOT NULL,  -- gen_ai.tool.name, '' when absent
  calls           bigint           NOT NULL,
  duration_ms_sum double precision NOT NULL,
  PRIMARY KEY (service_name, span_name, span_kind, status, tool_name)
);

-- The spans already stored (what retention kept) are the starting counts.
INSERT INTO span_counts (service_name, span_name, span_kind, status, tool_name, calls, duration_ms_sum)
SELECT coalesce(resource->>'service.name', ''), name, coalesce(kind, ''), status, coalesce(tool_name, ''),
       count(*), coalesce(sum(duration_ms), 0)
FROM spans
GROUP BY 1, 2, 3, 4, 5;
