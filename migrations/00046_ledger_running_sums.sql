-- +goose Up
-- What a sessions pack has earned is read from its ledger's running sum
-- instead of summing the pack's whole ledger on every entry (issue 15): the
-- trigger's cost no longer grows with the ledger. Added only: the previous
-- release runs on this schema unchanged, and its entries keep the sums too
-- (the trigger does it, whoever writes the entry).

-- Each pack's ledger summed: what sum(delta) over its entries would say.
-- Kept by report_ledger_entry in the entry's transaction, under the row's
-- lock, so two entries of one pack never lose each other's delta. Every
-- writer locks the pack before appending its entry, so this lock, taken
-- after, adds no wait that the pack's own lock did not already impose.
CREATE TABLE pack_ledger_sums (
    pack_id   bigint PRIMARY KEY REFERENCES packs (id),
    delta_sum bigint NOT NULL
);

-- No entry may land between the sums and the new trigger (the previous
-- release may be writing while this runs): entries wait for this migration.
LOCK TABLE ledger_entries IN SHARE MODE;

INSERT INTO pack_ledger_sums (pack_id, delta_sum)
SELECT pack_id, sum(delta) FROM ledger_entries WHERE pack_id IS NOT NULL GROUP BY pack_id;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pack_kind text;
    price bigint;
    credited int;
    after_sum bigint;
    earned bigint := 0;
    m date;
BEGIN
    IF NEW.pack_id IS NOT NULL AND NEW.delta <> 0 THEN
        INSERT INTO pack_ledger_sums AS t (pack_id, delta_sum) VALUES (NEW.pack_id, NEW.delta)
        ON CONFLICT (pack_id) DO UPDATE SET delta_sum = t.delta_sum + excluded.delta_sum
        RETURNING t.delta_sum INTO after_sum;
        IF NEW.kind NOT IN ('purchase', 'refund_reversal') THEN
            SELECT kind, price_amount, sessions_credited INTO pack_kind, price, credited
            FROM packs WHERE id = NEW.pack_id;
            IF pack_kind = 'sessions' THEN
                earned := report_earned(price, credited, after_sum)
                        - report_earned(price, credited, after_sum - NEW.delta);
            END IF;
        END IF;
    END IF;
    IF earned = 0 AND NEW.kind <> 'waiver' THEN
        RETURN NULL;
    END IF;
    m := report_month(NEW.coach_id, NEW.created_at);
    INSERT INTO report_client_months (coach_id, client_id, month, earned_sessions, waived)
    VALUES (NEW.coach_id, NEW.client_id, m, earned, CASE WHEN NEW.kind = 'waiver' THEN 1 ELSE 0 END)
    ON CONFLICT (coach_id, month, client_id) DO UPDATE SET
        earned_sessions = report_client_months.earned_sessions + excluded.earned_sessions,
        waived = report_client_months.waived + excluded.waived;
    IF earned <> 0 THEN
        INSERT INTO report_coach_month_deltas (coach_id, month, earned_sessions) VALUES (NEW.coach_id, m, earned);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p packs%ROWTYPE;
    after_sum bigint;
    earned bigint := 0;
BEGIN
    IF NEW.pack_id IS NOT NULL AND NEW.delta <> 0 AND NEW.kind NOT IN ('purchase', 'refund_reversal') THEN
        SELECT * INTO p FROM packs WHERE id = NEW.pack_id;
        IF p.kind = 'sessions' THEN
            SELECT sum(delta) INTO after_sum FROM ledger_entries WHERE pack_id = NEW.pack_id;
            earned := report_earned(p.price_amount, p.sessions_credited, after_sum)
                    - report_earned(p.price_amount, p.sessions_credited, after_sum - NEW.delta);
        END IF;
    END IF;
    IF earned = 0 AND NEW.kind <> 'waiver' THEN
        RETURN NULL;
    END IF;
    INSERT INTO report_client_months (coach_id, client_id, month, earned_sessions, waived)
    VALUES (NEW.coach_id, NEW.client_id, report_month(NEW.coach_id, NEW.created_at), earned,
        CASE WHEN NEW.kind = 'waiver' THEN 1 ELSE 0 END)
    ON CONFLICT (coach_id, month, client_id) DO UPDATE SET
        earned_sessions = report_client_months.earned_sessions + excluded.earned_sessions,
        waived = report_client_months.waived + excluded.waived;
    IF earned <> 0 THEN
        INSERT INTO report_coach_month_deltas (coach_id, month, earned_sessions)
        VALUES (NEW.coach_id, report_month(NEW.coach_id, NEW.created_at), earned);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
DROP TABLE pack_ledger_sums;
