package webhooks

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"carnet/billing"
)

// perms returns the identity, its reverse and n more random orders of k events.
func perms(rng *rand.Rand, k, n int) [][]int {
	id, rev := make([]int, k), make([]int, k)
	for i := range id {
		id[i], rev[i] = i, k-1-i
	}
	out := [][]int{id, rev}
	for range n {
		out = append(out, rng.Perm(k))
	}
	return out
}

// noOpen fails when an anomaly of kind is still open.
func (s *shop) noOpen(kind, why string) {
	s.t.Helper()
	if a := s.anomalies(); strings.Contains(a[kind], "open") {
		s.t.Fatalf("%s: %s anomalies %q, all %v", why, kind, a[kind], a)
	}
}

// Invoices paid before Carnet knows their subscription, carrying no
// metadata (a Checkout Session's metadata is not copied to them), and a
// refund of one of them: whatever the order and the repeats, once the
// checkout names the subscription every installment is paid, the refund is
// the pack's, and no payment is left unmatched.
func TestInvoicesPaidBeforeTheirPlanIsKnown(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	rng := rand.New(rand.NewPCG(31, 37))
	want := "active 10 | 1:paid,2:paid,3:paid | purchase10 | " +
		"charge:succeeded:15000,charge:succeeded:15000,charge:succeeded:15000,refund:partially_refunded:5000"
	for trial, perm := range perms(rng, 5, 12) {
		co, _ := s.checkout(billing.PlanInstallments)
		sub := "sub_" + randomID()
		evs := []event{newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", sub, 15000))}
		var charge2 string
		for seq := 1; seq <= 3; seq++ {
			id := "in_" + randomID()
			inv := invoice(id, sub, co.PackID, 15000, "paid")
			delete(inv, "subscription_details")
			evs = append(evs, newEvent("invoice.paid", billing.InstallmentDue(s.now, seq), inv))
			if seq == 2 {
				charge2 = "ch_" + id[3:]
			}
		}
		evs = append(evs, newEvent("charge.refunded", billing.InstallmentDue(s.now, 2).Add(time.Hour), map[string]any{
			"id": charge2, "object": "charge", "amount": 15000, "amount_refunded": 5000, "refunded": false, "currency": "eur",
			"payment_intent": "pi_" + charge2[3:], "metadata": map[string]any{}}))
		s.deliverScrambled(rng, evs, perm)
		if got := s.state(co.PackID); got != want {
			t.Fatalf("trial %d, order %v: state %q, want %q", trial, perm, got, want)
		}
		s.noOpen(KindUnmatched, "invoices linked once their subscription was known")
	}
	if a := s.anomalies(); a[KindAtOnce] != "" || a[KindChargeAfterEnd] != "" || a[KindMissed] != "" {
		t.Fatalf("plans paid on their dates raised %v", a)
	}
	s.verify()
}

// An upfront payment whose PaymentIntent carries no metadata and comes
// before its checkout, with a partial refund that comes before either: the
// checkout names the intent, and the payment pays the pack's installment.
func TestIntentPaidBeforeItsCheckoutIsKnown(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	rng := rand.New(rand.NewPCG(41, 43))
	want := "active 10 | 1:paid | purchase10 | charge:succeeded:45000,refund:partially_refunded:10000"
	for trial, perm := range perms(rng, 3, 4) {
		co, _ := s.checkout(billing.PlanUpfront)
		intent := "pi_" + randomID()
		evs := []event{
			newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", intent, "", 45000)),
			newEvent("payment_intent.succeeded", s.now, paymentIntent(intent, 0, 45000, "succeeded")),
			newEvent("charge.refunded", s.now.Add(time.Hour), map[string]any{"id": "ch_" + intent[3:], "object": "charge",
				"amount": 45000, "amount_refunded": 10000, "refunded": false, "currency": "eur", "payment_intent": intent,
				"metadata": map[string]any{}}),
		}
		s.deliverScrambled(rng, evs, perm)
		if got := s.state(co.PackID); got != want {
			t.Fatalf("trial %d, order %v: state %q, want %q", trial, perm, got, want)
		}
		s.noOpen(KindUnmatched, "a payment linked once its intent was known")
	}
	// The refund is the coach's to judge; the payment itself paid the pack.
	if a := s.anomalies(); a[KindChargeAfterEnd] != "" || a[KindDuplicate] != "" {
		t.Fatalf("a payment that paid its pack raised %v", a)
	}
	s.verify()
}
