package packs

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// These move a pack through its life when money says so; billing calls them
// inside the transaction that records the payment event. Each is an UPDATE
// guarded by the transition table (MovableTo), so a repeated or late event
// changes nothing twice and no event makes a move the table forbids.

// CancelPending cancels a pack whose checkout expired or whose first payment
// failed; an active pack is left alone.
func CancelPending(ctx context.Context, tx *sqlx.Tx, packID int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE packs SET status = $3, updated_at = $2
		WHERE id = $1 AND status = ANY($4)`, packID, at, StatusCancelled, pq.Array(MovableTo(StatusCancelled)))
	return err
}

// MarkOverdue flags a live pack whose installment failed; the charter's grace
// days, counted from the first failure, decide when it stops paying.
func MarkOverdue(ctx context.Context, tx *sqlx.Tx, packID int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE packs SET status = $3, overdue_since = coalesce(overdue_since, $2),
		updated_at = $2 WHERE id = $1 AND status = ANY($4)`, packID, at, StatusOverdue,
		pq.Array(MovableTo(StatusOverdue)))
	return err
}

// ClearOverdue puts a pack back in service once nothing is owed late.
func ClearOverdue(ctx context.Context, tx *sqlx.Tx, packID int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE packs SET overdue_since = NULL, updated_at = $2,
		status = CASE WHEN kind = 'sessions' AND sessions_remaining = 0 THEN $3 ELSE $4 END
		WHERE id = $1 AND status = ANY($5)`, packID, at, StatusExhausted, StatusActive,
		pq.Array(MovableTo(StatusActive, StatusExhausted)))
	return err
}

// EndRefunded closes a pack whose money went back (full refund, lost
// dispute): its remaining sessions are written off by a refund_reversal entry.
func EndRefunded(ctx context.Context, tx *sqlx.Tx, packID int64, reason string, at time.Time) error {
	var p Pack
	if err := tx.GetContext(ctx, &p, `SELECT `+packCols+` FROM packs WHERE id = $1 FOR UPDATE`, packID); err != nil {
		return err
	}
	if !CanMove(p.Status, StatusRefunded) {
		return nil
	}
	if p.SessionsRemaining > 0 {
		if err := addEntry(ctx, tx, entry{CoachID: p.CoachID, ClientID: p.ClientID, PackID: p.ID,
			Kind: "refund_reversal", Delta: -p.SessionsRemaining, Reason: reason, At: at}); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE packs SET status = $3, sessions_remaining = 0, overdue_since = NULL,
		updated_at = $2 WHERE id = $1 AND status = ANY($4)`, packID, at, StatusRefunded,
		pq.Array(MovableTo(StatusRefunded))); err != nil {
		return err
	}
	// An ended pack expects no more money: an installment Stripe still
	// collects is a charge after the end, not a payment on schedule.
	_, err := tx.ExecContext(ctx, `UPDATE installments SET status = 'cancelled' WHERE pack_id = $1
		AND status IN ('due', 'failed')`, packID)
	return err
}
