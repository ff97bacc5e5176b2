-- Spans, partitioned by day on start_time. Promoted columns for the common queries;
-- everything else stays in jsonb. Idempotent ingest: (trace_id, span_id, start_time) is the key.
CREATE TABLE spans (
  trace_id             text        NOT NULL,
  span_id              text        NOT NULL,
  parent_span_id       text,
  session_id           text,
  name                 text        NOT NULL,
  kind                 text,               -- claude_code.span.kind
  otel_kind            smallint    NOT NULL DEFAULT 0,
  start_time           timestamptz NOT NULL,
  end_time             timestamptz,
  duration_ms          double precision,
  status               text        NOT NULL DEFAULT 'unset',
  status_message       text,
  error_type           text,
  tool_name            text,
  operation            text,
  agent_type           text,
  prompt_id            text,
  performance_category text,
  scope                text,
  attributes           jsonb       NOT NULL DEFAULT '{}',
  resource             jsonb       NOT NULL DEFAULT '{}',
  events               jsonb       NOT NULL DEFAULT '[]',
  ingested_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (trace_id, span_id, start_time)
) PARTITION BY RANGE (start_time);

-- All spans of a session as a tree (ordered by time; parent_span_id links them).
CREATE INDEX spans_session_idx ON spans (session_id, start_time);
-- Slowest tools in the last 24 h, error rate per tool per hour: tool spans by time.
CREATE INDEX spans_tool_time_idx ON spans (start_time)
  INCLUDE (tool_name, duration_ms, status, error_type) WHERE tool_name IS NOT NULL;
CREATE INDEX spans_tool_name_idx ON spans (tool_name, start_time) WHERE tool_name IS NOT NULL;
-- Sessions by total time: root spans by duration.
CREATE INDEX spans_root_duration_idx ON spans (duration_ms DESC)
  INCLUDE (session_id, start_time) WHERE parent_span_id IS NULL;

-- Creates the daily partition holding `day` (no-op when it exists; safe under concurrency).
CREATE FUNCTION claude_otel_ensure_partition(parent text, day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  child text := format('%s_p%s', parent, to_char(day, 'YYYYMMDD'));
BEGIN
  IF to_regclass(child) IS NOT NULL THEN
    RETURN child;
  END IF;
  BEGIN
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   child, parent, day::timestamptz, (day + 1)::timestamptz);
  EXCEPTION WHEN duplicate_table OR unique_violation THEN
    NULL; -- created concurrently by another writer
  END;
  RETURN child;
END $$;

-- Drops daily partitions that end on or before `cutoff`. Returns the number dropped.
CREATE FUNCTION claude_otel_drop_partitions_before(parent text, cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n integer := 0;
BEGIN
  FOR r IN
    SELECT c.relname
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = parent AND c.relname ~ ('^' || parent || '_p[0-9]{8}$')
  LOOP
    IF to_date(right(r.relname, 8), 'YYYYMMDD') < cutoff THEN
      EXECUTE format('DROP TABLE %I', r.relname);
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END $$;
