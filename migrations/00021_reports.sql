-- +goose Up
-- What the coach's reports read. Everything here is added, nothing renamed:
-- the previous release runs on this schema unchanged.

-- The client's own confirmation that a booking took place (set from the
-- client's page; the attendance sheet shows it).
ALTER TABLE bookings ADD COLUMN client_confirmed_at timestamptz;

-- A coach's report settings. A table of its own rather than a column on
-- coaches: the previous release reads coaches with SELECT c.* into a struct
-- that would refuse an unknown column.
CREATE TABLE report_settings (
    coach_id              bigint PRIMARY KEY REFERENCES coaches (id),
    -- Late cancellations + no-shows + failed or late payments over the
    -- period from which a client is flagged as unreliable.
    reliability_threshold int NOT NULL DEFAULT 3 CHECK (reliability_threshold BETWEEN 1 AND 1000),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- One row per client and month (the coach's time zone), kept by triggers in
-- the transaction of every ledger entry and booking outcome, whoever writes
-- them: reports read a year of these instead of a year of the ledger, so
-- their cost does not grow with the ledger's length.
CREATE TABLE report_client_months (
    coach_id                  bigint NOT NULL REFERENCES coaches (id),
    client_id                 bigint NOT NULL,
    month                     date NOT NULL, -- first day, in the coach's time zone
    attended                  int NOT NULL DEFAULT 0,
    no_shows                  int NOT NULL DEFAULT 0,
    cancelled                 int NOT NULL DEFAULT 0,
    late_cancelled            int NOT NULL DEFAULT 0,
    coach_cancelled           int NOT NULL DEFAULT 0,
    waived                    int NOT NULL DEFAULT 0,
    -- Bookings that came right after one the coach cancelled, and how many
    -- of those the client cancelled.
    after_coach_cancel        int NOT NULL DEFAULT 0,
    cancelled_after_coach     int NOT NULL DEFAULT 0,
    -- Money earned on sessions packs (minor units, the pack's currency).
    earned_sessions           bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (coach_id, month, client_id),
    FOREIGN KEY (coach_id, client_id) REFERENCES clients (coach_id, id)
);

-- The coach's own figures per month (money earned on sessions packs,
-- bookings settled, bookings the coach cancelled), so that the year-long
-- reports read twelve rows rather than one per client and month. Triggers
-- only ever insert deltas, which never wait on each other (one row per
-- coach and month updated by every transaction would serialise them, and
-- could deadlock a group's attendance against a single outcome); a job
-- folds them into report_coach_months every minute. Readers add both.
CREATE TABLE report_coach_month_deltas (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coach_id        bigint NOT NULL,
    month           date NOT NULL,
    earned_sessions bigint NOT NULL DEFAULT 0,
    bookings        int NOT NULL DEFAULT 0,
    coach_cancelled int NOT NULL DEFAULT 0
);
CREATE INDEX report_coach_month_deltas_idx ON report_coach_month_deltas (coach_id, month);
CREATE TABLE report_coach_months (
    coach_id        bigint NOT NULL REFERENCES coaches (id),
    month           date NOT NULL,
    earned_sessions bigint NOT NULL DEFAULT 0,
    bookings        int NOT NULL DEFAULT 0,
    coach_cancelled int NOT NULL DEFAULT 0,
    PRIMARY KEY (coach_id, month)
);

-- The month of t in a coach's time zone.
-- +goose StatementBegin
CREATE FUNCTION report_month(p_coach bigint, t timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT date_trunc('month', t AT TIME ZONE (SELECT timezone FROM coaches WHERE id = p_coach))::date
$$;
-- +goose StatementEnd

-- What a sessions pack has earned once `remaining` sessions are left of
-- `credited` bought for `price`: the price share of the sessions used, never
-- more than the price. Earnings telescope: by the pack's last session (or
-- its expiry) they add up to its price exactly, whatever goodwill, waivers
-- and adjustments came in between.
-- +goose StatementBegin
CREATE FUNCTION report_earned(price bigint, credited int, remaining bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN credited <= 0 THEN 0
        ELSE price * greatest(0, least(credited, credited - remaining)) / credited END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION report_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p packs%ROWTYPE;
    after_sum bigint;
    earned bigint := 0;
BEGIN
    IF NEW.pack_id IS NOT NULL AND NEW.delta <> 0 AND NEW.kind NOT IN ('purchase', 'refund_reversal') THEN
        SELECT * INTO p FROM packs WHERE id = NEW.pack_id;
        IF p.kind = 'sessions' THEN
            -- The ledger itself says what is left, whatever order a writer
            -- updates the pack and appends the entry in.
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
CREATE TRIGGER report_ledger_entry AFTER INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION report_ledger_entry();

-- +goose StatementBegin
CREATE FUNCTION report_booking_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    starts timestamptz;
    m date;
    prev text;
    sign int;
    o text;
BEGIN
    SELECT starts_at INTO starts FROM sessions WHERE id = NEW.session_id;
    m := report_month(NEW.coach_id, starts);
    -- Take the old outcome out (sign -1) and put the new one in (+1).
    FOR sign, o IN SELECT -1, OLD.outcome WHERE OLD.outcome IS NOT NULL
                   UNION ALL SELECT 1, NEW.outcome WHERE NEW.outcome IS NOT NULL LOOP
        INSERT INTO report_client_months AS r (coach_id, client_id, month, attended, no_shows, cancelled,
            late_cancelled, coach_cancelled)
        VALUES (NEW.coach_id, NEW.client_id, m,
            CASE WHEN o = 'attended' THEN sign ELSE 0 END, CASE WHEN o = 'no_show' THEN sign ELSE 0 END,
            CASE WHEN o = 'cancelled' THEN sign ELSE 0 END, CASE WHEN o = 'late_cancelled' THEN sign ELSE 0 END,
            CASE WHEN o = 'coach_cancelled' THEN sign ELSE 0 END)
        ON CONFLICT (coach_id, month, client_id) DO UPDATE SET
            attended = r.attended + excluded.attended, no_shows = r.no_shows + excluded.no_shows,
            cancelled = r.cancelled + excluded.cancelled, late_cancelled = r.late_cancelled + excluded.late_cancelled,
            coach_cancelled = r.coach_cancelled + excluded.coach_cancelled;
        INSERT INTO report_coach_month_deltas (coach_id, month, bookings, coach_cancelled)
        VALUES (NEW.coach_id, m, sign, CASE WHEN o = 'coach_cancelled' THEN sign ELSE 0 END);
    END LOOP;
    -- A first outcome right after a booking the coach cancelled: is it the
    -- client cancelling in turn?
    IF OLD.outcome IS NULL AND NEW.outcome IS NOT NULL AND NEW.outcome <> 'coach_cancelled' THEN
        SELECT b.outcome INTO prev FROM bookings b JOIN sessions s ON s.id = b.session_id
        WHERE b.coach_id = NEW.coach_id AND b.client_id = NEW.client_id AND b.id <> NEW.id
            AND (s.starts_at, b.id) < (starts, NEW.id)
        ORDER BY s.starts_at DESC, b.id DESC LIMIT 1;
        IF prev = 'coach_cancelled' THEN
            UPDATE report_client_months SET after_coach_cancel = after_coach_cancel + 1,
                cancelled_after_coach = cancelled_after_coach
                    + CASE WHEN NEW.outcome IN ('cancelled', 'late_cancelled') THEN 1 ELSE 0 END
            WHERE coach_id = NEW.coach_id AND month = m AND client_id = NEW.client_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER report_booking_outcome AFTER UPDATE OF outcome ON bookings
    FOR EACH ROW WHEN (OLD.outcome IS DISTINCT FROM NEW.outcome)
    EXECUTE FUNCTION report_booking_outcome();

-- What came before this migration, summed once.
INSERT INTO report_client_months (coach_id, client_id, month, attended, no_shows, cancelled, late_cancelled,
    coach_cancelled)
SELECT b.coach_id, b.client_id, report_month(b.coach_id, s.starts_at),
    count(*) FILTER (WHERE b.outcome = 'attended'), count(*) FILTER (WHERE b.outcome = 'no_show'),
    count(*) FILTER (WHERE b.outcome = 'cancelled'), count(*) FILTER (WHERE b.outcome = 'late_cancelled'),
    count(*) FILTER (WHERE b.outcome = 'coach_cancelled')
FROM bookings b JOIN sessions s ON s.id = b.session_id
WHERE b.outcome IS NOT NULL
GROUP BY 1, 2, 3;

-- ... and which of those bookings came right after one the coach cancelled.
WITH o AS (
    SELECT b.coach_id, b.client_id, b.outcome, s.starts_at,
        lag(b.outcome) OVER (PARTITION BY b.coach_id, b.client_id ORDER BY s.starts_at, b.id) AS prev
    FROM bookings b JOIN sessions s ON s.id = b.session_id
)
UPDATE report_client_months r SET after_coach_cancel = x.n, cancelled_after_coach = x.cancelled
FROM (SELECT coach_id, client_id, report_month(coach_id, starts_at) AS month, count(*) AS n,
        count(*) FILTER (WHERE outcome IN ('cancelled', 'late_cancelled')) AS cancelled
    FROM o WHERE prev = 'coach_cancelled' AND outcome IS NOT NULL AND outcome <> 'coach_cancelled'
    GROUP BY 1, 2, 3) x
WHERE r.coach_id = x.coach_id AND r.client_id = x.client_id AND r.month = x.month;

WITH e AS (
    SELECT l.coach_id, l.client_id, l.kind, l.created_at, l.delta, p.kind AS pack_kind, p.price_amount,
        p.sessions_credited, sum(l.delta) OVER (PARTITION BY l.pack_id ORDER BY l.id) AS after_sum
    FROM ledger_entries l LEFT JOIN packs p ON p.id = l.pack_id
), x AS (
    SELECT coach_id, client_id, report_month(coach_id, created_at) AS month,
        sum(CASE WHEN pack_kind = 'sessions' AND delta <> 0 AND kind NOT IN ('purchase', 'refund_reversal')
            THEN report_earned(price_amount, sessions_credited, after_sum)
               - report_earned(price_amount, sessions_credited, after_sum - delta) ELSE 0 END) AS earned,
        count(*) FILTER (WHERE kind = 'waiver') AS waived
    FROM e GROUP BY 1, 2, 3
)
INSERT INTO report_client_months AS r (coach_id, client_id, month, earned_sessions, waived)
SELECT coach_id, client_id, month, earned, waived FROM x WHERE earned <> 0 OR waived <> 0
ON CONFLICT (coach_id, month, client_id) DO UPDATE SET
    earned_sessions = r.earned_sessions + excluded.earned_sessions, waived = r.waived + excluded.waived;

INSERT INTO report_coach_months (coach_id, month, earned_sessions, bookings, coach_cancelled)
SELECT coach_id, month, sum(earned_sessions), sum(attended + no_shows + cancelled + late_cancelled + coach_cancelled),
    sum(coach_cancelled)
FROM report_client_months GROUP BY 1, 2;

-- The months where a client had an incident, for the reliability report
-- (most client-months have none).
CREATE INDEX report_client_months_incidents_idx ON report_client_months (coach_id, month, client_id)
    INCLUDE (late_cancelled, no_shows, waived) WHERE late_cancelled + no_shows + waived > 0;

-- The months where a client booked right after a coach's cancellation,
-- and one client's months.
CREATE INDEX report_client_months_after_coach_idx ON report_client_months (coach_id, month, client_id)
    WHERE after_coach_cancel > 0;
CREATE INDEX report_client_months_client_idx ON report_client_months (coach_id, client_id, month);

-- Money by date, and the installments still expected, per coach.
CREATE INDEX payments_coach_time_idx ON payments (coach_id, occurred_at);
CREATE INDEX installments_coach_due_idx ON installments (coach_id, due_at);

-- +goose Down
DROP INDEX installments_coach_due_idx;
DROP INDEX report_client_months_incidents_idx;
DROP INDEX report_client_months_after_coach_idx;
DROP INDEX report_client_months_client_idx;
DROP INDEX payments_coach_time_idx;
DROP TRIGGER report_booking_outcome ON bookings;
DROP FUNCTION report_booking_outcome();
DROP TRIGGER report_ledger_entry ON ledger_entries;
DROP FUNCTION report_ledger_entry();
DROP FUNCTION report_earned(bigint, int, bigint);
DROP FUNCTION report_month(bigint, timestamptz);
DROP TABLE report_client_months;
DROP TABLE report_coach_months;
DROP TABLE report_coach_month_deltas;
DROP TABLE report_settings;
ALTER TABLE bookings DROP COLUMN client_confirmed_at;
