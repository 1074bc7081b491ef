package reports

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Fold moves the committed deltas into report_coach_months in one
// statement: a reader's snapshot sees them on one side or the other, never
// both; deltas still being written wait for the next fold; two folds at
// once cannot take the same delta twice.
func Fold(ctx context.Context, d *sqlx.DB) error {
	_, err := d.ExecContext(ctx, `WITH moved AS (DELETE FROM report_coach_month_deltas
		RETURNING coach_id, month, earned_sessions, bookings, coach_cancelled)
		INSERT INTO report_coach_months AS r (coach_id, month, earned_sessions, bookings, coach_cancelled)
		SELECT coach_id, month, sum(earned_sessions), sum(bookings), sum(coach_cancelled) FROM moved GROUP BY 1, 2
		ON CONFLICT (coach_id, month) DO UPDATE SET earned_sessions = r.earned_sessions + excluded.earned_sessions,
			bookings = r.bookings + excluded.bookings, coach_cancelled = r.coach_cancelled + excluded.coach_cancelled`)
	return err
}

// coachMonths is a coach's months from $2 to $3, folded or not.
const coachMonths = `SELECT month, sum(earned_sessions)::bigint AS earned_sessions, sum(bookings)::int AS bookings,
	sum(coach_cancelled)::int AS coach_cancelled FROM (
		SELECT month, earned_sessions, bookings, coach_cancelled FROM report_coach_months
		WHERE coach_id = $1 AND month >= $2 AND month < $3
		UNION ALL
		SELECT month, earned_sessions, bookings, coach_cancelled FROM report_coach_month_deltas
		WHERE coach_id = $1 AND month >= $2 AND month < $3) x GROUP BY month`
