package auth

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
)

// recordFailure counts one failed authentication from addr at now, under
// the row's lock (several processes share it), and says how long addr must
// now wait. Old windows are forgotten on the way.
func recordFailure(ctx context.Context, d *sqlx.DB, addr string, now time.Time) (time.Duration, error) {
	var wait time.Duration
	var blocked bool // newly, by this failure
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_failures (addr, window_start) VALUES ($1, $2)
			ON CONFLICT (addr) DO NOTHING`, addr, now); err != nil {
			return err
		}
		var s FailureState
		if err := tx.GetContext(ctx, &s, `SELECT window_start, failures, blocked_until FROM auth_failures
			WHERE addr = $1 FOR UPDATE`, addr); err != nil {
			return err
		}
		if s.Failures == 0 {
			s.WindowStart = time.Time{} // the row just made: the rule starts the window
		}
		was := Blocked(s, now) > 0
		s = AfterFailure(s, now)
		wait = Blocked(s, now)
		blocked = !was && wait > 0
		if _, err := tx.ExecContext(ctx, `UPDATE auth_failures SET window_start = $2, failures = $3, blocked_until = $4
			WHERE addr = $1`, addr, s.WindowStart, s.Failures, s.BlockedUntil); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM auth_failures WHERE window_start < $1
			AND (blocked_until IS NULL OR blocked_until < $2)`, now.Add(-24*time.Hour), now)
		return err
	})
	if err == nil && blocked {
		forgetLocal(d) // the other processes hear of it from the triggers
	}
	return wait, err
}

// notBlocked is the condition a valid credential's own query adds, so that
// checking the throttle costs a valid key no extra round trip.
const notBlocked = `NOT EXISTS (SELECT 1 FROM auth_failures f WHERE f.addr = $2 AND f.blocked_until > $3)`

// CountFailure counts a credential that was sent and refused against the
// caller's address (a missing one guesses nothing) and returns what to
// answer: err, or past the allowance 429 rate_limited with Retry-After.
func CountFailure(ctx context.Context, d *sqlx.DB, addr string, now time.Time, sent string, err error) error {
	if sent == "" || errs.CodeOf(err) != errs.Unauthorized {
		return err
	}
	wait, rerr := recordFailure(ctx, d, addr, now.UTC())
	switch {
	case rerr != nil:
		return rerr
	case wait > 0:
		e := errs.New(errs.RateLimited, "too many failed attempts from your address; try again in %d seconds", RetryAfter(wait))
		e.RetryAfter = RetryAfter(wait)
		return e
	}
	return err
}
