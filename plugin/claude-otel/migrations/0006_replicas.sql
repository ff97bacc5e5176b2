-- Several sink replicas share one database (issue 13).
--
-- Retention: every replica runs it hourly. One at a time (a transaction-scoped advisory lock; a
-- replica that finds it taken skips this round), and a partition already dropped by another
-- replica is no error.
CREATE OR REPLACE FUNCTION claude_otel_drop_partitions_before(parent text, cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  n integer := 0;
BEGIN
  IF NOT pg_try_advisory_xact_lock(728374612, hashtext(parent)) THEN
    RETURN 0; -- another replica is dropping this table's partitions right now
  END IF;
  FOR r IN
    SELECT c.relname
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = parent AND c.relname ~ ('^' || parent || '_p[0-9]{8}$')
  LOOP
    IF to_date(right(r.relname, 8), 'YYYYMMDD') < cutoff THEN
      EXECUTE format('DROP TABLE IF EXISTS %I', r.relname);
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END $$;

-- Webhook outbox: a claim carries a token, and only the holder of the current claim may record
-- the outcome. A dispatcher whose lease ran out (stalled, partitioned) and whose row another
-- replica claimed meanwhile can no longer put a delivered row back to pending.
ALTER TABLE webhook_outbox ADD COLUMN claim_token text;
