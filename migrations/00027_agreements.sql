-- +goose Up
-- The written points of a charter version (included, not included, session
-- length, frequency, extras, free text; by locale). A table of their own, not
-- columns on charter_versions: the previous binary reads that table with
-- SELECT * into a struct and would refuse an unknown column.
CREATE TABLE charter_agreements (
    charter_version_id bigint PRIMARY KEY,
    coach_id           bigint NOT NULL REFERENCES coaches (id),
    points             jsonb NOT NULL DEFAULT '{}',
    FOREIGN KEY (coach_id, charter_version_id) REFERENCES charter_versions (coach_id, id)
);

-- The client's acceptance of the agreement of one pack, before paying: the
-- exact text they read, its SHA-256, when, from where. Never edited.
CREATE TABLE agreement_acceptances (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id           bigint NOT NULL REFERENCES coaches (id),
    client_id          bigint NOT NULL,
    pack_id            bigint NOT NULL UNIQUE,
    charter_version_id bigint,
    charter_version    int NOT NULL DEFAULT 0,
    locale             text NOT NULL CHECK (locale IN ('fr', 'es', 'en')),
    text               text NOT NULL,
    text_sha256        bytea NOT NULL CHECK (length(text_sha256) = 32),
    accepted_at        timestamptz NOT NULL,
    ip                 text NOT NULL DEFAULT '',
    user_agent         text NOT NULL DEFAULT '',
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id),
    FOREIGN KEY (coach_id, pack_id) REFERENCES packs (coach_id, id),
    FOREIGN KEY (coach_id, charter_version_id) REFERENCES charter_versions (coach_id, id)
);
CREATE INDEX agreement_acceptances_client_idx ON agreement_acceptances (coach_id, client_id);

-- +goose Down
DROP TABLE agreement_acceptances;
DROP TABLE charter_agreements;
