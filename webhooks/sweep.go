package webhooks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v76"
)

// SweepArgs is the periodic sweep: what a lost webhook would have told us is
// read from Stripe, and due dates are checked against the clock.
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "webhooks.sweep" }

// SweepWorker runs the sweep; as a periodic job it runs on River's elected
// leader only, so once across all processes.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Intake *Intake
}

// Work runs one sweep.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.Intake.Sweep(ctx)
}

// Sweep (1) replays the events Stripe failed to deliver since the last
// sweep, (2) applies recently paid invoices we never heard of, and (3)
// checks every plan with an installment past due. It pages through Stripe's
// lists (stripe-go retries a 429 with backoff) and remembers where it stopped.
func (in *Intake) Sweep(ctx context.Context) error {
	if err := in.sweepEvents(ctx); err != nil {
		return fmt.Errorf("sweep events: %w", err)
	}
	if err := in.sweepInvoices(ctx); err != nil {
		return fmt.Errorf("sweep invoices: %w", err)
	}
	if err := in.sweepCharges(ctx); err != nil {
		return fmt.Errorf("sweep charges: %w", err)
	}
	return in.sweepDue(ctx)
}

// Overlap is how far before its cursor each sweep looks again: an object
// created before the last sweep may settle after it (a SEPA debit, an
// invoice paid on a retry, an event whose delivery fails on its third day).
const Overlap = 14 * 24 * time.Hour

// sweepEvents replays undelivered events (Stripe keeps 30 days of them).
func (in *Intake) sweepEvents(ctx context.Context) error {
	since, err := in.since(ctx, "events", 30*24*time.Hour)
	if err != nil {
		return err
	}
	params := &stripe.EventListParams{DeliverySuccess: stripe.Bool(false), CreatedRange: &stripe.RangeQueryParams{GreaterThan: since}}
	params.Limit = stripe.Int64(100)
	newest := since
	err = in.each(ctx, &params.ListParams, func() iterator { return in.Billing.Stripe.Events.List(params) }, func(obj any) (string, error) {
		ev := obj.(*stripe.Event)
		payload, _ := json.Marshal(ev)
		newest = max(newest, ev.Created)
		_, err := in.ingest(ctx, payload, ev)
		return ev.ID, err
	})
	if err != nil {
		return err
	}
	return in.setCursor(ctx, "events", newest)
}

// sweepInvoices applies paid invoices that no event brought us, as the
// invoice.paid event would have.
func (in *Intake) sweepInvoices(ctx context.Context) error {
	since, err := in.since(ctx, "invoices", 35*24*time.Hour)
	if err != nil {
		return err
	}
	params := &stripe.InvoiceListParams{Status: stripe.String("paid"), CreatedRange: &stripe.RangeQueryParams{GreaterThan: since}}
	params.Limit = stripe.Int64(100)
	newest := since
	err = in.each(ctx, &params.ListParams, func() iterator { return in.Billing.Stripe.Invoices.List(params) }, func(obj any) (string, error) {
		inv := obj.(*stripe.Invoice)
		newest = max(newest, inv.Created)
		if inv.Status != stripe.InvoiceStatusPaid {
			return inv.ID, nil
		}
		if known, err := in.knownInvoice(ctx, inv.ID); err != nil || known {
			return inv.ID, err
		}
		// Dated when it was paid, as its event would be: an invoice paid on
		// a retry or by a slow debit was created days before.
		at := inv.Created
		if inv.StatusTransitions != nil && inv.StatusTransitions.PaidAt != 0 {
			at = inv.StatusTransitions.PaidAt
		}
		return inv.ID, in.ingestFound(ctx, inv.ID, "invoice.paid", at, inv)
	})
	if err != nil {
		return err
	}
	return in.setCursor(ctx, "invoices", newest)
}

// sweepCharges applies succeeded one-off charges (not an invoice's) that no
// event brought us, as payment_intent.succeeded would have: a payment for a
// pack we know completes it, any other is recorded as unmatched.
func (in *Intake) sweepCharges(ctx context.Context) error {
	since, err := in.since(ctx, "charges", 35*24*time.Hour)
	if err != nil {
		return err
	}
	params := &stripe.ChargeListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThan: since}}
	params.Limit = stripe.Int64(100)
	newest := since
	err = in.each(ctx, &params.ListParams, func() iterator { return in.Billing.Stripe.Charges.List(params) }, func(obj any) (string, error) {
		ch := obj.(*stripe.Charge)
		newest = max(newest, ch.Created)
		if ch.Status != stripe.ChargeStatusSucceeded || ch.Invoice != nil || ch.PaymentIntent == nil {
			return ch.ID, nil
		}
		if known, err := in.knownCharge(ctx, ch.PaymentIntent.ID, ch.ID); err != nil || known {
			return ch.ID, err
		}
		pi := map[string]any{"id": ch.PaymentIntent.ID, "object": "payment_intent", "amount": ch.Amount,
			"amount_received": ch.Amount, "currency": ch.Currency, "status": "succeeded", "metadata": ch.Metadata,
			"latest_charge": ch.ID, "invoice": nil, "created": ch.Created}
		if ch.Customer != nil {
			pi["customer"] = ch.Customer.ID
		}
		return ch.ID, in.ingestFound(ctx, ch.ID, "payment_intent.succeeded", ch.Created, pi)
	})
	if err != nil {
		return err
	}
	return in.setCursor(ctx, "charges", newest)
}

// iterator is what stripe-go's list iterators share.
type iterator interface {
	Next() bool
	Current() interface{}
	Err() error
}

// RateLimitPause is the first pause after Stripe answers 429 (rate
// limited), unless Intake.RateLimitPause says otherwise (a test waits
// milliseconds); it doubles on each try, five tries at most.
const RateLimitPause = time.Second

// each calls do on every object of a Stripe list. stripe-go does not retry a
// rate-limited request (only lock timeouts), so on a 429 each pauses, then
// resumes the list after the last object done.
func (in *Intake) each(ctx context.Context, list *stripe.ListParams, open func() iterator, do func(obj any) (id string, err error)) error {
	list.Context = ctx // the job's context: a stopping worker cancels the call
	for try := 0; ; try++ {
		it := open()
		for it.Next() {
			id, err := do(it.Current())
			if err != nil {
				return err
			}
			list.StartingAfter = stripe.String(id)
		}
		var se *stripe.Error
		if err := it.Err(); !errors.As(err, &se) || se.HTTPStatusCode != http.StatusTooManyRequests || try == 4 {
			return err
		}
		pause := cmp.Or(in.RateLimitPause, RateLimitPause) << try
		in.Log.Warn("sweep: Stripe rate limit, pausing", "pause", pause, "try", try+1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// ingestFound applies an object the sweep found as the event that would
// have announced it; its id "sweep_<object>" makes a second sweep a duplicate.
func (in *Intake) ingestFound(ctx context.Context, objectID string, typ stripe.EventType, created int64, obj any) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	payload, _ := json.Marshal(map[string]any{"id": "sweep_" + objectID, "type": typ, "created": created,
		"data": map[string]any{"object": json.RawMessage(raw)}})
	// Read back as stripe-go reads a delivered event, so it is applied as one.
	ev := new(stripe.Event)
	if err := json.Unmarshal(payload, ev); err != nil {
		return err
	}
	_, err = in.ingest(ctx, payload, ev)
	return err
}

// sweepDue runs the reconciler's checks on the plans past due.
func (in *Intake) sweepDue(ctx context.Context) error {
	if in.Reconciler == nil {
		return nil
	}
	return in.Reconciler.CheckDue(ctx)
}
