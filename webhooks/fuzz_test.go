package webhooks

import (
	"context"
	"testing"
	"time"
)

// Whatever a validly signed delivery holds, intake stores and acknowledges
// it: no panic, no error (an error would be a 5xx and three days of retries).
// Seeds: real event shapes (testdata/fuzz/FuzzWebhookIntake holds more).
func FuzzWebhookIntake(f *testing.F) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, e := range []event{
		newEvent("payment_intent.succeeded", now, paymentIntent("pi_seed", 1, 5000, "succeeded")),
		newEvent("payment_intent.succeeded", now, paymentIntent("pi_neg", 1, -5000, "succeeded")),
		newEvent("invoice.paid", now, invoice("in_seed", "sub_seed", 1, 15000, "paid")),
		newEvent("charge.refunded", now, map[string]any{"id": "ch_seed", "object": "charge", "amount": 5000,
			"amount_refunded": 5000, "refunded": true, "currency": "eur", "payment_intent": "pi_seed"}),
		newEvent("charge.dispute.created", now, map[string]any{"id": "dp_seed", "object": "dispute", "amount": 5000,
			"currency": "eur", "charge": "ch_seed", "payment_intent": "pi_seed", "status": "needs_response"}),
		newEvent("customer.subscription.deleted", now, map[string]any{"id": "sub_seed", "object": "subscription", "status": "canceled"}),
	} {
		f.Add(e.payload())
	}
	s := newShop(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		res, err := s.in.Receive(context.Background(), payload, sign(payload, secret, time.Now()))
		if err != nil || !res.Received {
			t.Fatalf("a validly signed delivery was refused: %+v %v\n%q", res, err, payload)
		}
	})
}
