-- Webhook attempts whose outcome is unknown (issue 13, docs/operations.md "What each tier
-- guarantees"). A dispatcher stamps attempt_started_at right before it sends (with the renewal of
-- its claim) and clears it when it records the outcome. A row claimed again while the stamp is still
-- there had an attempt that may have reached the receiver without the answer being recorded (its
-- replica was killed or stalled past the lease): it is sent again with the same webhook-id, and
-- in_doubt_attempts counts those re-sends, so every possible duplicate is on record.
ALTER TABLE webhook_outbox
  ADD COLUMN attempt_started_at timestamptz,
  ADD COLUMN in_doubt_attempts  integer NOT NULL DEFAULT 0;
