-- +goose Up
-- How Stripe took a payment (card, sepa_debit, paypal, other), from the
-- charge's payment_method_details.type or the one method its PaymentIntent or
-- Checkout Session allowed; the revenue report splits money received by it.
-- NULL is unknown: payments recorded before this release, and those whose
-- events did not say. Nullable and unread by the previous release (it names
-- payments' columns, or aggregates them).
ALTER TABLE payments ADD COLUMN method text;

-- +goose Down
ALTER TABLE payments DROP COLUMN method;
