-- +goose Up
-- payments_client (00041) read the pack's and the booking's client again on
-- every update that names pack_id or booking_id, even one that leaves both as
-- they were: a card checkout's second event reports its payment again
-- (ON CONFLICT DO UPDATE SET pack_id = coalesce(...)), and paid for two
-- lookups and a PL/pgSQL statement's executor start-up to write the same
-- client. It now reads them only when one of them changes. Same function,
-- same trigger, same result: the previous release's writes are kept the same.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payments_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.pack_id IS NOT DISTINCT FROM OLD.pack_id
        AND NEW.booking_id IS NOT DISTINCT FROM OLD.booking_id THEN
        RETURN NEW;
    END IF;
    NEW.client_id := coalesce((SELECT client_id FROM packs WHERE id = NEW.pack_id),
        (SELECT client_id FROM bookings WHERE id = NEW.booking_id));
    RETURN NEW;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION payments_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.client_id := coalesce((SELECT client_id FROM packs WHERE id = NEW.pack_id),
        (SELECT client_id FROM bookings WHERE id = NEW.booking_id));
    RETURN NEW;
END $$;
-- +goose StatementEnd
