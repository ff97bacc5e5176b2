-- Durable webhook outbox. One row per (destination, event); webhook_id is stable so
-- receivers can de-duplicate and re-enqueueing the same event is a no-op.
CREATE TABLE webhook_outbox (
  id              bigserial   PRIMARY KEY,
  webhook_id      text        NOT NULL UNIQUE,
  destination     text        NOT NULL,
  event_type      text        NOT NULL,
  body            text        NOT NULL,          -- exact bytes that are signed and sent
  state           text        NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status     integer,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz
);
CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_outbox_dead_idx ON webhook_outbox (updated_at) WHERE state = 'dead';

-- A destination answering 410 Gone is disabled until an operator clears the row.
CREATE TABLE webhook_destination_state (
  destination text        PRIMARY KEY,
  disabled_at timestamptz NOT NULL DEFAULT now(),
  reason      text        NOT NULL
);
