package webhooks

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"carnet/billing"
	"carnet/internal/stripefault"
	"carnet/packs"
	"carnet/reconcile"
)

// From 2025-03-31.basil a dispute names the charge and PaymentIntent, the
// invoice neither: lost between the invoice and its PaymentIntent, it still
// ends the plan once they are paired, as in the other order.
func TestNewerAPIDisputeBetweenInvoiceAndIntent(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	want := "refunded 0 | 1:paid,2:cancelled,3:cancelled | purchase10,refund_reversal-10 | charge:succeeded:15000,dispute:lost:15000"
	for _, order := range [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}} {
		co, _ := s.checkout(billing.PlanInstallments)
		cust, sub, id := *s.pack(co.PackID).Customer, "sub_"+randomID(), randomID()
		basil := func(typ string, at time.Time, obj map[string]any) event {
			e := newEvent(typ, at, obj)
			e.Version = "2025-03-31.basil"
			return e
		}
		s.deliver(basil("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", sub, 15000)))
		evs := []event{
			basil("invoice.paid", s.now, map[string]any{"id": "in_" + id, "object": "invoice", "amount_paid": 15000,
				"currency": "eur", "status": "paid", "customer": cust, "created": s.now.Unix(),
				"parent": map[string]any{"type": "subscription_details", "subscription_details": map[string]any{
					"subscription": sub, "metadata": map[string]any{"carnet_pack_id": itoa(co.PackID)}}}}),
			basil("charge.dispute.closed", s.now.Add(time.Hour), map[string]any{"id": "dp_" + id, "object": "dispute",
				"amount": 15000, "currency": "eur", "charge": "ch_" + id, "payment_intent": "pi_" + id, "status": "lost"}),
			basil("payment_intent.succeeded", s.now.Add(time.Minute), map[string]any{"id": "pi_" + id, "object": "payment_intent",
				"amount": 15000, "amount_received": 15000, "currency": "eur", "status": "succeeded", "customer": cust,
				"latest_charge": "ch_" + id, "metadata": map[string]any{}}),
		}
		for _, i := range order {
			s.deliver(evs[i])
		}
		if got := s.state(co.PackID); got != want {
			t.Fatalf("order %v: state %q, want %q", order, got, want)
		}
	}
}

// Carnet refunded part of a charge as an excess; the coach then refunds the
// rest from Stripe's dashboard: the client has all their money back, so the
// pack ends. A duplicate refunded by hand, though, leaves the pack paid.
func TestRefundsBeyondCarnetsOwn(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(true)
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_rm", co.PackID, 50000, "succeeded")))
	if n := s.runRefundJobs(); n != 1 {
		t.Fatalf("%d refund jobs, want 1", n)
	}
	refunded := func(amount int64, at time.Time) event {
		return newEvent("charge.refunded", at, map[string]any{"id": "ch_rm", "object": "charge", "amount": 50000,
			"amount_refunded": amount, "refunded": amount == 50000, "currency": "eur", "payment_intent": "pi_rm"})
	}
	s.deliver(refunded(5000, s.now.Add(time.Hour))) // Stripe reports Carnet's own refund
	if p := s.pack(co.PackID); p.Status != "active" {
		t.Fatalf("Carnet's refund of the excess ended the pack: %s", p.Status)
	}
	s.deliver(refunded(50000, s.now.Add(2*time.Hour)))
	if got, want := s.state(co.PackID), "refunded 0 | 1:paid | purchase10,refund_reversal-10 | charge:succeeded:50000,refund:refunded:50000,refund:remedy:5000"; got != want {
		t.Fatalf("state %q, want %q", got, want)
	}

	dup, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(dup, "payment", "paid", "pi_hd1", "", 45000)))
	s.deliver(newEvent("payment_intent.succeeded", s.now.Add(time.Minute), paymentIntent("pi_hd2", dup.PackID, 45000, "succeeded")))
	s.deliver(newEvent("charge.refunded", s.now.Add(time.Hour), map[string]any{"id": "ch_hd2", "object": "charge",
		"amount": 45000, "amount_refunded": 45000, "refunded": true, "currency": "eur", "payment_intent": "pi_hd2"}))
	if p := s.pack(dup.PackID); p.Status != "active" || p.SessionsRemaining != 10 {
		t.Fatalf("a duplicate refunded by hand ended the pack: %s %d", p.Status, p.SessionsRemaining)
	}
}

