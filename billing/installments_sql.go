package billing

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// settleInstallment applies an invoice report to the installment
// InstallmentFor picks among the pack's, locked: a paid report marks it paid
// (once: a paid installment keeps its first date), a failed one failed.
func settleInstallment(ctx context.Context, tx *sqlx.Tx, packID int64, r InvoiceReport, at time.Time) (Installment, bool, error) {
	var list []Installment
	if err := tx.SelectContext(ctx, &list, `SELECT id, seq, due_at, status, stripe_invoice_id FROM installments
		WHERE pack_id = $1 ORDER BY seq FOR UPDATE`, packID); err != nil {
		return Installment{}, false, err
	}
	i, ok := InstallmentFor(list, r)
	switch {
	case !ok:
		return i, false, nil
	case r.Failed:
		_, err := tx.ExecContext(ctx, `UPDATE installments SET status = 'failed', stripe_invoice_id = $2 WHERE id = $1`, i.ID, r.Invoice)
		return i, true, err
	case i.Status != "paid":
		_, err := tx.ExecContext(ctx, `UPDATE installments SET status = 'paid', paid_at = $3, stripe_invoice_id = $2 WHERE id = $1`,
			i.ID, r.Invoice, at)
		return i, true, err
	}
	return i, true, nil
}

// lostDisputeAt is when a dispute on the pack was first lost, if one was.
func lostDisputeAt(ctx context.Context, tx *sqlx.Tx, packID int64) (*time.Time, error) {
	var at *time.Time
	err := tx.GetContext(ctx, &at, `SELECT min(occurred_at) FROM payments WHERE pack_id = $1 AND kind = 'dispute' AND status = 'lost'`, packID)
	return at, err
}
