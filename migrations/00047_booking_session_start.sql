-- +goose Up
-- The reports' outcome trigger looked for the client's previous booking by
-- sorting every booking the client ever had by its session's start, on each
-- first outcome (issue 15): its cost grew with the client's history. A
-- booking now carries its session's start, kept by triggers whoever writes
-- (the previous release too), and the look-up is one step back along an
-- index. Added only: the previous release runs on this schema unchanged.

ALTER TABLE bookings ADD COLUMN session_starts_at timestamptz;

-- A booking takes its session's start when it is written. FOR SHARE waits
-- for a reschedule of that session in flight (which takes the row FOR NO KEY
-- UPDATE), so a booking never keeps a start its session no longer has.
-- +goose StatementBegin
CREATE FUNCTION bookings_session_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT starts_at INTO NEW.session_starts_at FROM sessions WHERE id = NEW.session_id FOR SHARE;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER bookings_session_start BEFORE INSERT OR UPDATE OF session_id ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_session_start();

-- A rescheduled session moves its bookings' copy.
-- +goose StatementBegin
CREATE FUNCTION sessions_start_to_bookings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bookings SET session_starts_at = NEW.starts_at WHERE session_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sessions_start_to_bookings AFTER UPDATE OF starts_at ON sessions
    FOR EACH ROW WHEN (OLD.starts_at IS DISTINCT FROM NEW.starts_at)
    EXECUTE FUNCTION sessions_start_to_bookings();

-- The triggers above hold bookings' writers off until this commits, so the
-- rows already there are copied with none missed.
UPDATE bookings b SET session_starts_at = s.starts_at FROM sessions s WHERE s.id = b.session_id;

-- The client's bookings in the order of their sessions. Not the outcome:
-- an outcome's update stays a HOT update.
CREATE INDEX bookings_client_start_idx ON bookings (coach_id, client_id, session_starts_at, id);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_booking_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
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
        -- One step back along the client's bookings by start (an index), not
        -- a sort of every booking they ever had.
        SELECT b.outcome INTO prev FROM bookings b
        WHERE b.coach_id = NEW.coach_id AND b.client_id = NEW.client_id AND b.id <> NEW.id
            AND (b.session_starts_at, b.id) < (starts, NEW.id)
        ORDER BY b.session_starts_at DESC, b.id DESC LIMIT 1;
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

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_booking_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP INDEX bookings_client_start_idx;
DROP TRIGGER sessions_start_to_bookings ON sessions;
DROP FUNCTION sessions_start_to_bookings();
DROP TRIGGER bookings_session_start ON bookings;
DROP FUNCTION bookings_session_start();
ALTER TABLE bookings DROP COLUMN session_starts_at;
