package auth

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/i18n"
	"carnet/internal/money"
)

// CreateCoach stores a coach and returns it with its first API key, the only
// time that key is ever visible.
func CreateCoach(ctx context.Context, d *sqlx.DB, n NewCoach) (Coach, string, error) {
	if err := n.validate(); err != nil {
		return Coach{}, "", err
	}
	var c Coach
	var key string
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &c, `INSERT INTO coaches (name, email, currency, timezone)
			VALUES ($1, $2, $3, $4) RETURNING `+coachCols, n.Name, n.Email, n.Currency, n.Timezone)
		if db.IsUniqueViolation(err, "coaches_email_key") {
			return errs.New(errs.Conflict, "a coach with email %s already exists", n.Email)
		}
		if err != nil {
			return err
		}
		key, err = issueKey(ctx, tx, c.ID, "first key")
		return err
	})
	return c, key, err
}

// CoachByEmail finds a coach by email.
func CoachByEmail(ctx context.Context, d sqlx.QueryerContext, email string) (Coach, error) {
	var c Coach
	err := sqlx.GetContext(ctx, d, &c, `SELECT `+coachCols+` FROM coaches WHERE lower(email) = lower($1)`, email)
	if db.NoRows(err) {
		return c, errs.NotFoundf("no coach with email %s", email)
	}
	return c, err
}

// IssueKey creates another API key for a coach and returns it once.
func IssueKey(ctx context.Context, d *sqlx.DB, coachID int64, label string) (string, error) {
	return issueKey(ctx, d, coachID, label)
}

func issueKey(ctx context.Context, e sqlx.ExecerContext, coachID int64, label string) (string, error) {
	key := "ck_" + randomToken(32)
	_, err := e.ExecContext(ctx, `INSERT INTO api_keys (coach_id, key_hash, label) VALUES ($1, $2, $3)`,
		coachID, hashKey(key), label)
	return key, err
}

// coachByKeyFrom authenticates an API key sent from addr in the database: a
// blocked address is refused like an unknown key (the caller then learns
// why), in the key's one statement. Requests go through coachByKey, which
// answers a key checked in the last few seconds from the process's
// KeyCache: the triggers of migration 00049 flush it on every process when
// a key, a coach or a block changes (keycache.go).
func coachByKeyFrom(ctx context.Context, d *sqlx.DB, key, addr string, now time.Time) (Coach, error) {
	var c Coach
	err := d.GetContext(ctx, &c, `SELECT `+coachColsC+` FROM coaches c
		JOIN api_keys k ON k.coach_id = c.id WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND `+notBlocked, hashKey(key), addr, now.UTC())
	if db.NoRows(err) {
		return Coach{}, errs.New(errs.Unauthorized, "unknown or revoked API key")
	}
	return c, err
}

// CoachByID loads a coach.
func CoachByID(ctx context.Context, d sqlx.QueryerContext, id int64) (Coach, error) {
	var c Coach
	err := sqlx.GetContext(ctx, d, &c, `SELECT `+coachCols+` FROM coaches WHERE id = $1`, id)
	if db.NoRows(err) {
		return c, errs.NotFoundf("no coach %d", id)
	}
	return c, err
}

// UpdateSettings changes a coach's language, time zone and currency (the
// currency of offers created from now on; existing ones keep theirs).
func UpdateSettings(ctx context.Context, d *sqlx.DB, coachID int64, s CoachSettings) (Coach, error) {
	var c Coach
	switch {
	case !i18n.Valid(s.Locale):
		return c, errs.Field("locale", "must be fr, es or en")
	case !money.ValidCurrency(s.Currency):
		return c, errs.Field("currency", "must be an ISO 4217 code such as EUR")
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil || s.Timezone == "Local" || s.Timezone == "" {
		return c, errs.Field("timezone", "must be an IANA time zone such as Europe/Paris")
	}
	country, err := countryOf(s.Country)
	if err != nil {
		return c, err
	}
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return c, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op once committed
	if _, err := tx.ExecContext(ctx, `INSERT INTO coach_preferences (coach_id, locale, country) VALUES ($1, $2, $3)
		ON CONFLICT (coach_id) DO UPDATE SET locale = excluded.locale, country = excluded.country`, coachID, s.Locale, country); err != nil {
		return c, err
	}
	if err := tx.GetContext(ctx, &c, `UPDATE coaches SET timezone = $2, currency = $3 WHERE id = $1
		RETURNING `+coachCols, coachID, s.Timezone, s.Currency); err != nil {
		return c, err
	}
	if err := tx.Commit(); err != nil {
		return c, err
	}
	forgetLocal(d) // the other processes hear of it from the triggers
	return c, nil
}
