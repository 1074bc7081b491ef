package auth

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
)

// IssueSignIn stores a one-time sign-in token for a coach in tx (so the email
// that carries it is written in the same transaction) and returns it: only
// its hash is kept.
func IssueSignIn(ctx context.Context, tx *sqlx.Tx, coachID int64, now time.Time) (string, error) {
	token := "si_" + randomToken(32)
	_, err := tx.ExecContext(ctx, `INSERT INTO web_signin_tokens (coach_id, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4)`, coachID, hashKey(token), now.UTC(), now.UTC().Add(SignInTTL))
	return token, err
}

// SignInLink issues a sign-in token in its own transaction (the demo prints
// one when there is no SMTP server).
func SignInLink(ctx context.Context, d *sqlx.DB, coachID int64, now time.Time) (string, error) {
	var token string
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) (err error) {
		token, err = IssueSignIn(ctx, tx, coachID, now)
		return err
	})
	return token, err
}

// UseSignIn spends a sign-in token, once, before it expires, and opens a
// session. Two browsers racing on one link: the conditional UPDATE lets one win.
func UseSignIn(ctx context.Context, d *sqlx.DB, token string, now time.Time) (Coach, string, error) {
	var c Coach
	var session string
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var coachID int64
		err := tx.GetContext(ctx, &coachID, `UPDATE web_signin_tokens SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING coach_id`, hashKey(token), now.UTC())
		if db.NoRows(err) {
			return errs.New(errs.Unauthorized, "this sign-in link has expired or was already used")
		}
		if err != nil {
			return err
		}
		if c, err = CoachByID(ctx, tx, coachID); err != nil {
			return err
		}
		session, err = openSession(ctx, tx, coachID, ByEmail, now)
		return err
	})
	return c, session, err
}

// SignInWithKey opens a session for the coach an API key names (the demo's
// way in). Failures from addr are throttled like the API's.
func SignInWithKey(ctx context.Context, d *sqlx.DB, key, addr string, now time.Time) (Coach, string, error) {
	c, err := coachByKey(ctx, d, key, addr, now)
	if err != nil {
		return c, "", CountFailure(ctx, d, addr, now, key, err)
	}
	s, err := openSession(ctx, d, c.ID, ByAPIKey, now)
	return c, s, err
}

func openSession(ctx context.Context, e sqlx.ExecerContext, coachID int64, method string, now time.Time) (string, error) {
	// Each sign-in sweeps the coach's expired sessions and spent links, so
	// the tables hold only what can still be used.
	if _, err := e.ExecContext(ctx, `DELETE FROM web_sessions WHERE coach_id = $1 AND expires_at <= $2`,
		coachID, now.UTC()); err != nil {
		return "", err
	}
	if _, err := e.ExecContext(ctx, `DELETE FROM web_signin_tokens WHERE coach_id = $1 AND expires_at <= $2`,
		coachID, now.UTC().Add(-SignInTTL)); err != nil {
		return "", err
	}
	token := "ws_" + randomToken(32)
	_, err := e.ExecContext(ctx, `INSERT INTO web_sessions (token_hash, coach_id, created_at, expires_at, method)
		VALUES ($1, $2, $3, $4, $5)`, hashKey(token), coachID, now.UTC(), now.UTC().Add(SessionTTL), method)
	return token, err
}

// CoachBySession finds the coach of a live session.
func CoachBySession(ctx context.Context, d *sqlx.DB, token string, now time.Time) (Coach, error) {
	var c Coach
	err := d.GetContext(ctx, &c, `SELECT `+coachColsC+` FROM coaches c
		JOIN web_sessions s ON s.coach_id = c.id WHERE s.token_hash = $1 AND s.expires_at > $2`,
		hashKey(token), now.UTC())
	if db.NoRows(err) {
		return c, errs.New(errs.Unauthorized, "signed out")
	}
	return c, err
}

// SignOut ends one session.
func SignOut(ctx context.Context, d *sqlx.DB, token string) error {
	_, err := d.ExecContext(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, hashKey(token))
	return err
}

// SignOutEverywhere ends every session of a coach (and spends its unused
// sign-in links), on every device.
func SignOutEverywhere(ctx context.Context, d *sqlx.DB, coachID int64, now time.Time) error {
	return db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE coach_id = $1`, coachID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE web_signin_tokens SET used_at = $2 WHERE coach_id = $1 AND used_at IS NULL`,
			coachID, now.UTC())
		return err
	})
}

// APIKeys lists a coach's keys, live ones first, newest first.
func APIKeys(ctx context.Context, d *sqlx.DB, coachID int64) ([]APIKey, error) {
	keys := []APIKey{}
	err := d.SelectContext(ctx, &keys, `SELECT id, label, created_at, revoked_at FROM api_keys
		WHERE coach_id = $1 ORDER BY revoked_at IS NOT NULL, id DESC`, coachID)
	return keys, err
}

// RevokeKey revokes one of a coach's keys; another coach's key is not found.
func RevokeKey(ctx context.Context, d *sqlx.DB, coachID, keyID int64, now time.Time) error {
	res, err := d.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $3)
		WHERE coach_id = $1 AND id = $2`, coachID, keyID, now.UTC())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("no API key %d", keyID)
	}
	forgetLocal(d) // the other processes hear of it from the triggers
	return nil
}
