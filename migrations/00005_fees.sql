-- +goose Up
-- A late-cancellation or no-show fee charged off session: one row per booking.
ALTER TABLE payments DROP CONSTRAINT payments_kind_check,
    ADD CONSTRAINT payments_kind_check CHECK (kind IN ('charge', 'refund', 'dispute', 'manual', 'fee')),
    ADD COLUMN booking_id bigint REFERENCES bookings (id);
CREATE UNIQUE INDEX payments_fee_booking_key ON payments (booking_id) WHERE kind = 'fee';

-- +goose Down
DROP INDEX payments_fee_booking_key;
ALTER TABLE payments DROP COLUMN booking_id, DROP CONSTRAINT payments_kind_check,
    ADD CONSTRAINT payments_kind_check CHECK (kind IN ('charge', 'refund', 'dispute', 'manual'));
