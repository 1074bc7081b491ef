-- +goose Up
-- Goodwill after an incident: what it makes up for (a session, or an
-- incident named in words), what it gives each client (sessions, or another
-- item such as a consultation of N minutes), and what it cost. Each client's
-- share is a ledger entry that names its grant.
CREATE TABLE goodwill_grants (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id     bigint NOT NULL REFERENCES coaches (id),
    session_id   bigint,
    incident     text NOT NULL DEFAULT '' CHECK (length(incident) <= 200),
    item         text NOT NULL CHECK (item IN ('sessions', 'consultation')),
    sessions     int NOT NULL DEFAULT 0 CHECK (sessions BETWEEN 0 AND 20),
    -- Per client: the time the coach gives (a consultation's length, or the
    -- sessions at the length of the session made up for) and its value.
    minutes      int NOT NULL CHECK (minutes BETWEEN 0 AND 28800),
    value_amount bigint NOT NULL DEFAULT 0 CHECK (value_amount >= 0),
    currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    note         text NOT NULL,
    clients      int NOT NULL CHECK (clients >= 1),
    created_at   timestamptz NOT NULL,
    UNIQUE (coach_id, id),
    FOREIGN KEY (coach_id, session_id) REFERENCES sessions (coach_id, id),
    CHECK (session_id IS NOT NULL OR incident <> '')
);
CREATE INDEX goodwill_grants_coach_idx ON goodwill_grants (coach_id, created_at);
ALTER TABLE ledger_entries ADD COLUMN goodwill_grant_id bigint REFERENCES goodwill_grants (id);
CREATE INDEX ledger_goodwill_grant_idx ON ledger_entries (goodwill_grant_id) WHERE goodwill_grant_id IS NOT NULL;

-- +goose Down
DROP INDEX ledger_goodwill_grant_idx;
ALTER TABLE ledger_entries DROP COLUMN goodwill_grant_id;
DROP TABLE goodwill_grants;
