package billing

import (
	"context"
	"time"
)

// PaymentLine is a payment on one of a client's packs, as the coach reads it.
type PaymentLine struct {
	ID         int64     `db:"id"`
	PackID     int64     `db:"pack_id"`
	Kind       string    `db:"kind"`
	Status     string    `db:"status"`
	Amount     int64     `db:"amount"`
	Currency   string    `db:"currency"`
	OccurredAt time.Time `db:"occurred_at"`
	ChargeID   *string   `db:"stripe_charge_id"`
}

// InstallmentLine is an expected payment of one of a client's packs.
type InstallmentLine struct {
	PackID   int64      `db:"pack_id"`
	Seq      int        `db:"seq"`
	DueAt    time.Time  `db:"due_at"`
	Amount   int64      `db:"amount"`
	Currency string     `db:"currency"`
	Status   string     `db:"status"`
	PaidAt   *time.Time `db:"paid_at"`
}

// ClientPayments lists a client's payments (newest first) and installments
// (by pack and order), within the coach's rows.
func (s *Service) ClientPayments(ctx context.Context, coachID, clientID int64) ([]PaymentLine, []InstallmentLine, error) {
	pays := []PaymentLine{}
	if err := s.DB.SelectContext(ctx, &pays, `SELECT y.id, y.pack_id, y.kind, y.status, y.amount, y.currency,
		y.occurred_at, y.stripe_charge_id FROM payments y JOIN packs p ON p.id = y.pack_id
		WHERE p.coach_id = $1 AND p.client_id = $2 ORDER BY y.occurred_at DESC, y.id DESC LIMIT 200`,
		coachID, clientID); err != nil {
		return nil, nil, err
	}
	inst := []InstallmentLine{}
	err := s.DB.SelectContext(ctx, &inst, `SELECT i.pack_id, i.seq, i.due_at, i.amount, i.currency, i.status, i.paid_at
		FROM installments i JOIN packs p ON p.id = i.pack_id
		WHERE p.coach_id = $1 AND p.client_id = $2 ORDER BY i.pack_id DESC, i.seq`, coachID, clientID)
	return pays, inst, err
}
