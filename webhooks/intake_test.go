package webhooks

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"carnet/billing"
	"carnet/reconcile"
)

func TestUpfrontCardPurchase(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co, p := s.checkout(billing.PlanUpfront)
	if p.Status != "pending" || !strings.HasPrefix(co.SessionID, "cs_") || co.URL == "" {
		t.Fatalf("checkout %+v, pack %s", co, p.Status)
	}
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", "pi_up1", "", 45000)))
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_up1", co.PackID, 45000, "succeeded")))
	want := "active 10 | 1:paid | purchase10 | charge:succeeded:45000"
	if got := s.state(co.PackID); got != want {
		t.Fatalf("state %q, want %q", got, want)
	}
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("a purchase that went to plan raised %v", a)
	}
	if p := s.pack(co.PackID); p.TermsAcceptedAt == nil || !p.TermsAcceptedAt.Equal(s.now) {
		t.Fatalf("terms accepted at %v, want the checkout's completion", p.TermsAcceptedAt)
	}
	s.verify()
}

// Whatever the order and however often each event arrives, a purchase ends
// in the same state.
func TestUpfrontEventsInAnyOrderAndRepeated(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	rng := rand.New(rand.NewPCG(7, 11))
	want := "active 10 | 1:paid | purchase10 | charge:succeeded:45000"
	perms := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, perm := range perms {
		co, _ := s.checkout(billing.PlanUpfront)
		intent := "pi_" + randomID()
		evs := []event{
			newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", intent, "", 45000)),
			newEvent("payment_intent.succeeded", s.now, paymentIntent(intent, co.PackID, 45000, "succeeded")),
			newEvent("charge.succeeded", s.now, map[string]any{"id": "ch_" + intent[3:], "object": "charge", "amount": 45000, "currency": "eur", "payment_intent": intent}),
		}
		s.deliverScrambled(rng, evs, perm)
		if got := s.state(co.PackID); got != want {
			t.Fatalf("order %v: state %q, want %q", perm, got, want)
		}
	}
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("purchases in any order raised %v", a)
	}
	s.verify()
}

// A 3-installment plan paid month after month: the clock moves, not the wall.
func TestThreeInstallmentsMonthByMonth(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co, _ := s.checkout(billing.PlanInstallments)
	var due []time.Time
	if err := s.packs.DB.Select(&due, `SELECT due_at FROM installments WHERE pack_id = $1 ORDER BY seq`, co.PackID); err != nil || len(due) != 3 {
		t.Fatalf("installments: %v %v", due, err)
	}
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", "sub_plan1", 15000)))
	s.deliver(newEvent("invoice.paid", s.now, invoice("in_m1", "sub_plan1", co.PackID, 15000, "paid")))
	if got := s.state(co.PackID); got != "active 10 | 1:paid,2:due,3:due | purchase10 | charge:succeeded:15000" {
		t.Fatalf("after month 1: %q", got)
	}
	var jobs int
	_ = s.packs.DB.Get(&jobs, `SELECT count(*) FROM river_job WHERE kind = 'billing.schedule'`)
	if jobs != 1 {
		t.Fatalf("%d schedule jobs queued, want 1", jobs)
	}
	for i, inv := range []string{"in_m2", "in_m3"} {
		s.mu.Lock()
		s.now = due[i+1].Add(time.Hour)
		s.mu.Unlock()
		s.deliver(newEvent("invoice.paid", s.now, invoice(inv, "sub_plan1", co.PackID, 15000, "paid")))
	}
	want := "active 10 | 1:paid,2:paid,3:paid | purchase10 | charge:succeeded:15000,charge:succeeded:15000,charge:succeeded:15000"
	if got := s.state(co.PackID); got != want {
		t.Fatalf("after month 3: %q", got)
	}
	// The schedule job binds the subscription to 3 debits at stripe-mock.
	if err := s.bill.BindSchedule(context.Background(), co.PackID); err != nil {
		t.Fatalf("bind schedule: %v", err)
	}
	if p := s.pack(co.PackID); p.Schedule == nil {
		t.Fatal("no schedule recorded")
	}
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("a plan paid month by month raised %v", a)
	}
	s.verify()
}

