package main

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/internal/api"
)

// The idempotency keys' purge is plumbing of internal/api run on River
// (internal/jobs); neither knows the other, so the job is wired here.

// purgeArgs is the periodic job that runs api.PurgeIdempotencyKeys. Its
// kind is unchanged, so jobs an older release queued still run.
type purgeArgs struct{}

// Kind names the job in River's table.
func (purgeArgs) Kind() string { return "api.purge_idempotency_keys" }

// purgeWorker forgets expired idempotency keys.
type purgeWorker struct {
	river.WorkerDefaults[purgeArgs]
	DB *sqlx.DB
}

// Work runs one purge.
func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[purgeArgs]) error {
	_, err := api.PurgeIdempotencyKeys(ctx, w.DB)
	return err
}
