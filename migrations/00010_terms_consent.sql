-- +goose Up
-- When the client accepted the terms of service at checkout (Stripe's
-- consent), the evidence a coach shows in a dispute.
ALTER TABLE packs ADD COLUMN terms_accepted_at timestamptz;
-- Payments that belong to no pack are looked for on every event.
CREATE INDEX payments_unmatched_idx ON payments (occurred_at) WHERE pack_id IS NULL AND status IN ('unmatched', 'unpaired');

-- +goose Down
DROP INDEX payments_unmatched_idx;
ALTER TABLE packs DROP COLUMN terms_accepted_at;
