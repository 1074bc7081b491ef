-- +goose Up
-- An offer sold in installments needs a recurring monthly Price of its own.
ALTER TABLE offers ADD COLUMN stripe_installment_price_id text;
-- The subscription behind an installment plan, once Stripe has created it,
-- and its schedule (which ends the plan after N debits).
ALTER TABLE packs ADD COLUMN stripe_schedule_id text,
    ADD COLUMN stripe_customer_id text;
-- Where a payment came from, for the refund and dispute that may follow.
CREATE INDEX payments_intent_idx ON payments (stripe_payment_intent_id);
CREATE INDEX payments_charge_idx ON payments (stripe_charge_id);

-- +goose Down
DROP INDEX payments_charge_idx;
DROP INDEX payments_intent_idx;
ALTER TABLE packs DROP COLUMN stripe_customer_id, DROP COLUMN stripe_schedule_id;
ALTER TABLE offers DROP COLUMN stripe_installment_price_id;
