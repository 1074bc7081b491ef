-- +goose Up
-- The coach's browser: one-time sign-in links sent by email and the sessions
-- they open. Only hashes of tokens are stored, like API keys, so a read of
-- the database cannot sign anyone in. Kept in PostgreSQL so that any
-- `carnet serve` process behind a load balancer serves any session.
CREATE TABLE web_signin_tokens (
    token_hash bytea PRIMARY KEY,
    coach_id   bigint NOT NULL REFERENCES coaches (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX web_signin_tokens_coach_idx ON web_signin_tokens (coach_id);

CREATE TABLE web_sessions (
    token_hash bytea PRIMARY KEY,
    coach_id   bigint NOT NULL REFERENCES coaches (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- how the session was opened: 'email' (a sign-in link) or 'api_key'
    method     text NOT NULL DEFAULT 'email'
);
CREATE INDEX web_sessions_coach_idx ON web_sessions (coach_id);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions, web_signin_tokens;
