-- +goose Up
-- Coaches have a language like clients: every page and message to a coach
-- is written in it; and a country, which decides the payment methods Stripe
-- offers (PayPal). They live in a table of their own, not in `coaches`: the
-- previous release reads `coaches` with `SELECT *`, and sqlx refuses a
-- column it has no field for, so a new column there would break it during a
-- rolling deploy. A coach without a row here reads French and no country.
CREATE TABLE coach_preferences (
    coach_id bigint PRIMARY KEY REFERENCES coaches (id) ON DELETE CASCADE,
    locale text NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'es', 'en')),
    country text CHECK (country ~ '^[A-Z]{2}$')
);

-- coach_locale is the coach's language, for queries that load one.
CREATE FUNCTION coach_locale(coach bigint) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce((SELECT locale FROM coach_preferences WHERE coach_id = coach), 'fr') $$;

-- +goose Down
DROP FUNCTION coach_locale(bigint);
DROP TABLE coach_preferences;
