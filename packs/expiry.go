package packs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
)

// Expirer moves packs to expired on time, in the background of every serve
// process; ExpireDue makes concurrent runs safe.
type Expirer struct {
	DB    *sqlx.DB
	Now   func() time.Time
	Every time.Duration
	Log   *slog.Logger
}

// Start runs the expiry every e.Every until ctx ends.
func (e *Expirer) Start(ctx context.Context) {
	go func() {
		t := time.NewTicker(e.Every)
		defer t.Stop()
		for {
			if _, err := e.runOnce(ctx); err != nil && ctx.Err() == nil {
				e.Log.Error("pack expiry", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// runOnce expires everything due now, batch after batch.
func (e *Expirer) runOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := ExpireDue(ctx, e.DB, e.Now().UTC())
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}
