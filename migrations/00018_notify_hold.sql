-- +goose Up
-- A message may be held until a moment (an anomaly's opening message waits
-- for its burst to settle, so it states the facts as they end up). NULL:
-- due at once, as every message the previous release writes.
ALTER TABLE notifications ADD COLUMN not_before timestamptz;

-- +goose Down
ALTER TABLE notifications DROP COLUMN not_before;
