-- +goose Up
-- What a charter version says becomes of a client's unused sessions when
-- the coach ends the relationship: the client finishes them, the unused
-- part is refunded pro rata, or nothing. A table beside charter_versions:
-- the previous release reads that table with SELECT * into a struct that
-- would refuse a new column.
CREATE TABLE charter_end_terms (
    charter_version_id bigint PRIMARY KEY REFERENCES charter_versions (id),
    unused             text NOT NULL CHECK (unused IN ('finish', 'refund', 'nothing'))
);

-- A relationship the coach ended: no new sale, no new booking (but those
-- that let the client finish their sessions). The client stays in every report.
CREATE TABLE client_endings (
    coach_id           bigint NOT NULL REFERENCES coaches (id),
    client_id          bigint NOT NULL,
    ended_at           timestamptz NOT NULL,
    unused             text NOT NULL CHECK (unused IN ('finish', 'refund', 'nothing')),
    charter_version_id bigint REFERENCES charter_versions (id),
    reason             text NOT NULL DEFAULT '',
    -- Money paid by hand (cash, transfer) cannot go back through Stripe:
    -- what the coach owes back in person.
    refund_by_hand     bigint NOT NULL DEFAULT 0 CHECK (refund_by_hand >= 0),
    PRIMARY KEY (coach_id, client_id),
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id)
);

-- Each refund of an ended pack's unused part, claimed here before Stripe is
-- called (the Stripe key is derived from pack and payment), done once.
CREATE TABLE ending_refunds (
    pack_id          bigint NOT NULL REFERENCES packs (id),
    payment_id       bigint NOT NULL REFERENCES payments (id),
    coach_id         bigint NOT NULL REFERENCES coaches (id),
    amount           bigint NOT NULL CHECK (amount > 0),
    claimed_at       timestamptz NOT NULL,
    stripe_refund_id text,
    done_at          timestamptz,
    last_error       text NOT NULL DEFAULT '',
    PRIMARY KEY (pack_id, payment_id)
);

-- +goose Down
DROP TABLE ending_refunds;
DROP TABLE client_endings;
DROP TABLE charter_end_terms;
