package packs

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
)

// ExpireArgs is the periodic job that moves packs to expired on time.
type ExpireArgs struct{}

// Kind names the job in River's table.
func (ExpireArgs) Kind() string { return "packs.expire" }

// ExpiryWorker expires every pack due; ExpireDue makes overlapping runs safe.
type ExpiryWorker struct {
	river.WorkerDefaults[ExpireArgs]
	DB  *sqlx.DB
	Now func() time.Time
}

// Work runs one expiry pass.
func (w *ExpiryWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	_, err := w.runOnce(ctx)
	return err
}

// runOnce expires everything due now, batch after batch.
func (w *ExpiryWorker) runOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := ExpireDue(ctx, w.DB, w.Now().UTC())
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// ExpiryGrace is how long after its validity ends a pack is written off. A
// pack stops paying for sessions that start after valid_until at once; the
// grace only lets a coach still mark sessions held before the end.
const ExpiryGrace = 72 * time.Hour
