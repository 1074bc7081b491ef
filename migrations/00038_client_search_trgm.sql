-- +goose Up
-- The coach's client search (ILIKE '%...%' on name or email) reads these
-- trigram indexes instead of every client of the coach. pg_trgm ships with
-- PostgreSQL's contrib and is a trusted extension (the database owner may
-- create it). Expand only: the previous binary's queries are unchanged.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS clients_name_trgm_idx ON clients USING gin (name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS clients_email_trgm_idx ON clients USING gin (email gin_trgm_ops);

-- +goose Down
DROP INDEX IF EXISTS clients_email_trgm_idx;
DROP INDEX IF EXISTS clients_name_trgm_idx;
