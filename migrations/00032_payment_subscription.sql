-- +goose Up
-- An invoice paid before Carnet knows its subscription is kept with the
-- subscription it names, so the transaction that links that subscription to
-- its pack finds it and applies it. Nullable: the previous release neither
-- writes nor reads it.
ALTER TABLE payments ADD COLUMN stripe_subscription_id text;
CREATE INDEX payments_unlinked_subscription_idx ON payments (stripe_subscription_id)
    WHERE pack_id IS NULL AND stripe_subscription_id IS NOT NULL;

-- +goose Down
DROP INDEX payments_unlinked_subscription_idx;
ALTER TABLE payments DROP COLUMN stripe_subscription_id;