// A plan ends (lost dispute) while an installment is failed: the failure's
// anomaly closes without a "back to normal" message, a retry Stripe still
// collects is a charge after the end, and a later failure is acknowledged.
func TestPlanEndingWithAFailedInstallment(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	co := s.buyInstallments("x")
	s.mu.Lock()
	s.now = s.now.AddDate(0, 1, 0)
	s.mu.Unlock()
	failed := invoice("in_x2", "sub_x", co.PackID, 15000, "open")
	failed["created"] = s.now.Unix()
	s.deliver(newEvent("invoice.payment_failed", s.now, failed))
	s.deliver(newEvent("charge.dispute.closed", s.now.Add(time.Hour), map[string]any{"id": "dp_x", "object": "dispute",
		"amount": 15000, "currency": "eur", "charge": "ch_x1", "payment_intent": "pi_x1", "status": "lost"}))
	var resolution string
	_ = s.packs.DB.Get(&resolution, `SELECT state || ': ' || resolution FROM anomalies WHERE kind = $1`, reconcile.KindFailed)
	if resolution != "resolved: the plan ended" {
		t.Fatalf("the failed installment's anomaly: %q", resolution)
	}
	var toClient []string
	_ = s.packs.DB.Select(&toClient, `SELECT template FROM notifications WHERE recipient = $1 ORDER BY id`, s.client.Email)
	if strings.Join(toClient, ",") != "pack_purchased,installment_failed" {
		t.Fatalf("the client was sent %v", toClient)
	}
	s.deliver(newEvent("invoice.paid", s.now.Add(2*time.Hour), invoice("in_x2", "sub_x", co.PackID, 15000, "paid")))
	s.deliver(newEvent("invoice.payment_failed", s.now.AddDate(0, 1, 0), invoice("in_x3", "sub_x", co.PackID, 15000, "open")))
	if got, want := s.state(co.PackID), "refunded 0 | 1:paid,2:cancelled,3:cancelled | purchase10,refund_reversal-10 | "+
		"charge:failed:15000,charge:failed:15000,charge:succeeded:15000,charge:succeeded:15000,dispute:lost:15000"; got != want {
		t.Fatalf("state %q, want %q", got, want)
	}
	if a := s.anomalies(); a[reconcile.KindChargeAfterEnd] != "open " {
		t.Fatalf("anomalies %v, want the retry collected after the end", a)
	}
}

