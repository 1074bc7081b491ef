-- +goose Up
-- What makes the year-long reports one pass over an index (issue 14's
-- 200 ms at 10,000 clients and a million ledger entries). Added only: the
-- previous release runs on this schema unchanged.

-- The coach's cancellations report adds up every client's months of the
-- period: read from this index alone, without the table's rows.
CREATE INDEX report_client_months_year_idx ON report_client_months (coach_id, month)
    INCLUDE (client_id, attended, no_shows, cancelled, late_cancelled, after_coach_cancel, cancelled_after_coach);

-- The client a payment belongs to (its pack's, or its fee's booking's), so
-- that concentration and revenue group a year of payments without joining
-- every pack the coach ever sold. Kept by a trigger, whoever writes the row
-- (the previous release too), in the row's own statement.
ALTER TABLE payments ADD COLUMN client_id bigint;

-- +goose StatementBegin
CREATE FUNCTION payments_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.client_id := coalesce((SELECT client_id FROM packs WHERE id = NEW.pack_id),
        (SELECT client_id FROM bookings WHERE id = NEW.booking_id));
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER payments_client BEFORE INSERT OR UPDATE OF pack_id, booking_id ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_client();

UPDATE payments p SET client_id = pk.client_id FROM packs pk WHERE pk.id = p.pack_id;
UPDATE payments p SET client_id = b.client_id FROM bookings b
    WHERE b.id = p.booking_id AND p.pack_id IS NULL;

-- A year of a coach's money, read from the index alone.
CREATE INDEX payments_coach_money_idx ON payments (coach_id, occurred_at)
    INCLUDE (client_id, kind, status, amount, currency, method, stripe_charge_id);

-- +goose Down
DROP INDEX payments_coach_money_idx;
DROP TRIGGER payments_client ON payments;
DROP FUNCTION payments_client();
ALTER TABLE payments DROP COLUMN client_id;
DROP INDEX report_client_months_year_idx;
