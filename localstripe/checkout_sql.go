package localstripe

import (
	"context"

	"github.com/jmoiron/sqlx"

	"carnet/internal/errs"
)

// checkoutPage reads the pack a checkout sold and its installments; a pack
// not sold through checkout is not found.
func checkoutPage(ctx context.Context, d *sqlx.DB, id int64) (localView, error) {
	var v localView
	if err := d.GetContext(ctx, &v, `SELECT p.id, o.name AS offer, p.status, p.sessions_remaining, p.plan, p.kind
		FROM packs p JOIN offers o ON o.id = p.offer_id WHERE p.id = $1 AND p.stripe_checkout_session_id IS NOT NULL`, id); err != nil {
		return v, errs.NotFoundf("no checkout for pack %d", id)
	}
	err := d.SelectContext(ctx, &v.Installments, `SELECT seq, due_at, amount, currency, status
		FROM installments WHERE pack_id = $1 ORDER BY seq`, id)
	return v, err
}