func TestInstallmentEventsInAnyOrder(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	rng := rand.New(rand.NewPCG(3, 5))
	want := "active 10 | 1:paid,2:paid,3:paid | purchase10 | charge:succeeded:15000,charge:succeeded:15000,charge:succeeded:15000"
	for trial := range 6 {
		co, _ := s.checkout(billing.PlanInstallments)
		sub := "sub_" + randomID()
		evs := []event{
			newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", sub, 15000)),
			newEvent("customer.subscription.updated", s.now, map[string]any{"id": sub, "object": "subscription", "status": "active",
				"metadata": map[string]any{"carnet_pack_id": itoa(co.PackID)}}),
		}
		for m := range 3 {
			evs = append(evs, newEvent("invoice.paid", s.now.AddDate(0, m, 0), invoice("in_"+randomID(), sub, co.PackID, 15000, "paid")))
		}
		s.deliverScrambled(rng, evs, nil)
		if got := s.state(co.PackID); got != want {
			t.Fatalf("trial %d: state %q, want %q", trial, got, want)
		}
	}
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("plans paid on schedule, in any order, raised %v", a)
	}
	s.verify()
}

func TestFailedInstallmentThenRetry(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co := s.buyInstallments("f")
	s.deliver(newEvent("invoice.payment_failed", s.now.AddDate(0, 1, 0), invoice("in_f2", "sub_f", co.PackID, 15000, "open")))
	if got := s.pack(co.PackID); got.Status != "overdue" || got.OverdueSince == nil {
		t.Fatalf("after a failed debit: %s", got.Status)
	}
	s.deliver(newEvent("invoice.paid", s.now.AddDate(0, 1, 3), invoice("in_f2", "sub_f", co.PackID, 15000, "paid")))
	if got := s.state(co.PackID); !strings.HasPrefix(got, "active 10 | 1:paid,2:paid,3:due") {
		t.Fatalf("after the retry: %q", got)
	}
	// The client is told once about the failed debit, by its own message;
	// the failed-installment anomaly is the coach's.
	var toClient []string
	_ = s.packs.DB.Select(&toClient, `SELECT template FROM notifications WHERE recipient = $1 ORDER BY id`, s.client.Email)
	if strings.Join(toClient, ",") != "pack_purchased,installment_failed,anomaly_resolved" {
		t.Fatalf("the client was sent %v", toClient)
	}
	// A failure delivered after the success of the same invoice changes nothing.
	s.deliver(newEvent("invoice.payment_failed", s.now.AddDate(0, 1, 0), invoice("in_f2", "sub_f", co.PackID, 15000, "open")))
	if got := s.pack(co.PackID); got.Status != "active" {
		t.Fatalf("late failure event: %s", got.Status)
	}
}

func TestSEPASucceedsDaysLater(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "unpaid", "pi_sepa", "", 45000)))
	if p := s.pack(co.PackID); p.Status != "pending" || p.SessionsRemaining != 0 {
		t.Fatalf("SEPA before confirmation: %s %d", p.Status, p.SessionsRemaining)
	}
	s.deliver(newEvent("checkout.session.async_payment_succeeded", s.now.AddDate(0, 0, 4), checkoutSession(co, "payment", "paid", "pi_sepa", "", 45000)))
	if got := s.state(co.PackID); got != "active 10 | 1:paid | purchase10 | charge:succeeded:45000" {
		t.Fatalf("after SEPA success: %q", got)
	}
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("an ordinary SEPA purchase raised %v", a)
	}
	if p := s.pack(co.PackID); !p.ActivatedAt.Equal(s.now.AddDate(0, 0, 4)) {
		t.Fatalf("activated at %v, want when the debit confirmed", p.ActivatedAt)
	}
}

func TestSEPAFails(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "unpaid", "pi_sepa2", "", 45000)))
	s.deliver(newEvent("checkout.session.async_payment_failed", s.now.AddDate(0, 0, 4), checkoutSession(co, "payment", "unpaid", "pi_sepa2", "", 45000)))
	failed := paymentIntent("pi_sepa2", co.PackID, 45000, "requires_payment_method")
	s.deliver(newEvent("payment_intent.payment_failed", s.now.AddDate(0, 0, 4), failed))
	if got := s.state(co.PackID); got != "cancelled 0 | 1:failed | charge:failed:45000" {
		t.Fatalf("after SEPA failure: %q", got)
	}
	// A returned first debit has no message of its own: the anomaly tells the client.
	var toClient []string
	_ = s.packs.DB.Select(&toClient, `SELECT template FROM notifications WHERE recipient = $1`, s.client.Email)
	if strings.Join(toClient, ",") != "anomaly_opened_client" {
		t.Fatalf("after a returned SEPA debit the client was sent %v", toClient)
	}
}

