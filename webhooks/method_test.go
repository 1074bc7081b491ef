package webhooks

import (
	"context"
	"testing"

	"carnet/billing"
)

// Issue 14: a payment whose events do not say how it was paid (a Checkout
// that offered card and SEPA) gets a job that reads its charge from Stripe
// (stripe-mock here) and records the method, once however often it runs.
func TestPaymentMethodLearnedFromStripe(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", "pi_m1", "", 45000)))
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_m1", co.PackID, 45000, "succeeded")))
	var pay struct {
		ID     int64   `db:"id"`
		Method *string `db:"method"`
	}
	if err := s.packs.DB.Get(&pay, `SELECT id, method FROM payments WHERE pack_id = $1 AND kind = 'charge'`, co.PackID); err != nil {
		t.Fatal(err)
	}
	var queued []int64
	if err := s.packs.DB.Select(&queued, `SELECT (args->>'payment_id')::bigint FROM river_job WHERE kind = 'billing.payment_method'`); err != nil {
		t.Fatal(err)
	}
	if pay.Method != nil || len(queued) != 1 || queued[0] != pay.ID {
		t.Fatalf("method %v, jobs for payments %v (payment %d)", pay.Method, queued, pay.ID)
	}
	// Twice, as a retried job would: the same answer.
	for range 2 {
		if err := s.bill.LearnMethod(context.Background(), pay.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.packs.DB.Get(&pay, `SELECT id, method FROM payments WHERE id = $1`, pay.ID); err != nil {
		t.Fatal(err)
	}
	if pay.Method == nil || *pay.Method != "card" { // stripe-mock's charge is paid by card
		t.Fatalf("method after reading the charge: %v", pay.Method)
	}
}
