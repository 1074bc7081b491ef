package billing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// ChargeFee charges a booking's fee once: a payment row per booking is
// claimed first (unique), and the PaymentIntent carries a key derived from
// the booking, so a retry after a crash cannot charge twice. A waived fee,
// or a client with no saved payment method, is recorded and not charged.
func (s *Service) ChargeFee(ctx context.Context, bookingID int64) error {
	var f struct {
		CoachID  int64   `db:"coach_id"`
		Fee      int64   `db:"fee_amount"`
		Currency string  `db:"currency"`
		Customer *string `db:"stripe_customer_id"`
		Waived   bool    `db:"waived"`
	}
	err := s.DB.GetContext(ctx, &f, `SELECT b.coach_id, b.fee_amount, co.currency, c.stripe_customer_id,
		EXISTS (SELECT 1 FROM ledger_entries w WHERE w.booking_id = b.id AND w.kind = 'waiver') AS waived
		FROM bookings b JOIN clients c ON c.id = b.client_id JOIN coaches co ON co.id = b.coach_id WHERE b.id = $1`, bookingID)
	if err != nil || f.Fee <= 0 {
		return err
	}
	record := func(status, intent string) error {
		_, err := s.DB.ExecContext(ctx, `INSERT INTO payments (coach_id, booking_id, kind, status, amount, currency,
			stripe_payment_intent_id, stripe_object_id, occurred_at)
			VALUES ($1, $2, 'fee', $3, $4, $5, nullif($6, ''), nullif($6, ''), $7)
			ON CONFLICT (booking_id) WHERE kind = 'fee' DO UPDATE SET status = excluded.status,
				stripe_payment_intent_id = coalesce(excluded.stripe_payment_intent_id, payments.stripe_payment_intent_id),
				stripe_object_id = coalesce(excluded.stripe_object_id, payments.stripe_object_id)`,
			f.CoachID, bookingID, status, f.Fee, f.Currency, intent, s.Now().UTC())
		return err
	}
	var done bool
	if err := s.DB.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM payments WHERE booking_id = $1 AND kind = 'fee'
		AND status IN ('succeeded', 'waived'))`, bookingID); err != nil || done {
		return err
	}
	switch {
	case f.Waived:
		return record("waived", "")
	case f.Customer == nil:
		return record("no_payment_method", "")
	}
	// The row is claimed before Stripe is called. Within KeyMemory the
	// booking's idempotency key makes a retry safe; later, Stripe may have
	// forgotten the key, so a retry first looks for the fee it charged.
	var claimedAt time.Time
	if err := s.DB.GetContext(ctx, &claimedAt, `INSERT INTO payments (coach_id, booking_id, kind, status, amount, currency, occurred_at)
		VALUES ($1, $2, 'fee', 'charging', $3, $4, $5)
		ON CONFLICT (booking_id) WHERE kind = 'fee' DO UPDATE SET status = payments.status RETURNING occurred_at`,
		f.CoachID, bookingID, f.Fee, f.Currency, s.Now().UTC()); err != nil {
		return err
	}
	if s.Now().Sub(claimedAt) > KeyMemory {
		list := &stripe.PaymentIntentListParams{Customer: f.Customer}
		list.Limit = stripe.Int64(100)
		list.Context = ctx
		it := s.Stripe.PaymentIntents.List(list)
		for n := 0; n < 100 && it.Next(); n++ {
			if pi := it.PaymentIntent(); pi.Metadata["carnet_booking_id"] == strconv.FormatInt(bookingID, 10) {
				return record(string(pi.Status), pi.ID)
			}
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("look for the fee: %w", err)
		}
	}
	pmList := &stripe.PaymentMethodListParams{Customer: f.Customer}
	pmList.Context = ctx
	pms := s.Stripe.PaymentMethods.List(pmList)
	var pm string
	if pms.Next() {
		pm = pms.PaymentMethod().ID
	}
	if err := pms.Err(); err != nil {
		return fmt.Errorf("list payment methods: %w", err)
	}
	if pm == "" {
		return record("no_payment_method", "")
	}
	params := &stripe.PaymentIntentParams{Amount: stripe.Int64(f.Fee), Currency: stripe.String(strings.ToLower(f.Currency)),
		Customer: f.Customer, PaymentMethod: stripe.String(pm), Confirm: stripe.Bool(true), OffSession: stripe.Bool(true),
		Description: stripe.String("Late cancellation or no-show fee"),
		Metadata:    map[string]string{"carnet_booking_id": strconv.FormatInt(bookingID, 10)}}
	params.Context = ctx
	params.IdempotencyKey = s.key("booking-%d-fee", bookingID)
	pi, err := s.Stripe.PaymentIntents.New(params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.HTTPStatusCode == 402 {
			return record("failed", "") // declined: recorded, not retried blindly
		}
		return fmt.Errorf("charge fee: %w", err)
	}
	return record(string(pi.Status), pi.ID)
}
