package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v76"
)

// PaymentMethodArgs asks Stripe how a payment was made when its events did
// not say (a Checkout that offered card and SEPA names neither; an invoice
// names its charge by id only): the charge is read once, after the event's
// transaction, never inside it.
type PaymentMethodArgs struct {
	PaymentID int64 `json:"payment_id"`
}

// Kind names the job in River's table.
func (PaymentMethodArgs) Kind() string { return "billing.payment_method" }

// PaymentMethodWorker runs PaymentMethodArgs jobs.
type PaymentMethodWorker struct {
	river.WorkerDefaults[PaymentMethodArgs]
	Billing *Service
}

// Work learns the method.
func (w *PaymentMethodWorker) Work(ctx context.Context, job *river.Job[PaymentMethodArgs]) error {
	return w.Billing.LearnMethod(ctx, job.Args.PaymentID)
}

// LearnMethod reads the payment's charge from Stripe (by its id, else as
// its PaymentIntent's latest charge) and records its
// payment_method_details.type. A payment that already knows its method, or
// names nothing Stripe has, is left as it is: unknown is an honest answer.
func (s *Service) LearnMethod(ctx context.Context, paymentID int64) error {
	var p struct {
		Charge *string `db:"stripe_charge_id"`
		Intent *string `db:"stripe_payment_intent_id"`
		Method *string `db:"method"`
	}
	if err := s.DB.GetContext(ctx, &p, `SELECT stripe_charge_id, stripe_payment_intent_id, method FROM payments WHERE id = $1`,
		paymentID); err != nil || p.Method != nil {
		return err
	}
	var ch *stripe.Charge
	var err error
	switch {
	case p.Charge != nil:
		params := &stripe.ChargeParams{}
		params.Context = ctx
		ch, err = s.Stripe.Charges.Get(*p.Charge, params)
	case p.Intent != nil:
		params := &stripe.PaymentIntentParams{}
		params.Context = ctx
		params.AddExpand("latest_charge")
		var pi *stripe.PaymentIntent
		if pi, err = s.Stripe.PaymentIntents.Get(*p.Intent, params); err == nil {
			ch = pi.LatestCharge
		}
	default:
		return nil
	}
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode == 404 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("payment %d's method: %w", paymentID, err)
	}
	method := PaidWith(chargeMethod(ch))
	if method == "" {
		return nil
	}
	_, err = s.DB.ExecContext(ctx, `UPDATE payments SET method = $2 WHERE id = $1 AND method IS NULL`, paymentID, method)
	return err
}
