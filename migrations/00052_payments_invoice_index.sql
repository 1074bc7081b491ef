-- +goose Up
-- A charge's refunds and disputes that came first (recordPayment, on every
-- successful card charge: both events of a checkout) and a refund's or a
-- dispute's pack (chargePack) are found by charge, PaymentIntent or invoice:
-- with no index on the invoice the OR could not be three index scans, so
-- PostgreSQL read every pack-less payment ever kept (a sequential scan:
-- 14 ms at 70,000 payments) or every payment with a pack. Partial: only the
-- payments that have an invoice (installments) are in it, so an upfront
-- payment's insert does not add to it. Added only.
CREATE INDEX payments_invoice_idx ON payments (stripe_invoice_id) WHERE stripe_invoice_id IS NOT NULL;

-- +goose Down
DROP INDEX payments_invoice_idx;
