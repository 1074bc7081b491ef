-- +goose Up
-- The foundation schema. Money is bigint minor units with an ISO currency,
-- times are timestamptz, every tenant-owned row carries coach_id, and the
-- rules that must never break are constraints, not application code.

CREATE TABLE coaches (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email      text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    timezone   text NOT NULL DEFAULT 'UTC',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX coaches_email_key ON coaches (lower(email));

-- Only the SHA-256 of an API key is stored; the key is shown once.
CREATE TABLE api_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id   bigint NOT NULL REFERENCES coaches (id),
    key_hash   bytea NOT NULL UNIQUE,
    label      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_coach_idx ON api_keys (coach_id);

-- Secrets shared by every process (the client-link signing key), so that
-- several `carnet serve` behind a load balancer agree without configuration.
CREATE TABLE app_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE clients (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id           bigint NOT NULL REFERENCES coaches (id),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email              text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    phone              text NOT NULL DEFAULT '',
    locale             text NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'es', 'en')),
    notes              text NOT NULL DEFAULT '',
    stripe_customer_id text UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (coach_id, id)
);
CREATE UNIQUE INDEX clients_coach_email_key ON clients (coach_id, lower(email));

CREATE TABLE offers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id          bigint NOT NULL REFERENCES coaches (id),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind              text NOT NULL CHECK (kind IN ('sessions', 'period')),
    sessions          int CHECK (sessions BETWEEN 5 AND 20),
    validity_days     int CHECK (validity_days BETWEEN 1 AND 3660),
    months            int CHECK (months BETWEEN 1 AND 3),
    weekly_cap        int CHECK (weekly_cap BETWEEN 1 AND 14),
    price_amount      bigint NOT NULL CHECK (price_amount > 0),
    currency          char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    upfront           boolean NOT NULL,
    installments      int,
    stripe_product_id text,
    stripe_price_id   text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    archived_at       timestamptz,
    UNIQUE (coach_id, id),
    CHECK (upfront OR installments IS NOT NULL),
    CHECK (
        (kind = 'sessions' AND sessions IS NOT NULL AND validity_days IS NOT NULL
            AND months IS NULL AND weekly_cap IS NULL
            AND (installments IS NULL OR installments BETWEEN 2 AND 4))
     OR (kind = 'period' AND months IS NOT NULL AND sessions IS NULL AND validity_days IS NULL
            AND (installments IS NULL OR (installments = months AND months >= 2)))
    )
);

-- A charter version is never edited: a new version is a new row.
CREATE TABLE charter_versions (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id           bigint NOT NULL REFERENCES coaches (id),
    version            int NOT NULL CHECK (version >= 1),
    notice_hours       int NOT NULL CHECK (notice_hours BETWEEN 0 AND 720),
    late_cancel_action text NOT NULL CHECK (late_cancel_action IN ('deduct', 'fee', 'none')),
    late_cancel_fee    bigint NOT NULL DEFAULT 0 CHECK (late_cancel_fee >= 0),
    no_show_action     text NOT NULL CHECK (no_show_action IN ('deduct', 'fee', 'none')),
    no_show_fee        bigint NOT NULL DEFAULT 0 CHECK (no_show_fee >= 0),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    coach_cancel       text NOT NULL DEFAULT 'nothing' CHECK (coach_cancel IN ('nothing', 'credit')),
    grace_days         int NOT NULL CHECK (grace_days BETWEEN 0 AND 60),
    auto_refund_excess boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (coach_id, version),
    UNIQUE (coach_id, id)
);

CREATE TABLE packs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id           bigint NOT NULL REFERENCES coaches (id),
    client_id          bigint NOT NULL,
    offer_id           bigint NOT NULL,
    charter_version_id bigint,
    kind               text NOT NULL CHECK (kind IN ('sessions', 'period')),
    status             text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'overdue', 'exhausted', 'expired', 'cancelled', 'refunded')),
    plan               text NOT NULL CHECK (plan IN ('upfront', 'installments', 'manual')),
    installments       int NOT NULL DEFAULT 1 CHECK (installments BETWEEN 1 AND 4),
    price_amount       bigint NOT NULL CHECK (price_amount >= 0),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    sessions_credited  int NOT NULL DEFAULT 0 CHECK (sessions_credited >= 0),
    -- Never below zero: the last line of defence for "a balance never goes negative".
    sessions_remaining int NOT NULL DEFAULT 0 CHECK (sessions_remaining >= 0),
    months             int CHECK (months BETWEEN 1 AND 3),
    validity_days      int,
    weekly_cap         int,
    activated_at       timestamptz,
    valid_until        timestamptz,
    overdue_since      timestamptz,
    stripe_checkout_session_id text UNIQUE,
    stripe_subscription_id     text UNIQUE,
    stripe_payment_intent_id   text UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (coach_id, id),
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id),
    FOREIGN KEY (coach_id, offer_id) REFERENCES offers (coach_id, id),
    FOREIGN KEY (coach_id, charter_version_id) REFERENCES charter_versions (coach_id, id)
);
CREATE INDEX packs_client_idx ON packs (coach_id, client_id, status);