func TestExpiredCheckoutCancelsThePack(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co, _ := s.checkout(billing.PlanUpfront)
	expired := checkoutSession(co, "payment", "unpaid", "", "", 45000)
	expired["status"] = "expired"
	s.deliver(newEvent("checkout.session.expired", s.now.Add(24*time.Hour), expired))
	if got := s.state(co.PackID); got != "cancelled 0 | 1:cancelled" {
		t.Fatalf("after expiry: %q", got)
	}
	// A late "completed" for an expired session cannot revive it.
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", "pi_late", "", 45000)))
	if p := s.pack(co.PackID); p.Status != "cancelled" {
		t.Fatalf("revived: %s", p.Status)
	}
}

func TestRefundAndDispute(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	buy := func(intent string) billing.Checkout {
		co, _ := s.checkout(billing.PlanUpfront)
		s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", intent, "", 45000)))
		s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent(intent, co.PackID, 45000, "succeeded")))
		return co
	}
	refunded := buy("pi_r1")
	s.deliver(newEvent("charge.refunded", s.now.Add(time.Hour), map[string]any{"id": "ch_r1", "object": "charge",
		"amount": 45000, "amount_refunded": 45000, "refunded": true, "currency": "eur", "payment_intent": "pi_r1"}))
	if got := s.state(refunded.PackID); got != "refunded 0 | 1:paid | purchase10,refund_reversal-10 | charge:succeeded:45000,refund:refunded:45000" {
		t.Fatalf("after refund: %q", got)
	}
	disputed := buy("pi_d1")
	dispute := map[string]any{"id": "dp_1", "object": "dispute", "amount": 45000, "currency": "eur",
		"charge": "ch_d1", "payment_intent": "pi_d1", "status": "needs_response", "reason": "fraudulent", "metadata": map[string]any{}}
	s.deliver(newEvent("charge.dispute.created", s.now.Add(time.Hour), dispute))
	if p := s.pack(disputed.PackID); p.Status != "active" {
		t.Fatalf("an open dispute ended the pack: %s", p.Status)
	}
	dispute["status"] = "lost"
	s.deliver(newEvent("charge.dispute.closed", s.now.Add(48*time.Hour), dispute))
	if got := s.state(disputed.PackID); got != "refunded 0 | 1:paid | purchase10,refund_reversal-10 | charge:succeeded:45000,dispute:lost:45000" {
		t.Fatalf("after a lost dispute: %q", got)
	}
	s.verify()
}

func TestDuplicatesAndStrangers(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	e := newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_nobody", 0, 9900, "succeeded"))
	first, second := s.deliver(e), s.deliver(e)
	if first.Duplicate || !second.Duplicate {
		t.Fatalf("duplicate flags: %+v %+v", first, second)
	}
	var stored, unmatched int
	_ = s.packs.DB.Get(&stored, `SELECT count(*) FROM webhook_events WHERE id = $1`, e.ID)
	_ = s.packs.DB.Get(&unmatched, `SELECT count(*) FROM payments WHERE status = 'unmatched' AND coach_id IS NULL AND amount = 9900`)
	if stored != 1 || unmatched != 1 {
		t.Fatalf("stored %d times, %d unmatched payments", stored, unmatched)
	}
	// Types Carnet does not handle are stored and acknowledged.
	s.deliver(newEvent("customer.created", s.now, map[string]any{"id": "cus_x", "object": "customer"}))
	// So is a signed event whose object is empty or lacks its currency:
	// kept as received, no money recorded from it.
	s.deliver(newEvent("payment_intent.succeeded", s.now, nil))
	s.deliver(newEvent("charge.refunded", s.now, map[string]any{}))
	noCurrency := paymentIntent("pi_nocur", 0, 500, "succeeded")
	delete(noCurrency, "currency")
	s.deliver(newEvent("payment_intent.succeeded", s.now, noCurrency))
	var payments, events int
	_ = s.packs.DB.Get(&payments, `SELECT count(*) FROM payments`)
	_ = s.packs.DB.Get(&events, `SELECT count(*) FROM webhook_events`)
	if payments != 1 || events != 5 {
		t.Fatalf("after empty and currency-less events: %d payments, %d events stored", payments, events)
	}
	// A newer API version is accepted, its invoice read where it now keeps the subscription.
	co, _ := s.checkout(billing.PlanInstallments)
	newer := newEvent("invoice.paid", s.now, map[string]any{"id": "in_new", "object": "invoice", "amount_paid": 15000,
		"currency": "eur", "status": "paid", "parent": map[string]any{"type": "subscription_details",
			"subscription_details": map[string]any{"subscription": "sub_new", "metadata": map[string]any{"carnet_pack_id": itoa(co.PackID)}}}})
	newer.Version = "2026-08-26"
	s.deliver(newer)
	if p := s.pack(co.PackID); p.Status != "active" || p.Subscription == nil || *p.Subscription != "sub_new" {
		t.Fatalf("newer-version invoice: %s %v", p.Status, p.Subscription)
	}
}

