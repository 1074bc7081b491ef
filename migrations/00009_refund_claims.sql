-- +goose Up
-- Each refund Carnet makes of an anomaly's excess is claimed here before
-- Stripe is called. Once refunding starts the anomaly's plan is frozen, a
-- payment is never given back more than it paid across anomalies, and a
-- retry days later (when Stripe has forgotten the idempotency key) finds
-- what was already done.
CREATE TABLE anomaly_refunds (
    anomaly_id       bigint NOT NULL REFERENCES anomalies (id),
    payment_id       bigint NOT NULL REFERENCES payments (id),
    amount           bigint NOT NULL CHECK (amount > 0),
    claimed_at       timestamptz NOT NULL,
    stripe_refund_id text,
    done_at          timestamptz,
    PRIMARY KEY (anomaly_id, payment_id)
);
CREATE INDEX anomaly_refunds_payment_idx ON anomaly_refunds (payment_id);
ALTER TABLE anomalies ADD COLUMN refunding_at timestamptz;

-- +goose Down
ALTER TABLE anomalies DROP COLUMN refunding_at;
DROP TABLE anomaly_refunds;
