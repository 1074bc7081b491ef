package webhooks

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"carnet/billing"
	"carnet/reconcile"
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
		s.noOpen(reconcile.KindUnmatched, "invoices linked once their subscription was known")
	}
	if a := s.anomalies(); a[reconcile.KindAtOnce] != "" || a[reconcile.KindChargeAfterEnd] != "" || a[reconcile.KindMissed] != "" {
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
		s.noOpen(reconcile.KindUnmatched, "a payment linked once its intent was known")
	}
	// The refund is the coach's to judge; the payment itself paid the pack.
	if a := s.anomalies(); a[reconcile.KindChargeAfterEnd] != "" || a[reconcile.KindDuplicate] != "" {
		t.Fatalf("a payment that paid its pack raised %v", a)
	}
	s.verify()
}

// The same, delivered all at once: an invoice recorded while its checkout
// is being applied is still linked (the two take the subscription's lock).
func TestInvoicesAndTheirCheckoutAtOnce(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	want := "active 10 | 1:paid,2:paid,3:paid | purchase10 | charge:succeeded:15000,charge:succeeded:15000,charge:succeeded:15000"
	for trial := range 8 {
		co, _ := s.checkout(billing.PlanInstallments)
		sub := "sub_" + randomID()
		evs := []event{newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", sub, 15000))}
		for seq := 1; seq <= 3; seq++ {
			inv := invoice("in_"+randomID(), sub, co.PackID, 15000, "paid")
			delete(inv, "subscription_details")
			evs = append(evs, newEvent("invoice.paid", billing.InstallmentDue(s.now, seq), inv))
		}
		var wg sync.WaitGroup
		for range 2 {
			for _, e := range evs {
				wg.Go(func() {
					p := e.payload()
					if _, err := s.in.Receive(context.Background(), p, sign(p, secret, time.Now())); err != nil {
						t.Errorf("deliver %s: %v", e.Type, err)
					}
				})
			}
		}
		wg.Wait()
		if got := s.state(co.PackID); got != want {
			t.Fatalf("trial %d: state %q, want %q", trial, got, want)
		}
		s.noOpen(reconcile.KindUnmatched, "invoices delivered with their checkout")
	}
	s.verify()
}

// A first SEPA debit returned before Carnet hears of the checkout: the
// failure is kept with its subscription and applied when the checkout
// names it, as it is in the other order; the retry that succeeds then
// starts the pack.
func TestFailedDebitBeforeItsPlanIsKnown(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	for _, perm := range [][]int{{0, 1}, {1, 0}} {
		co, _ := s.checkout(billing.PlanInstallments)
		sub := "sub_" + randomID()
		inv := invoice("in_"+randomID(), sub, co.PackID, 15000, "open")
		delete(inv, "subscription_details")
		evs := []event{newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "unpaid", "", sub, 15000)),
			newEvent("invoice.payment_failed", s.now.Add(time.Minute), inv)}
		s.deliverScrambled(rand.New(rand.NewPCG(7, uint64(perm[0]))), evs, perm)
		if got, want := s.state(co.PackID), "pending 0 | 1:failed,2:due,3:due | charge:failed:15000"; got != want {
			t.Fatalf("order %v: state %q, want %q", perm, got, want)
		}
		var told int
		_ = s.packs.DB.Get(&told, `SELECT count(*) FROM notifications WHERE cause_key = $1`, "invoice:"+inv["id"].(string)+":failed")
		if told != 1 {
			t.Fatalf("order %v: client told %d times of the failed debit", perm, told)
		}
		inv["status"] = "paid"
		s.deliver(newEvent("invoice.paid", s.now.Add(72*time.Hour), inv))
		if got, want := s.state(co.PackID), "active 10 | 1:paid,2:due,3:due | purchase10 | charge:failed:15000,charge:succeeded:15000"; got != want {
			t.Fatalf("order %v: after the retry %q, want %q", perm, got, want)
		}
	}
	s.noOpen(reconcile.KindUnmatched, "a failed debit linked to its plan")
	s.noOpen(reconcile.KindFailed, "a failed debit paid on its retry")
	s.verify()
}
