-- +goose Up
-- Each `carnet serve` keeps the API keys it has checked in memory for a few
-- seconds (internal/auth, keycache.go) and LISTENs on carnet_auth: these
-- triggers tell every process, whoever made the change (this release, the
-- previous one, plain SQL), that what it may have cached is stale. They fire
-- only on the rare changes that matter: a key revoked, changed or deleted; a
-- coach's own columns or preferences (what auth.Coach carries) changed; an
-- address newly blocked by the throttle. Never on a failure that does not
-- block, nor on an update that leaves those columns as they were: a NOTIFY
-- serialises the commits of the transactions that send one, so it must stay
-- rare. The payload names the table (the processes flush everything anyway).
-- +goose StatementBegin
CREATE FUNCTION carnet_auth_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('carnet_auth', TG_TABLE_NAME);
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER api_keys_auth_notify_update AFTER UPDATE OF key_hash, coach_id, revoked_at ON api_keys
    FOR EACH ROW WHEN (OLD.key_hash IS DISTINCT FROM NEW.key_hash OR OLD.coach_id IS DISTINCT FROM NEW.coach_id
        OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER api_keys_auth_notify_delete AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER api_keys_auth_notify_truncate AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_auth_notify();

-- The columns auth.Coach reads from coaches (a column a later release adds,
-- which no cached Coach carries, does not notify).
CREATE TRIGGER coaches_auth_notify_update AFTER UPDATE OF id, name, email, currency, timezone, created_at ON coaches
    FOR EACH ROW WHEN ((OLD.id, OLD.name, OLD.email, OLD.currency, OLD.timezone, OLD.created_at)
        IS DISTINCT FROM (NEW.id, NEW.name, NEW.email, NEW.currency, NEW.timezone, NEW.created_at))
    EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER coaches_auth_notify_delete AFTER DELETE ON coaches
    FOR EACH ROW EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER coaches_auth_notify_truncate AFTER TRUNCATE ON coaches
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_auth_notify();

-- A coach's language and country (Coach.Locale, Coach.Country).
CREATE TRIGGER coach_preferences_auth_notify_insert AFTER INSERT ON coach_preferences
    FOR EACH ROW EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER coach_preferences_auth_notify_update AFTER UPDATE ON coach_preferences
    FOR EACH ROW WHEN ((OLD.coach_id, OLD.locale, OLD.country) IS DISTINCT FROM (NEW.coach_id, NEW.locale, NEW.country))
    EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER coach_preferences_auth_notify_delete AFTER DELETE ON coach_preferences
    FOR EACH ROW EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER coach_preferences_auth_notify_truncate AFTER TRUNCATE ON coach_preferences
    FOR EACH STATEMENT EXECUTE FUNCTION carnet_auth_notify();

-- An address becoming blocked (a block ending, or a failure counted, needs
-- no word: the cache holds only successes, each checked against the block).
CREATE TRIGGER auth_failures_auth_notify_insert AFTER INSERT ON auth_failures
    FOR EACH ROW WHEN (NEW.blocked_until IS NOT NULL)
    EXECUTE FUNCTION carnet_auth_notify();
CREATE TRIGGER auth_failures_auth_notify_update AFTER UPDATE OF addr, blocked_until ON auth_failures
    FOR EACH ROW WHEN (NEW.blocked_until IS NOT NULL
        AND (OLD.addr, OLD.blocked_until) IS DISTINCT FROM (NEW.addr, NEW.blocked_until))
    EXECUTE FUNCTION carnet_auth_notify();

-- +goose Down
DROP TRIGGER auth_failures_auth_notify_update ON auth_failures;
DROP TRIGGER auth_failures_auth_notify_insert ON auth_failures;
DROP TRIGGER coach_preferences_auth_notify_truncate ON coach_preferences;
DROP TRIGGER coach_preferences_auth_notify_delete ON coach_preferences;
DROP TRIGGER coach_preferences_auth_notify_update ON coach_preferences;
DROP TRIGGER coach_preferences_auth_notify_insert ON coach_preferences;
DROP TRIGGER coaches_auth_notify_truncate ON coaches;
DROP TRIGGER coaches_auth_notify_delete ON coaches;
DROP TRIGGER coaches_auth_notify_update ON coaches;
DROP TRIGGER api_keys_auth_notify_truncate ON api_keys;
DROP TRIGGER api_keys_auth_notify_delete ON api_keys;
DROP TRIGGER api_keys_auth_notify_update ON api_keys;
DROP FUNCTION carnet_auth_notify();
