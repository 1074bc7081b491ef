package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76"

	"carnet/internal/errs"
	"carnet/internal/failpoint"
)

func getRefundable(ctx context.Context, q sqlx.QueryerContext, paymentID int64) (refundable, error) {
	var p refundable
	err := sqlx.GetContext(ctx, q, &p, `SELECT pack_id, coach_id, stripe_charge_id, stripe_payment_intent_id, currency
		FROM payments WHERE id = $1`, paymentID)
	return p, err
}

// ResolveCharge makes sure a payment knows its Stripe charge (a checkout
// tells us only the PaymentIntent), asking Stripe when it does not: a
// refund is recorded against the charge Stripe will name in charge.refunded.
func (s *Service) ResolveCharge(ctx context.Context, paymentID int64) error {
	p, err := getRefundable(ctx, s.DB, paymentID)
	if err != nil || p.Charge != nil {
		return err
	}
	if p.Intent == nil {
		return fmt.Errorf("payment %d has no Stripe charge to refund", paymentID)
	}
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	params.AddExpand("latest_charge")
	pi, err := s.Stripe.PaymentIntents.Get(*p.Intent, params)
	if err != nil {
		return refundUnavailable(err)
	}
	if pi.LatestCharge == nil || pi.LatestCharge.ID == "" {
		return fmt.Errorf("payment intent %s has no charge to refund", *p.Intent)
	}
	_, err = s.DB.ExecContext(ctx, `UPDATE payments SET stripe_charge_id = coalesce(stripe_charge_id, $2) WHERE id = $1`,
		paymentID, pi.LatestCharge.ID)
	return err
}

// ClaimRemedy records, in the caller's transaction and before Stripe is
// called, that Carnet gives amount back from a payment, as a 'remedy' row
// of its own (keyed by cause). Stripe's charge.refunded reports the
// charge's refunds, Carnet's included, in one cumulative row: what it
// reports beyond Carnet's remedies is a refund made by someone else.
func (s *Service) ClaimRemedy(ctx context.Context, tx *sqlx.Tx, paymentID, amount int64, cause string) error {
	p, err := getRefundable(ctx, tx, paymentID)
	if err != nil {
		return err
	}
	if p.Charge == nil {
		return fmt.Errorf("payment %d has no Stripe charge to refund", paymentID)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency,
		stripe_charge_id, stripe_payment_intent_id, stripe_object_id, occurred_at)
		VALUES ($1, $2, 'refund', 'remedy', $3, $4, $5, $6, 'remedy:' || $8, $7)
		ON CONFLICT (stripe_object_id) DO NOTHING`,
		p.CoachID, p.PackID, amount, strings.ToUpper(p.Currency), *p.Charge, p.Intent, s.Now().UTC(), cause)
	return err
}

// ReopenInstallment makes the installment a payment settled due again when
// amount gave all of it back (it was collected early): the debit Stripe
// makes on its date then pays it, and if none comes the reconciler reports
// it missed.
func (s *Service) ReopenInstallment(ctx context.Context, tx *sqlx.Tx, paymentID, amount int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE installments i SET status = 'due', paid_at = NULL, stripe_invoice_id = NULL
		FROM payments p WHERE p.id = $1 AND i.id = p.installment_id AND i.status = 'paid' AND $2 >= p.amount`,
		paymentID, amount)
	return err
}

// RefundExcess gives amount back from one claimed payment through Stripe,
// with an idempotency key derived from cause, so a retry never refunds
// twice. A retry after KeyMemory first looks among the charge's refunds
// for the one carrying cause.
func (s *Service) RefundExcess(ctx context.Context, paymentID, amount int64, cause string, claimedAt time.Time) (string, error) {
	return s.refund(ctx, paymentID, amount, cause, "duplicate", claimedAt)
}

