-- +goose Up
-- report_month and coach_locale were SQL functions with a subquery, which
-- PostgreSQL cannot inline: it parsed and planned their bodies again in
-- every transaction that called them (a profile of the backends under the
-- attendance load showed a tenth of their time in it; every ledger entry and
-- booking outcome calls report_month through the reports' triggers, and
-- every API request coach_locale). The same bodies in PL/pgSQL keep their
-- plan for the connection's life. Same names, arguments and results: the
-- previous release calls them unchanged.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_month(p_coach bigint, t timestamptz) RETURNS date LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN date_trunc('month', t AT TIME ZONE (SELECT timezone FROM coaches WHERE id = p_coach))::date;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION coach_locale(coach bigint) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce((SELECT locale FROM coach_preferences WHERE coach_id = coach), 'fr');
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION report_month(p_coach bigint, t timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT date_trunc('month', t AT TIME ZONE (SELECT timezone FROM coaches WHERE id = p_coach))::date
$$;
-- +goose StatementEnd
CREATE OR REPLACE FUNCTION coach_locale(coach bigint) RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce((SELECT locale FROM coach_preferences WHERE coach_id = coach), 'fr') $$;
