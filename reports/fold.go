package reports

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
)

// FoldArgs folds the coach-level deltas the triggers append into one row
// per coach and month (a periodic job, run by the elected leader).
type FoldArgs struct{}

// Kind names the job in River's table.
func (FoldArgs) Kind() string { return "reports.fold" }

// FoldWorker runs FoldArgs jobs.
type FoldWorker struct {
	river.WorkerDefaults[FoldArgs]
	DB *sqlx.DB
}

// Work folds.
func (w *FoldWorker) Work(ctx context.Context, _ *river.Job[FoldArgs]) error { return Fold(ctx, w.DB) }

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