CREATE TABLE sessions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id         bigint NOT NULL REFERENCES coaches (id),
    title            text NOT NULL DEFAULT '',
    starts_at        timestamptz NOT NULL,
    duration_minutes int NOT NULL CHECK (duration_minutes BETWEEN 5 AND 1440),
    kind             text NOT NULL CHECK (kind IN ('individual', 'group')),
    cancelled_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (coach_id, id)
);
CREATE INDEX sessions_coach_start_idx ON sessions (coach_id, starts_at);

CREATE TABLE bookings (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id     bigint NOT NULL REFERENCES coaches (id),
    session_id   bigint NOT NULL,
    client_id    bigint NOT NULL,
    outcome      text CHECK (outcome IN ('attended', 'no_show', 'cancelled', 'late_cancelled', 'coach_cancelled')),
    outcome_at   timestamptz,
    announced_at timestamptz,
    pack_id      bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, client_id),
    UNIQUE (coach_id, id),
    FOREIGN KEY (coach_id, session_id) REFERENCES sessions (coach_id, id),
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id),
    FOREIGN KEY (coach_id, pack_id) REFERENCES packs (coach_id, id)
);

-- Append-only: a correction is a new entry, never an edit.
CREATE TABLE ledger_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id     bigint NOT NULL REFERENCES coaches (id),
    client_id    bigint NOT NULL,
    pack_id      bigint NOT NULL,
    booking_id   bigint,
    kind         text NOT NULL CHECK (kind IN ('purchase', 'attended', 'no_show', 'late_cancel', 'waiver',
                                             'goodwill', 'expiry', 'refund_reversal', 'adjustment')),
    delta        int NOT NULL,
    reason       text NOT NULL DEFAULT '',
    value_amount bigint CHECK (value_amount >= 0),
    currency     char(3),
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (coach_id, pack_id) REFERENCES packs (coach_id, id),
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id),
    FOREIGN KEY (coach_id, booking_id) REFERENCES bookings (coach_id, id)
);
CREATE INDEX ledger_pack_idx ON ledger_entries (pack_id);
CREATE INDEX ledger_client_idx ON ledger_entries (coach_id, client_id, id);
-- One booking is charged at most once, and waived at most once.
CREATE UNIQUE INDEX ledger_booking_charge_key ON ledger_entries (booking_id)
    WHERE kind IN ('attended', 'no_show', 'late_cancel');
CREATE UNIQUE INDEX ledger_booking_waiver_key ON ledger_entries (booking_id) WHERE kind = 'waiver';

-- Each expected payment (an installment, or the single upfront payment).
CREATE TABLE installments (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id         bigint NOT NULL REFERENCES coaches (id),
    pack_id          bigint NOT NULL,
    seq              int NOT NULL CHECK (seq BETWEEN 1 AND 4),
    due_at           timestamptz NOT NULL,
    amount           bigint NOT NULL CHECK (amount > 0),
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status           text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'paid', 'failed', 'cancelled')),
    paid_at          timestamptz,
    stripe_invoice_id text UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (pack_id, seq),
    FOREIGN KEY (coach_id, pack_id) REFERENCES packs (coach_id, id)
);

-- Every payment Stripe reports. coach_id is null for a payment that belongs
-- to nobody we know (an unmatched payment is still recorded).
CREATE TABLE payments (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id                 bigint REFERENCES coaches (id),
    pack_id                  bigint REFERENCES packs (id),
    installment_id           bigint REFERENCES installments (id),
    kind                     text NOT NULL CHECK (kind IN ('charge', 'refund', 'dispute', 'manual')),
    status                   text NOT NULL,
    amount                   bigint NOT NULL,
    currency                 char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    stripe_charge_id         text,
    stripe_payment_intent_id text,
    stripe_invoice_id        text,
    stripe_object_id         text UNIQUE,
    occurred_at              timestamptz NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_pack_idx ON payments (pack_id);

-- Stored once per Stripe event id, raw payload kept.
CREATE TABLE webhook_events (
    id           text PRIMARY KEY,
    type         text NOT NULL,
    api_version  text NOT NULL DEFAULT '',
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    last_error   text NOT NULL DEFAULT ''
);

CREATE TABLE anomalies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id    bigint REFERENCES coaches (id),
    pack_id     bigint REFERENCES packs (id),
    client_id   bigint REFERENCES clients (id),
    kind        text NOT NULL,
    -- One anomaly per cause, however many events point at it.
    cause_key   text NOT NULL UNIQUE,
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved', 'dismissed')),
    evidence    jsonb NOT NULL DEFAULT '{}',
    resolved_by text NOT NULL DEFAULT '',
    resolution  text NOT NULL DEFAULT '',
    opened_at   timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);

-- The outbox: written in the same transaction as its cause, at most once per cause.
CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id   bigint REFERENCES coaches (id),
    client_id  bigint REFERENCES clients (id),
    cause_key  text NOT NULL UNIQUE,
    template   text NOT NULL,
    locale     text NOT NULL CHECK (locale IN ('fr', 'es', 'en')),
    recipient  text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'kept', 'failed')),
    attempts   int NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);

-- POST replay protection; scope is who called ("coach:7", "client:12").
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    status       int,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys, notifications, anomalies, webhook_events, payments, installments,
    ledger_entries, bookings, sessions, packs, charter_versions, offers, clients, app_secrets,
    api_keys, coaches;
