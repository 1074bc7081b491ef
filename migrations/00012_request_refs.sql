-- +goose Up
-- Exactly once: the rows an idempotent request creates carry the request's
-- reference (derived from its scope, Idempotency-Key and body) and their
-- order within it, under a unique index, so that PostgreSQL refuses a second
-- application of one request even if its key row were lost. Nullable
-- columns: the previous release writes NULL and reads none of them.
ALTER TABLE ledger_entries ADD COLUMN request_ref text, ADD COLUMN request_seq int;
ALTER TABLE payments ADD COLUMN request_ref text, ADD COLUMN request_seq int;
ALTER TABLE notifications ADD COLUMN request_ref text, ADD COLUMN request_seq int;
CREATE UNIQUE INDEX ledger_entries_request_uq ON ledger_entries (request_ref, request_seq) WHERE request_ref IS NOT NULL;
CREATE UNIQUE INDEX payments_request_uq ON payments (request_ref, request_seq) WHERE request_ref IS NOT NULL;
CREATE UNIQUE INDEX notifications_request_uq ON notifications (request_ref, request_seq) WHERE request_ref IS NOT NULL;

-- The key row names its reference, so `carnet verify` can tell an effect
-- whose request has no stored answer.
ALTER TABLE idempotency_keys ADD COLUMN request_ref text;
CREATE INDEX idempotency_keys_ref_idx ON idempotency_keys (request_ref);

-- A checkout claims its pending pack before Stripe is called (so a webhook
-- arriving early finds it); a retry of the same request finds that pack here
-- and asks Stripe for the same Checkout Session.
CREATE TABLE checkout_requests (
    request_ref text PRIMARY KEY,
    coach_id    bigint NOT NULL REFERENCES coaches (id),
    pack_id     bigint NOT NULL REFERENCES packs (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE checkout_requests;
DROP INDEX idempotency_keys_ref_idx;
ALTER TABLE idempotency_keys DROP COLUMN request_ref;
DROP INDEX notifications_request_uq, payments_request_uq, ledger_entries_request_uq;
ALTER TABLE notifications DROP COLUMN request_ref, DROP COLUMN request_seq;
ALTER TABLE payments DROP COLUMN request_ref, DROP COLUMN request_seq;
ALTER TABLE ledger_entries DROP COLUMN request_ref, DROP COLUMN request_seq;
