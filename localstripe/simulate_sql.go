package localstripe

import (
	"context"

	"github.com/jmoiron/sqlx"

	"carnet/internal/errs"
)

// loadSimPack reads a pack and its next installment to collect.
func loadSimPack(ctx context.Context, d *sqlx.DB, packID int64) (simPack, error) {
	var p simPack
	err := d.GetContext(ctx, &p, `SELECT p.id, p.plan, p.currency, p.price_amount, p.stripe_checkout_session_id,
		p.stripe_subscription_id,
		(SELECT seq FROM installments WHERE pack_id = p.id AND status IN ('due', 'failed') ORDER BY seq LIMIT 1) AS next_seq,
		(SELECT amount FROM installments WHERE pack_id = p.id AND status IN ('due', 'failed') ORDER BY seq LIMIT 1) AS next_amount,
		(SELECT due_at FROM installments WHERE pack_id = p.id AND status IN ('due', 'failed') ORDER BY seq LIMIT 1) AS next_due,
		coalesce((SELECT amount FROM installments WHERE pack_id = p.id AND seq = 1), p.price_amount) AS first_amount,
		(SELECT method FROM payments WHERE pack_id = p.id AND kind = 'charge' AND method IS NOT NULL ORDER BY id LIMIT 1) AS method
		FROM packs p WHERE p.id = $1`, packID)
	if err != nil {
		return p, errs.NotFoundf("no pack %d", packID)
	}
	return p, nil
}