func TestSignatures(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	e := newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_sig", 0, 100, "succeeded"))
	p := e.payload()
	cases := []struct {
		name      string
		payload   []byte
		signature string
	}{
		{"no signature", p, ""},
		{"wrong secret", p, sign(p, "whsec_other", time.Now())},
		{"tampered body", []byte(strings.Replace(string(p), `"amount":100`, `"amount":999`, 1)), sign(p, secret, time.Now())},
		{"older than the tolerance", p, sign(p, secret, time.Now().Add(-Tolerance-time.Second))},
		{"garbage header", p, "t=abc,v1=zzz"},
	}
	for _, tc := range cases {
		_, err := s.in.Receive(context.Background(), tc.payload, tc.signature)
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// Well signed but not JSON: Stripe signed it, so it is kept (under its
	// hash) and acknowledged, never applied.
	bad := []byte(`{"id": "evt_1", "type": `)
	if res, err := s.in.Receive(context.Background(), bad, sign(bad, secret, time.Now())); err != nil || res.Applied == nil || *res.Applied {
		t.Errorf("malformed JSON: %+v %v", res, err)
	}
	// Just inside the tolerance is fine.
	if _, err := s.in.Receive(context.Background(), p, sign(p, secret, time.Now().Add(-Tolerance+5*time.Second))); err != nil {
		t.Errorf("signature within tolerance: %v", err)
	}
	var stored int
	_ = s.packs.DB.Get(&stored, `SELECT count(*) FROM webhook_events`)
	if stored != 2 {
		t.Fatalf("%d events stored, want the good one and the unreadable one", stored)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A refund or a lost dispute may reach Carnet before the payment it reverses:
// whatever the order and repeats, the pack ends the same way.
func TestReversalsInAnyOrder(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	rng := rand.New(rand.NewPCG(13, 17))
	perms := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}, {3, 0, 1, 2}, {2, 3, 0, 1}}
	for trial, perm := range perms {
		for _, reversal := range []string{"refund", "dispute"} {
			co, _ := s.checkout(billing.PlanUpfront)
			intent := "pi_" + randomID()
			charge := "ch_" + intent[3:]
			// Stripe copies the PaymentIntent's metadata to its charge; half
			// the trials go without, as a dispute always does.
			meta := map[string]any{}
			if trial%2 == 0 {
				meta["carnet_pack_id"] = itoa(co.PackID)
			}
			evs := []event{
				newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", intent, "", 45000)),
				newEvent("payment_intent.succeeded", s.now, paymentIntent(intent, co.PackID, 45000, "succeeded")),
			}
			want := "refunded 0 | 1:paid | purchase10,refund_reversal-10 | charge:succeeded:45000,"
			if reversal == "refund" {
				// A partial refund, then the rest.
				for _, amount := range []int64{10000, 45000} {
					evs = append(evs, newEvent("charge.refunded", s.now.Add(time.Hour), map[string]any{"id": charge, "object": "charge",
						"amount": 45000, "amount_refunded": amount, "refunded": amount == 45000, "currency": "eur",
						"payment_intent": intent, "metadata": meta}))
				}
				want += "refund:refunded:45000"
			} else {
				for _, status := range []string{"needs_response", "lost"} {
					evs = append(evs, newEvent("charge.dispute."+map[bool]string{true: "created", false: "closed"}[status == "needs_response"],
						s.now.Add(time.Hour), map[string]any{"id": "dp_" + intent[3:], "object": "dispute", "amount": 45000, "currency": "eur",
							"charge": charge, "payment_intent": intent, "status": status, "reason": "fraudulent", "metadata": map[string]any{}}))
				}
				want += "dispute:lost:45000"
			}
			s.deliverScrambled(rng, evs, perm)
			if got := s.state(co.PackID); got != want {
				t.Fatalf("%s, order %v: state %q, want %q", reversal, perm, got, want)
			}
		}
	}
	s.verify()
}

// From API version 2025-03-31.basil an installment's PaymentIntent does not
// name its invoice, nor the invoice its PaymentIntent: each is paired with
// the other, whichever comes first, and only a payment left alone past the
// pairing window becomes an unmatched payment.
func TestNewerAPIInstallmentsPairWithTheirInvoices(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	ctx := context.Background()
	co, _ := s.checkout(billing.PlanInstallments)
	cust := *s.pack(co.PackID).Customer
	sub := "sub_" + randomID()
	basil := func(typ string, at time.Time, obj map[string]any) event {
		e := newEvent(typ, at, obj)
		e.Version = "2025-03-31.basil"
		return e
	}
	inv := func(id string, at time.Time) event {
		return basil("invoice.paid", at, map[string]any{"id": id, "object": "invoice", "amount_paid": 15000, "amount_due": 15000,
			"currency": "eur", "status": "paid", "customer": cust, "created": at.Unix(),
			"parent": map[string]any{"type": "subscription_details", "subscription_details": map[string]any{
				"subscription": sub, "metadata": map[string]any{"carnet_pack_id": itoa(co.PackID)}}}})
	}
	pi := func(id string, amount int64, at time.Time) event {
		return basil("payment_intent.succeeded", at, map[string]any{"id": id, "object": "payment_intent", "amount": amount,
			"amount_received": amount, "currency": "eur", "status": "succeeded", "customer": cust,
			"latest_charge": "ch_" + id[3:], "metadata": map[string]any{}})
	}
	s.deliver(basil("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", sub, 15000)))
	// Month 1: the PaymentIntent first. Month 2: the invoice first.
	s.deliver(pi("pi_basil1", 15000, s.now))
	s.deliver(inv("in_basil1", s.now.Add(time.Minute)))
	m2 := s.now.AddDate(0, 1, 0)
	s.deliver(inv("in_basil2", m2))
	s.deliver(pi("pi_basil2", 15000, m2.Add(time.Minute)))
	// A payment of this customer's that no invoice will ever claim.
	s.deliver(pi("pi_basil_other", 7000, m2))
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("before the pairing window ended: %v", a)
	}

	s.mu.Lock()
	s.now = m2.Add(billing.PairWindow + time.Hour)
	s.mu.Unlock()
	if err := s.in.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	want := "active 10 | 1:paid,2:paid,3:due | purchase10 | charge:succeeded:15000,charge:succeeded:15000"
	if got := s.state(co.PackID); got != want {
		t.Fatalf("state %q, want %q", got, want)
	}
	var links int
	_ = s.packs.DB.Get(&links, `SELECT count(*) FROM payments WHERE pack_id = $1 AND stripe_invoice_id IS NOT NULL
		AND stripe_payment_intent_id IS NOT NULL AND stripe_charge_id IS NOT NULL`, co.PackID)
	if links != 2 {
		t.Fatalf("%d installments know their PaymentIntent and charge, want 2", links)
	}
	var unmatched []string
	_ = s.packs.DB.Select(&unmatched, `SELECT evidence->>'stripe_id' FROM anomalies WHERE kind = $1`, reconcile.KindUnmatched)
	if len(unmatched) != 1 || unmatched[0] != "pi_basil_other" {
		t.Fatalf("unmatched payments %v, want only pi_basil_other", unmatched)
	}
}

