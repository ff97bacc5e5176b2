-- Log records (point events such as claude_code.hook.PermissionDenied), partitioned by day.
-- record_id is a content hash, so replays do not duplicate.
CREATE TABLE log_records (
  record_id       text        NOT NULL,
  time            timestamptz NOT NULL,
  observed_time   timestamptz,
  trace_id        text,
  span_id         text,
  session_id      text,
  event_name      text,
  severity_text   text,
  severity_number smallint,
  body            jsonb,
  attributes      jsonb       NOT NULL DEFAULT '{}',
  resource        jsonb       NOT NULL DEFAULT '{}',
  ingested_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (record_id, time)
) PARTITION BY RANGE (time);

CREATE INDEX log_records_session_idx ON log_records (session_id, time);
CREATE INDEX log_records_event_idx ON log_records (event_name, time);
