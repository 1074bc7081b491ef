-- +goose Up
-- The month's attendance sheet reads each booking's charge: from the index
-- alone once it carries the charge's value and pack (issue 14: a month's
-- CSV of 20,000 bookings spent half its time fetching these rows). It
-- replaces the one-charge-per-booking index, same key and predicate, so
-- the rule holds throughout and a charge costs no extra index to write.
-- Nothing names the old index (the previous release neither).
CREATE UNIQUE INDEX ledger_booking_charge_cover ON ledger_entries (booking_id)
    INCLUDE (value_amount, pack_id) WHERE kind IN ('attended', 'no_show', 'late_cancel');
DROP INDEX ledger_booking_charge_key;

-- +goose Down
CREATE UNIQUE INDEX ledger_booking_charge_key ON ledger_entries (booking_id)
    WHERE kind IN ('attended', 'no_show', 'late_cancel');
DROP INDEX ledger_booking_charge_cover;
