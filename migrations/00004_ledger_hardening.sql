-- +goose Up
-- A fee owed for a late cancellation or a no-show is a ledger line too (money,
-- no session), even when the client holds no pack; so is its waiver.
ALTER TABLE ledger_entries ALTER COLUMN pack_id DROP NOT NULL,
    ADD CONSTRAINT ledger_entries_pack_or_money CHECK (pack_id IS NOT NULL OR delta = 0);

-- The ledger is append-only, in the database itself.
-- +goose StatementBegin
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are never edited or deleted; append a correcting entry';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();

-- The charter that judged a booking belongs to the same coach.
ALTER TABLE bookings DROP CONSTRAINT bookings_charter_version_id_fkey,
    ADD CONSTRAINT bookings_charter_fkey FOREIGN KEY (coach_id, charter_version_id)
        REFERENCES charter_versions (coach_id, id);

-- +goose Down
ALTER TABLE bookings DROP CONSTRAINT bookings_charter_fkey,
    ADD CONSTRAINT bookings_charter_version_id_fkey FOREIGN KEY (charter_version_id) REFERENCES charter_versions (id);
DROP TRIGGER ledger_entries_append_only ON ledger_entries;
DROP FUNCTION ledger_entries_append_only();
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_pack_or_money, ALTER COLUMN pack_id SET NOT NULL;
