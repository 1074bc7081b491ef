package packs

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/db"
)

// ExpireDue moves every pack whose validity ended more than ExpiryGrace ago
// to expired, writing off its remaining sessions as an expiry entry. Safe to
// run from many processes at once: each pack is taken under a row lock and
// skipped if another process holds it, and only still-live packs are touched.
func ExpireDue(ctx context.Context, d *sqlx.DB, now time.Time) (int, error) {
	n := 0
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		var due []Pack
		if err := tx.SelectContext(ctx, &due, `SELECT `+packCols+` FROM packs WHERE status = ANY($2)
			AND valid_until <= $1 ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED`, now.Add(-ExpiryGrace),
			pq.Array(MovableTo(StatusExpired))); err != nil {
			return err
		}
		for _, p := range due {
			if p.SessionsRemaining > 0 {
				if err := addEntry(ctx, tx, entry{CoachID: p.CoachID, ClientID: p.ClientID, PackID: p.ID,
					Kind: "expiry", Delta: -p.SessionsRemaining, Reason: "validity ended", At: now}); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE packs SET status = $3, sessions_remaining = 0,
				updated_at = $2 WHERE id = $1 AND status = ANY($4)`, p.ID, now, StatusExpired,
				pq.Array(MovableTo(StatusExpired))); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