// Stripe delivers in parallel: a purchase's events, each sent three times at
// once, end as they do one by one, with no deadlock and no event applied twice.
func TestConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co, _ := s.checkout(billing.PlanInstallments)
	sub := "sub_" + randomID()
	evs := []event{newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", sub, 15000)),
		newEvent("customer.subscription.updated", s.now, map[string]any{"id": sub, "object": "subscription", "status": "active",
			"metadata": map[string]any{"carnet_pack_id": itoa(co.PackID)}})}
	for m := range 3 {
		evs = append(evs, newEvent("invoice.paid", s.now.AddDate(0, m, 0), invoice("in_"+randomID(), sub, co.PackID, 15000, "paid")))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 3 {
		for _, e := range evs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := e.payload()
				res, err := s.in.Receive(context.Background(), p, sign(p, secret, time.Now()))
				if err != nil {
					t.Errorf("deliver %s: %v", e.Type, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if !res.Duplicate {
					fresh++
				}
			}()
		}
	}
	wg.Wait()
	want := "active 10 | 1:paid,2:paid,3:paid | purchase10 | charge:succeeded:15000,charge:succeeded:15000,charge:succeeded:15000"
	if got := s.state(co.PackID); got != want || fresh != len(evs) {
		t.Fatalf("state %q (%d events applied), want %q (%d)", got, fresh, want, len(evs))
	}
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("concurrent deliveries raised %v", a)
	}
	s.verify()
}
