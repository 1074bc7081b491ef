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

-- +goose Down
DROP TABLE payment_receipts;
