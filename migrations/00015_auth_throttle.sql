-- +goose Up
-- Failed authentications per client address, shared by every carnet process
-- (a throttle kept in one process would let an attacker spread guesses over
-- the others). A row is one address's current window; it is small and is
-- overwritten, never appended to.
CREATE TABLE auth_failures (
    addr          text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    blocked_until timestamptz
);
CREATE INDEX auth_failures_window_start ON auth_failures (window_start);

-- +goose Down
DROP TABLE auth_failures;