// refund gives amount back from a payment for Stripe's reason, keyed by cause.
func (s *Service) refund(ctx context.Context, paymentID, amount int64, cause, reason string, claimedAt time.Time) (string, error) {
	p, err := getRefundable(ctx, s.DB, paymentID)
	if err != nil {
		return "", err
	}
	if p.Charge == nil {
		return "", fmt.Errorf("payment %d has no Stripe charge to refund", paymentID)
	}
	if s.Now().Sub(claimedAt) > KeyMemory {
		list := &stripe.RefundListParams{Charge: p.Charge}
		list.Context = ctx
		it := s.Stripe.Refunds.List(list)
		for it.Next() {
			if r := it.Refund(); r.Metadata["carnet_cause"] == cause {
				return r.ID, nil
			}
		}
		if err := it.Err(); err != nil {
			return "", refundUnavailable(err)
		}
	}
	params := &stripe.RefundParams{Charge: p.Charge, Amount: stripe.Int64(amount), Reason: stripe.String(reason),
		Metadata: map[string]string{"carnet_cause": cause}}
	params.Context = ctx
	params.IdempotencyKey = s.key("%s-refund", cause)
	r, err := s.Stripe.Refunds.New(params)
	if err == nil {
		failpoint.Hit(failpoint.AfterStripe)
	}
	var se *stripe.Error
	switch {
	case errors.As(err, &se) && (se.HTTPStatusCode == 400 || se.HTTPStatusCode == 402):
		// Asking again would be refused again (the charge was already
		// refunded, disputed, ...): the caller gives the claim up.
		return "", errs.New(errs.Conflict, "Stripe refused the refund: %s", se.Msg)
	case err != nil:
		return "", refundUnavailable(err)
	}
	return r.ID, nil
}

// leftOfPayment is the one rule for what a payment p has left to give back:
// its amount, less what went back of its charge (Carnet's own remedies,
// recorded before Stripe is called, or, when more, what Stripe reports
// refunded: its one cumulative row per charge counts Carnet's refunds too),
// less the disputes lost on its charge or PaymentIntent.
const leftOfPayment = `p.amount - greatest(
		coalesce((SELECT sum(r.amount) FROM payments r WHERE r.kind = 'refund' AND r.status = 'remedy'
			AND r.stripe_charge_id = p.stripe_charge_id), 0),
		coalesce((SELECT sum(r.amount) FROM payments r WHERE r.kind = 'refund' AND r.status <> 'remedy'
			AND r.stripe_charge_id = p.stripe_charge_id), 0))
	- coalesce((SELECT sum(d.amount) FROM payments d WHERE d.kind = 'dispute' AND d.status = 'lost'
		AND (d.stripe_charge_id = p.stripe_charge_id OR d.stripe_payment_intent_id = p.stripe_payment_intent_id)), 0)`

// PaymentLeft is what one payment has left to give back (leftOfPayment),
// read under the payment's row lock in the caller's transaction.
func (s *Service) PaymentLeft(ctx context.Context, tx *sqlx.Tx, paymentID int64) (int64, error) {
	var left int64
	err := tx.GetContext(ctx, &left, `SELECT `+leftOfPayment+` FROM payments p WHERE p.id = $1 FOR UPDATE OF p`, paymentID)
	return left, err
}

// paymentsLeft is what each payment of a pack has left to give back
// (leftOfPayment): its succeeded charges, newest first, then what was paid
// by hand.
func paymentsLeft(ctx context.Context, tx *sqlx.Tx, packID int64) ([]paidMoney, error) {
	var money []paidMoney
	err := tx.SelectContext(ctx, &money, `SELECT p.id, p.kind, p.kind <> 'manual' AS stripe, `+leftOfPayment+` AS left
		FROM payments p WHERE p.pack_id = $1 AND ((p.kind = 'charge' AND p.status = 'succeeded') OR p.kind = 'manual')
		ORDER BY (p.kind = 'manual'), p.occurred_at DESC, p.id DESC`, packID)
	return money, err
}
