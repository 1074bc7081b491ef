-- +goose Up
-- Client links as they are handed out, so a coach can revoke them (only the
-- token's hash is kept), and the browser sessions a link opens on the
-- client's page. Links issued before this release have no row: they stay
-- valid until they expire.
CREATE TABLE client_links (
    token_hash bytea PRIMARY KEY,
    coach_id   bigint NOT NULL REFERENCES coaches (id),
    client_id  bigint NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id)
);
CREATE INDEX client_links_client_idx ON client_links (coach_id, client_id);

CREATE TABLE client_web_sessions (
    token_hash bytea PRIMARY KEY,
    coach_id   bigint NOT NULL REFERENCES coaches (id),
    client_id  bigint NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id)
);
CREATE INDEX client_web_sessions_client_idx ON client_web_sessions (coach_id, client_id);
CREATE INDEX client_web_sessions_expires_idx ON client_web_sessions (expires_at);

-- +goose Down
DROP TABLE client_web_sessions, client_links;