// A failed debit paid on its retry shortly before the plan ends (a lost
// dispute) was owed: whichever Carnet hears of first, it counts as paid and
// is not a charge after the end.
func TestRetryPaidBeforeThePlanEnded(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(true)
	want := "refunded 0 | 1:paid,2:paid,3:cancelled | purchase10,refund_reversal-10 | " +
		"charge:failed:15000,charge:succeeded:15000,charge:succeeded:15000,dispute:lost:15000"
	for _, disputeFirst := range []bool{false, true} {
		co, _ := s.checkout(billing.PlanInstallments)
		id := randomID()
		sub := "sub_" + id
		start := s.now
		s.deliver(newEvent("checkout.session.completed", start, checkoutSession(co, "subscription", "paid", "", sub, 15000)))
		s.deliver(newEvent("invoice.paid", start, invoice("in_1"+id, sub, co.PackID, 15000, "paid")))
		failed := invoice("in_2"+id, sub, co.PackID, 15000, "open")
		failed["created"] = start.AddDate(0, 1, 0).Unix()
		s.deliver(newEvent("invoice.payment_failed", start.AddDate(0, 1, 0), failed))
		paid := invoice("in_2"+id, sub, co.PackID, 15000, "paid")
		paid["created"] = failed["created"]
		evs := []event{
			newEvent("invoice.paid", start.AddDate(0, 1, 0).Add(2*time.Hour), paid),
			newEvent("charge.dispute.closed", start.AddDate(0, 1, 0).Add(3*time.Hour), map[string]any{"id": "dp_" + id,
				"object": "dispute", "amount": 15000, "currency": "eur", "charge": "ch_1" + id, "payment_intent": "pi_1" + id, "status": "lost"}),
		}
		if disputeFirst {
			evs[0], evs[1] = evs[1], evs[0]
		}
		for _, e := range evs {
			s.deliver(e)
		}
		if got := s.state(co.PackID); got != want {
			t.Fatalf("dispute first %v: state %q, want %q", disputeFirst, got, want)
		}
	}
	if a := s.anomalies(); a[reconcile.KindChargeAfterEnd] != "" {
		t.Fatalf("a retry paid before the end was taken for a charge after it: %v", a)
	}
}

// What a payment has left is one rule for the ending's refund and the
// anomaly's: a duplicate charge the ending already gave back (Stripe not
// having reported it yet) is not refunded a second time when the coach
// then refunds the duplicate's anomaly. The anomaly's rule used to count
// only its own claims, and asked Stripe for a third refund.
func TestEndingRefundThenAnomalyRefundGivesBackOnce(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	proxy := stripefault.New(t, os.Getenv("STRIPE_API_BASE"))
	s.bill.Stripe = billing.NewStripeVia("", proxy.URL, 0, nil)
	ctx := context.Background()
	if _, err := s.packs.PublishCharter(ctx, s.coach, packs.CharterInput{EndUnused: packs.EndRefund}); err != nil {
		t.Fatal(err)
	}
	dup, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(dup, "payment", "paid", "pi_end1", "", 45000)))
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_end1", dup.PackID, 45000, "succeeded")))
	s.deliver(newEvent("payment_intent.succeeded", s.now.Add(time.Minute), paymentIntent("pi_end2", dup.PackID, 45000, "succeeded")))
	var anomalyID int64
	if err := s.packs.DB.Get(&anomalyID, `SELECT id FROM anomalies WHERE kind = $1 AND state = 'open'`, reconcile.KindDuplicate); err != nil {
		t.Fatal(err)
	}

	// The coach ends the relationship: nothing was used, all is refunded.
	e, err := s.bill.EndClient(ctx, s.coach, s.client.ID, "moving away")
	if err != nil || e.Refund != 90000 {
		t.Fatalf("ending: %+v %v, want 900.00 to refund", e, err)
	}
	if err := s.bill.RefundEnding(ctx, dup.PackID); err != nil {
		t.Fatal(err)
	}
	if n := len(proxy.Keys("POST", "/v1/refunds")); n != 2 {
		t.Fatalf("the ending asked Stripe for %d refunds, want 2 (one per charge)", n)
	}

	// Then the coach refunds the duplicate: it was given back already.
	if _, err := s.rec.RefundExcess(ctx, s.coach.ID, anomalyID, "coach"); err != nil {
		t.Fatal(err)
	}
	if n := len(proxy.Keys("POST", "/v1/refunds")); n != 2 {
		t.Fatalf("Stripe was asked for %d refunds in all, want 2: the duplicate was refunded twice", n)
	}
	var given int64
	if err := s.packs.DB.Get(&given, `SELECT coalesce(sum(amount), 0) FROM payments WHERE kind = 'refund' AND status = 'remedy'`); err != nil {
		t.Fatal(err)
	}
	if given != 90000 {
		t.Fatalf("Carnet gave back %d, want the 90000 the client paid", given)
	}
}
