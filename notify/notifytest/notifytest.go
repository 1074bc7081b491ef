// Package notifytest sends the outbox in tests as River does in production:
// each notify.send job due by the test's clock is worked through River's own
// executor (rivertest), so attempts, back-off, snoozes and giving up are
// River's, by the clock the test moves.
package notifytest

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertest"

	"carnet/notify"
)

// clock is the test's clock as River's time generator.
type clock func() time.Time

func (c clock) Now() time.Time { return c() }
func (c clock) NowOrNil() *time.Time {
	t := c()
	return &t
}

// Work runs, once each, the send jobs due by d's clock (oldest first), and
// returns how many it ran. A send that fails is scheduled again by River,
// later than now, so it is not run twice by one call.
func Work(tb testing.TB, db *sqlx.DB, d *notify.Dispatcher) int {
	tb.Helper()
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	ctx := context.Background()
	driver := riverdatabasesql.New(db.DB)
	w := rivertest.NewWorker(tb, driver, &river.Config{Test: river.TestConfig{Time: clock(now)}}, &notify.SendWorker{Dispatcher: d})
	client, err := river.NewClient(driver, &river.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	var ids []int64
	// A job never tried is due when its message is (at once, or when its
	// hold ends), by the test's clock, however far that is from the
	// database's, which dated the job; a retry when River scheduled it (by
	// the same clock: SendWorker.NextRetry).
	if err := db.SelectContext(ctx, &ids, `SELECT j.id FROM river_job j
		LEFT JOIN notifications n ON n.id = (j.args->>'id')::bigint
		WHERE j.kind = $1 AND j.state IN ('available', 'scheduled', 'retryable')
			AND CASE WHEN j.attempt = 0 THEN n.not_before IS NULL OR n.not_before <= $2 ELSE j.scheduled_at <= $2 END
		ORDER BY j.id`, notify.SendArgs{}.Kind(), now().UTC()); err != nil {
		tb.Fatal(err)
	}
	for _, id := range ids {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		job, err := client.JobGetTx(ctx, tx, id)
		if err != nil {
			tb.Fatal(err)
		}
		// The worker's own error (a failed send) is River's to record.
		if _, err := w.WorkJob(ctx, tb, tx, job); err != nil {
			tb.Logf("notify.send job %d: %v", id, err)
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	return len(ids)
}
