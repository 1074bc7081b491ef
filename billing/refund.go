package billing

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v76"
)

// RefundExcess gives amount back from one recorded payment, through Stripe,
// with an idempotency key derived from cause (the anomaly), so a retry can
// never refund twice. The refund is recorded as a Carnet remedy: when
// Stripe's charge.refunded event follows, it is recognised and does not end
// the pack.
func (s *Service) RefundExcess(ctx context.Context, paymentID, amount int64, cause string) (string, error) {
	var p struct {
		PackID   *int64  `db:"pack_id"`
		CoachID  *int64  `db:"coach_id"`
		Charge   *string `db:"stripe_charge_id"`
		Intent   *string `db:"stripe_payment_intent_id"`
		Currency string  `db:"currency"`
	}
	if err := s.DB.GetContext(ctx, &p, `SELECT pack_id, coach_id, stripe_charge_id, stripe_payment_intent_id, currency
		FROM payments WHERE id = $1`, paymentID); err != nil {
		return "", err
	}
	params := &stripe.RefundParams{Amount: stripe.Int64(amount), Reason: stripe.String("duplicate"),
		Metadata: map[string]string{"carnet_cause": cause}}
	switch {
	case p.Intent != nil:
		params.PaymentIntent = p.Intent
	case p.Charge != nil:
		params.Charge = p.Charge
	default:
		return "", fmt.Errorf("payment %d has no Stripe charge to refund", paymentID)
	}
	params.IdempotencyKey = s.key("%s-refund", cause)
	r, err := s.Stripe.Refunds.New(params)
	if err != nil {
		return "", providerFailed(err)
	}
	// The charge we recorded for this payment, else the one Stripe names.
	charge := ""
	if p.Charge != nil {
		charge = *p.Charge
	} else if r.Charge != nil {
		charge = r.Charge.ID
	}
	// Keyed like the refund Stripe will report for that charge.
	_, err = s.DB.ExecContext(ctx, `INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency,
		stripe_charge_id, stripe_payment_intent_id, stripe_object_id, occurred_at)
		VALUES ($1, $2, 'refund', 'remedy', $3, $4, nullif($5, ''), $6, $7, $8)
		ON CONFLICT (stripe_object_id) DO UPDATE SET status = 'remedy'`,
		p.CoachID, p.PackID, amount, strings.ToUpper(p.Currency), charge, p.Intent, "refund:"+cmp.Or(charge, r.ID), s.Now().UTC())
	return r.ID, err
}
