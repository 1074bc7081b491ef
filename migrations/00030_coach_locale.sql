-- +goose Up
-- Coaches have a language like clients: every page and message to a coach
-- is written in it.
ALTER TABLE coaches ADD COLUMN locale text NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'es', 'en'));

-- +goose Down
ALTER TABLE coaches DROP COLUMN locale;
