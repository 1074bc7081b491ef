-- +goose Up
-- What the reconciler needs to act on an anomaly: the money in excess and the
-- Stripe payment to refund it from, and what became of the refund.
ALTER TABLE anomalies
    ADD COLUMN excess_amount bigint NOT NULL DEFAULT 0 CHECK (excess_amount >= 0),
    ADD COLUMN currency char(3),
    -- The refunds that would give the excess back: [{"payment_id": 12, "amount": 15000}, ...]
    ADD COLUMN refunds jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN stripe_refund_id text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX anomalies_coach_idx ON anomalies (coach_id, state, id);
CREATE INDEX anomalies_pack_idx ON anomalies (pack_id);

-- Who paid, as Stripe says: links a payment Carnet did not start to a client.
ALTER TABLE payments ADD COLUMN stripe_customer_id text;

-- Where the sweep stopped, per list it pages through.
CREATE TABLE sweep_cursors (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sweep_cursors;
ALTER TABLE payments DROP COLUMN stripe_customer_id;
DROP INDEX anomalies_pack_idx;
DROP INDEX anomalies_coach_idx;
ALTER TABLE anomalies DROP COLUMN updated_at, DROP COLUMN stripe_refund_id, DROP COLUMN refunds,
    DROP COLUMN currency, DROP COLUMN excess_amount;
