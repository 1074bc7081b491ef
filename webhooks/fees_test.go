package webhooks

import (
	"context"
	"testing"
	"time"

	"carnet/billing"
	"carnet/packs"
)

// A late cancellation under a fee charter is charged once, off session, to
// the card saved at checkout; a waived fee is not charged.
func TestLateCancellationFeeChargedOnce(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	ctx := context.Background()
	s.packs.OnFee = s.bill.EnqueueFee
	if _, err := s.packs.PublishCharter(ctx, s.coach, packs.CharterInput{LateCancelAction: packs.ActionFee, LateCancelFee: 2000}); err != nil {
		t.Fatal(err)
	}
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", "pi_fee", "", 45000)))

	start := s.now.Add(3 * time.Hour)
	book := func() int64 {
		sess, err := s.packs.Schedule(ctx, s.coach.ID, packs.SessionInput{StartsAt: &start, ClientIDs: []int64{s.client.ID}})
		if err != nil {
			t.Fatal(err)
		}
		b := sess.Bookings[0].ID
		if _, err := s.packs.RecordOutcome(ctx, s.coach.ID, b, packs.OutcomeInput{Outcome: packs.Cancelled}); err != nil {
			t.Fatal(err)
		}
		return b
	}
	charged, waived := book(), book()
	if _, err := s.packs.Waive(ctx, s.coach.ID, waived, "train strike"); err != nil {
		t.Fatal(err)
	}
	var queued int
	_ = s.packs.DB.Get(&queued, `SELECT count(*) FROM river_job WHERE kind = 'billing.fee'`)
	if queued != 2 {
		t.Fatalf("%d fee jobs queued, want 2", queued)
	}
	for range 3 { // a job retried runs again: still one charge
		for _, b := range []int64{charged, waived} {
			if err := s.bill.ChargeFee(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	var rows []struct {
		Booking int64   `db:"booking_id"`
		Status  string  `db:"status"`
		Amount  int64   `db:"amount"`
		Intent  *string `db:"stripe_payment_intent_id"`
	}
	if err := s.packs.DB.Select(&rows, `SELECT booking_id, status, amount, stripe_payment_intent_id FROM payments
		WHERE kind = 'fee' ORDER BY booking_id`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Booking != charged || rows[0].Intent == nil || rows[0].Amount != 2000 ||
		rows[1].Status != "waived" || rows[1].Intent != nil {
		t.Fatalf("fee payments %+v", rows)
	}
	if p := s.pack(co.PackID); p.SessionsRemaining != 10 {
		t.Fatalf("a fee took a session: %d left", p.SessionsRemaining)
	}
	// A process that died after claiming a fee and before Stripe answered:
	// retried two days later, when Stripe has forgotten the key, Carnet
	// looks for the fee among the client's payments, then charges it once.
	crashed := book()
	if _, err := s.packs.DB.Exec(`INSERT INTO payments (coach_id, booking_id, kind, status, amount, currency, occurred_at)
		VALUES ($1, $2, 'fee', 'charging', 2000, 'EUR', $3)`, s.coach.ID, crashed, s.now); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.now = s.now.Add(48 * time.Hour)
	s.mu.Unlock()
	if err := s.bill.ChargeFee(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	var after struct {
		Status string  `db:"status"`
		Intent *string `db:"stripe_payment_intent_id"`
	}
	if err := s.packs.DB.Get(&after, `SELECT status, stripe_payment_intent_id FROM payments WHERE booking_id = $1`, crashed); err != nil ||
		after.Intent == nil || after.Status == "charging" {
		t.Fatalf("the crashed fee after its retry: %+v %v", after, err)
	}
}

// A fee's own payment_intent.succeeded is Carnet's fee, not a stranger's
// payment; and an event with a NUL in a string is stored like any other.
func TestFeeIntentAndNULPayloads(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	fee := paymentIntent("pi_fee_evt", 0, 2000, "succeeded")
	fee["metadata"] = map[string]any{"carnet_booking_id": "7"}
	s.deliver(newEvent("payment_intent.succeeded", s.now, fee))
	s.deliver(newEvent("customer.updated", s.now, map[string]any{"id": "cus_x", "object": "customer", "name": "Lé\u0000a"}))
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("anomalies %v", a)
	}
	var stored int
	_ = s.packs.DB.Get(&stored, `SELECT count(*) FROM webhook_events`)
	if stored != 2 {
		t.Fatalf("%d events stored, want 2", stored)
	}
}
