package reconcile

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
)

// Orphans are the payments from a Stripe customer no coach knows: an
// unmatched payment with no coach to show it to, so whoever runs Carnet
// sees and settles it (carnet unmatched). open: only those not settled.
func Orphans(ctx context.Context, d *sqlx.DB, open bool) ([]Anomaly, error) {
	out := []Anomaly{}
	err := d.SelectContext(ctx, &out, `SELECT `+anomalyCols+` FROM anomalies WHERE kind = $1 AND coach_id IS NULL
		AND (state = 'open' OR NOT $2) ORDER BY id`, KindUnmatched, open)
	return out, err
}

// SettleOrphan closes an orphan payment with the operator's note (what was
// done: refunded from the Stripe dashboard, given to a coach...). Settling
// it again with the same note is a retry and changes nothing.
func SettleOrphan(ctx context.Context, d *sqlx.DB, id int64, note string, now time.Time) (Anomaly, error) {
	note = strings.TrimSpace(note)
	if note == "" || len(note) > 500 {
		return Anomaly{}, errs.Field("note", "say what was done (at most 500 characters)")
	}
	var a Anomaly
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &a, `SELECT `+anomalyCols+` FROM anomalies WHERE id = $1 AND kind = $2 AND coach_id IS NULL FOR UPDATE`,
			id, KindUnmatched)
		switch {
		case db.NoRows(err):
			return errs.NotFoundf("no payment %d from an unknown customer", id)
		case err != nil:
			return err
		case a.State != StateOpen && a.Resolution == note:
			return nil
		case a.State != StateOpen:
			return errs.New(errs.Conflict, "payment %d was already settled: %s", id, a.Resolution)
		}
		return tx.GetContext(ctx, &a, `UPDATE anomalies SET state = 'resolved', resolved_by = 'operator', resolution = $2,
			closed_at = $3, updated_at = $3 WHERE id = $1 RETURNING `+anomalyCols, id, note, now)
	})
	return a, err
}
