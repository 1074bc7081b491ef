package webhooks

import (
	"context"
	"strconv"
	"time"

	"carnet/internal/db"
)

// since is where a list's sweep starts: Overlap before where the last one
// stopped, and never earlier than lookback ago.
func (in *Intake) since(ctx context.Context, name string, lookback time.Duration) (int64, error) {
	floor := in.Now().Add(-lookback).Unix()
	var v string
	err := in.DB.GetContext(ctx, &v, `SELECT value FROM sweep_cursors WHERE name = $1`, name)
	if db.NoRows(err) {
		return floor, nil
	}
	if err != nil {
		return 0, err
	}
	last, err := strconv.ParseInt(v, 10, 64)
	return max(floor, last-int64(Overlap.Seconds())), err
}

func (in *Intake) setCursor(ctx context.Context, name string, v int64) error {
	_, err := in.DB.ExecContext(ctx, `INSERT INTO sweep_cursors (name, value, updated_at) VALUES ($1, $2, now())
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()`, name, strconv.FormatInt(v, 10))
	return err
}

// knownInvoice says whether a payment row already records the invoice.
func (in *Intake) knownInvoice(ctx context.Context, invoiceID string) (bool, error) {
	var known bool
	err := in.DB.GetContext(ctx, &known, `SELECT EXISTS (SELECT 1 FROM payments WHERE stripe_object_id = $1)`, invoiceID)
	return known, err
}

// knownCharge says whether a payment row already records the charge or its
// PaymentIntent.
func (in *Intake) knownCharge(ctx context.Context, intentID, chargeID string) (bool, error) {
	var known bool
	err := in.DB.GetContext(ctx, &known, `SELECT EXISTS (SELECT 1 FROM payments WHERE stripe_object_id = $1
		OR stripe_payment_intent_id = $1 OR stripe_charge_id = $2)`, intentID, chargeID)
	return known, err
}
