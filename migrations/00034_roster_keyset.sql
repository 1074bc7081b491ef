-- +goose Up
-- The balances overview pages by keyset in name order: this index reads a
-- page of a coach's clients without sorting all of them. Expand only: the
-- previous binary ignores it.
CREATE INDEX IF NOT EXISTS clients_roster_name_idx ON clients (coach_id, name, id);

-- +goose Down
DROP INDEX IF EXISTS clients_roster_name_idx;
