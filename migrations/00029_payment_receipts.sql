-- +goose Up
-- What Stripe says of a payment the client's receipts list: how it was paid
-- and its receipt page. Read from Stripe once, the first time a client's page
-- lists the payment; a table of its own so payments keep the columns the
-- previous release reads.
CREATE TABLE payment_receipts (
    payment_id  bigint PRIMARY KEY REFERENCES payments (id),
    method      text NOT NULL DEFAULT '',
    receipt_url text NOT NULL DEFAULT '',
    fetched_at  timestamptz NOT NULL
);

-- The client's confirmation of an attended session. The reports' migration
-- (00021) owns this column; IF NOT EXISTS lets the client's page work on a
-- schema from before it, and Down leaves it to its owner.
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS client_confirmed_at timestamptz;

-- +goose Down
DROP TABLE payment_receipts;
