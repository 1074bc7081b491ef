-- +goose Up
-- A late cancellation or no-show under a `fee` charter costs money, not a
-- session: the fee is owed by the booking and charged once (billing does it).
ALTER TABLE bookings
    ADD COLUMN fee_amount bigint NOT NULL DEFAULT 0 CHECK (fee_amount >= 0),
    ADD COLUMN charter_version_id bigint REFERENCES charter_versions (id);
CREATE INDEX bookings_client_idx ON bookings (coach_id, client_id);
CREATE INDEX ledger_booking_idx ON ledger_entries (booking_id);

-- +goose Down
DROP INDEX ledger_booking_idx;
DROP INDEX bookings_client_idx;
ALTER TABLE bookings DROP COLUMN charter_version_id, DROP COLUMN fee_amount;
