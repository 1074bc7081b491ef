-- +goose Up
-- The sweep's unmatched check closes open anomalies of one kind among every
-- anomaly ever opened (a sequential scan of a table that only grows); the
-- open ones are few, so a partial index on them stays small.
CREATE INDEX anomalies_open_kind_idx ON anomalies (kind) WHERE state = 'open';

-- +goose Down
DROP INDEX anomalies_open_kind_idx;
