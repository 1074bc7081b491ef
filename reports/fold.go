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
