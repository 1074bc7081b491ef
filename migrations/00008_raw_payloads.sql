-- +goose Up
-- Keep each event's raw body byte for byte: jsonb rewrote it and refused a
-- \u0000 inside a string, which made such an event fail forever.
ALTER TABLE webhook_events ALTER COLUMN payload TYPE bytea USING convert_to(payload::text, 'UTF8');

-- +goose Down
ALTER TABLE webhook_events ALTER COLUMN payload TYPE jsonb USING convert_from(payload, 'UTF8')::jsonb;
