package webhooks

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"carnet/billing"
	"carnet/internal/errs"
	"carnet/internal/stripefault"
	"carnet/packs"
	"carnet/reconcile"
)

// viaProxy points the shop's Stripe calls at a fault-injecting proxy in
// front of stripe-mock; stripe-go's own retries then do not sleep.
func (s *shop) viaProxy() *stripefault.Proxy {
	s.t.Helper()
	p := stripefault.New(s.t, os.Getenv("STRIPE_API_BASE"))
	s.bill.Stripe = billing.NewStripeVia("", p.URL, 0, nil)
	stripefault.FastRetries(s.bill.Stripe)
	return p
}

// plain checks that err is the caller's "Stripe failed" answer, in plain
// words, with nothing of Stripe's own text or of where Carnet reaches it.
func plain(t *testing.T, err error, p *stripefault.Proxy, want string) {
	t.Helper()
	e := errs.AsError(err)
	if e == nil || e.Code != errs.Unavailable {
		t.Fatalf("error %v, want %s", err, errs.Unavailable)
	}
	if e.Message != want {
		t.Fatalf("message %q, want %q", e.Message, want)
	}
	for _, leak := range []string{strings.TrimPrefix(p.URL, "http://"), "stripefault", "api_error", "rate limit", "deadline"} {
		if strings.Contains(e.Message, leak) {
			t.Fatalf("message %q shows %q", e.Message, leak)
		}
	}
}

// sameKey checks that every request seen carried one idempotency key,
// derived from Carnet's own row (it ends in suffix).
func sameKey(t *testing.T, keys []string, n int, suffix string) {
	t.Helper()
	if len(keys) != n {
		t.Fatalf("%d requests, want %d: %v", len(keys), n, keys)
	}
	for _, k := range keys {
		if k != keys[0] || !strings.HasSuffix(k, suffix) {
			t.Fatalf("idempotency keys %v, want one ending in %q", keys, suffix)
		}
	}
}

// A checkout that Stripe fails leaves nothing half-done: each pack is either
// pending with its Checkout Session, or cancelled with every payment it
// expected, and no session.
func (s *shop) noHalfCheckout() {
	s.t.Helper()
	var bad []int64
	if err := s.packs.DB.Select(&bad, `SELECT id FROM packs p WHERE NOT (
		(p.status = 'pending' AND p.stripe_checkout_session_id IS NOT NULL)
		OR (p.status = 'cancelled' AND p.stripe_checkout_session_id IS NULL
			AND NOT EXISTS (SELECT 1 FROM installments i WHERE i.pack_id = p.id AND i.status <> 'cancelled')))`); err != nil {
		s.t.Fatal(err)
	}
	if len(bad) > 0 {
		s.t.Fatalf("packs left half-done by a failed checkout: %v", bad)
	}
}

func TestCheckoutWhenStripeFails(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	p := s.viaProxy()
	ctx := context.Background()
	offer := s.offer()
	start := func() (billing.Checkout, error) {
		return s.bill.StartCheckout(ctx, s.coach, billing.CheckoutInput{ClientID: s.client.ID, OfferID: offer.ID, Plan: billing.PlanInstallments})
	}
	const failed = "Stripe did not answer; nothing was charged; try again"

	// Rate limited, then a server error, on the client's first checkout:
	// nothing is kept, and the retry asks for the same customer.
	p.Inject(stripefault.Rule{Method: "POST", Path: "/v1/customers", On: []int{1}, Fault: stripefault.RateLimited},
		stripefault.Rule{Method: "POST", Path: "/v1/customers", On: []int{2}, Fault: stripefault.ServerError})
	for range 2 {
		_, err := start()
		plain(t, err, p, failed)
		s.noHalfCheckout()
	}
	if c, err := s.packs.Client(ctx, s.coach.ID, s.client.ID); err != nil || c.StripeID != nil {
		t.Fatalf("client after failed checkouts: %+v %v", c.StripeID, err)
	}
	if _, err := start(); err != nil {
		t.Fatalf("checkout once Stripe answers: %v", err)
	}
	sameKey(t, p.Keys("POST", "/v1/customers"), 3, "-client-"+itoa(s.client.ID)+"-customer")
	p.Clear()

	// The session itself fails, or every try's connection drops (stripe-go
	// and Go's transport both retry a dropped request that carries a key):
	// cancelled.
	p.Inject(stripefault.Rule{Method: "POST", Path: "/v1/checkout/sessions", On: []int{1}, Fault: stripefault.ServerError},
		stripefault.Rule{Method: "POST", Path: "/v1/checkout/sessions", Fault: stripefault.DropBefore})
	for range 2 {
		_, err := start()
		plain(t, err, p, failed)
		s.noHalfCheckout()
	}
	p.Clear()

	// The answer is lost after Stripe made the session: stripe-go asks
	// again with the same key (Stripe answers the same session).
	p.Inject(stripefault.Rule{Method: "POST", Path: "/v1/checkout/sessions", On: []int{1}, Fault: stripefault.DropAfter})
	before := len(p.Seen("POST", "/v1/checkout/sessions"))
	co, err := start()
	if err != nil {
		t.Fatalf("checkout after a dropped answer: %v", err)
	}
	sameKey(t, p.Keys("POST", "/v1/checkout/sessions")[before:], 2, "-pack-"+itoa(co.PackID)+"-checkout")
	p.Clear()

	// Slow, but answering: the checkout waits and opens.
	p.Inject(stripefault.Rule{Method: "POST", Path: "/v1/checkout/sessions", Fault: stripefault.Slow, Delay: 50 * time.Millisecond})
	if _, err := start(); err != nil {
		t.Fatalf("slow checkout: %v", err)
	}
	s.noHalfCheckout()
	var open, cancelled int
	_ = s.packs.DB.Get(&open, `SELECT count(*) FROM packs WHERE status = 'pending'`)
	_ = s.packs.DB.Get(&cancelled, `SELECT count(*) FROM packs WHERE status = 'cancelled'`)
	if open != 3 || cancelled != 4 {
		t.Fatalf("%d checkouts open and %d cancelled, want 3 and 4", open, cancelled)
	}
}

// An anomaly's refund through a failing Stripe: every try carries the one
// key derived from the anomaly and the payment, the claim made before the
// first try stays until one succeeds, and the money is given back once.
func TestAnomalyRefundWhenStripeFails(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	ctx := context.Background()
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_over", co.PackID, 50000, "succeeded")))
	var a reconcile.Anomaly
	if err := s.packs.DB.Get(&a, `SELECT * FROM anomalies WHERE kind = $1`, reconcile.KindAmount); err != nil {
		t.Fatal(err)
	}
	p := s.viaProxy()
	const failed = "Stripe did not answer; try again: a refund is never made twice"
	claimed := func() (claims, done, remedies int) {
		_ = s.packs.DB.Get(&claims, `SELECT count(*) FROM anomaly_refunds WHERE anomaly_id = $1`, a.ID)
		_ = s.packs.DB.Get(&done, `SELECT count(*) FROM anomaly_refunds WHERE anomaly_id = $1 AND done_at IS NOT NULL`, a.ID)
		_ = s.packs.DB.Get(&remedies, `SELECT count(*) FROM payments WHERE kind = 'refund' AND status = 'remedy'`)
		return
	}

	p.Inject(stripefault.Rule{Method: "POST", Path: "/v1/refunds", On: []int{1}, Fault: stripefault.ServerError},
		stripefault.Rule{Method: "POST", Path: "/v1/refunds", On: []int{2}, Fault: stripefault.RateLimited},
		stripefault.Rule{Method: "POST", Path: "/v1/refunds", On: []int{3}, Fault: stripefault.Slow, Delay: time.Second},
		stripefault.Rule{Method: "POST", Path: "/v1/refunds", On: []int{4}, Fault: stripefault.DropAfter})
	for try := range 3 {
		ctx := ctx
		if try == 2 { // Stripe is slower than the caller will wait
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
		}
		_, err := s.rec.RefundExcess(ctx, s.coach.ID, a.ID, "coach")
		plain(t, err, p, failed)
		got, err := s.rec.Get(context.Background(), s.coach.ID, a.ID)
		if err != nil || got.State != "open" || got.RefundingAt == nil {
			t.Fatalf("try %d: anomaly %+v %v, want open and frozen for its refund", try, got, err)
		}
		if claims, done, remedies := claimed(); claims != 1 || done != 0 || remedies != 1 {
			t.Fatalf("try %d: %d claims, %d done, %d remedies; want the one claim waiting", try, claims, done, remedies)
		}
	}
	// The fourth try's answer is lost after Stripe refunded: stripe-go asks
	// again with the same key and Stripe answers with that refund.
	got, err := s.rec.RefundExcess(ctx, s.coach.ID, a.ID, "coach")
	if err != nil || got.State != "resolved" || got.RefundID == nil {
		t.Fatalf("refund once Stripe answers: %+v %v", got, err)
	}
	if claims, done, remedies := claimed(); claims != 1 || done != 1 || remedies != 1 {
		t.Fatalf("%d claims, %d done, %d remedies after the refund", claims, done, remedies)
	}
	var payment int64
	_ = s.packs.DB.Get(&payment, `SELECT id FROM payments WHERE stripe_object_id = 'pi_over'`)
	sameKey(t, p.Keys("POST", "/v1/refunds"), 5, "-anomaly-"+itoa(a.ID)+"-payment-"+itoa(payment)+"-refund")
	// A retry of the coach's click changes nothing and asks Stripe nothing.
	if _, err := s.rec.RefundExcess(ctx, s.coach.ID, a.ID, "coach"); err != nil {
		t.Fatal(err)
	}
	if n := len(p.Seen("POST", "/v1/refunds")); n != 5 {
		t.Fatalf("%d refund requests after a retry of a done refund", n)
	}
	var told int
	_ = s.packs.DB.Get(&told, `SELECT count(*) FROM notifications WHERE cause_key = $1`, "anomaly:"+itoa(a.ID)+":resolved:client")
	if told != 1 {
		t.Fatalf("client told %d times that all is back to normal", told)
	}
	s.verify()
}

// A payment known by its PaymentIntent only: Carnet asks Stripe for its
// charge before claiming anything. stripe-go retries a GET that fails
// with 500; when every try fails, nothing is claimed.
func TestRefundWhenStripeCannotNameTheCharge(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	ctx := context.Background()
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", "pi_nocharge", "", 50000)))
	var a reconcile.Anomaly
	if err := s.packs.DB.Get(&a, `SELECT * FROM anomalies WHERE kind = $1`, reconcile.KindAmount); err != nil {
		t.Fatal(err)
	}
	p := s.viaProxy()
	p.Inject(stripefault.Rule{Method: "GET", Path: "/v1/payment_intents/*", On: []int{1, 2, 3, 5}, Fault: stripefault.ServerError})
	_, err := s.rec.RefundExcess(ctx, s.coach.ID, a.ID, "coach")
	plain(t, err, p, "Stripe did not answer; try again: a refund is never made twice")
	var claims, remedies int
	_ = s.packs.DB.Get(&claims, `SELECT count(*) FROM anomaly_refunds`)
	_ = s.packs.DB.Get(&remedies, `SELECT count(*) FROM payments WHERE status = 'remedy'`)
	got, _ := s.rec.Get(ctx, s.coach.ID, a.ID)
	if claims != 0 || remedies != 0 || got.RefundingAt != nil || got.State != "open" {
		t.Fatalf("after Stripe failed to name the charge: %d claims, %d remedies, anomaly %s frozen %v", claims, remedies, got.State, got.RefundingAt)
	}
	if n := len(p.Seen("GET", "/v1/payment_intents/*")); n != 3 {
		t.Fatalf("%d reads of the intent, want 3 (stripe-go's two retries)", n)
	}
	// Next time the 4th read answers, the 5th (a retry) is not needed.
	if got, err := s.rec.RefundExcess(ctx, s.coach.ID, a.ID, "coach"); err != nil || got.State != "resolved" {
		t.Fatalf("refund once Stripe answers: %v %v", got.State, err)
	}
	if n := len(p.Seen("POST", "/v1/refunds")); n != 1 {
		t.Fatalf("%d refunds asked", n)
	}
}

// A late-cancellation fee through a failing Stripe: the booking's payment
// row is claimed before the call and stays 'charging' until a try
// succeeds; every try of the charge carries the booking's key.
func TestFeeWhenStripeFails(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	ctx := context.Background()
	if _, err := s.packs.PublishCharter(ctx, s.coach, packs.CharterInput{LateCancelAction: packs.ActionFee, LateCancelFee: 2000}); err != nil {
		t.Fatal(err)
	}
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", "pi_feefault", "", 45000)))
	start := s.now.Add(3 * time.Hour)
	sess, err := s.packs.Schedule(ctx, s.coach.ID, packs.SessionInput{StartsAt: &start, ClientIDs: []int64{s.client.ID}})
	if err != nil {
		t.Fatal(err)
	}
	booking := sess.Bookings[0].ID
	if _, err := s.packs.RecordOutcome(ctx, s.coach.ID, booking, packs.OutcomeInput{Outcome: packs.Cancelled}); err != nil {
		t.Fatal(err)
	}
	p := s.viaProxy()
	fee := func() (status string, rows int) {
		_ = s.packs.DB.Get(&rows, `SELECT count(*) FROM payments WHERE kind = 'fee' AND booking_id = $1`, booking)
		_ = s.packs.DB.Get(&status, `SELECT status FROM payments WHERE kind = 'fee' AND booking_id = $1`, booking)
		return
	}
	p.Inject(stripefault.Rule{Method: "GET", Path: "/v1/payment_methods", On: []int{1}, Fault: stripefault.RateLimited},
		stripefault.Rule{Method: "POST", Path: "/v1/payment_intents", On: []int{1}, Fault: stripefault.ServerError},
		stripefault.Rule{Method: "POST", Path: "/v1/payment_intents", On: []int{2}, Fault: stripefault.RateLimited},
		stripefault.Rule{Method: "POST", Path: "/v1/payment_intents", On: []int{3}, Fault: stripefault.DropAfter})
	// As River runs the job again after each failure.
	for try := range 3 {
		if err := s.bill.ChargeFee(ctx, booking); err == nil {
			t.Fatalf("try %d: no error while Stripe fails", try)
		}
		if status, rows := fee(); status != "charging" || rows != 1 {
			t.Fatalf("try %d: fee %q in %d rows, want one row still charging", try, status, rows)
		}
	}
	if err := s.bill.ChargeFee(ctx, booking); err != nil {
		t.Fatalf("fee once Stripe answers: %v", err)
	}
	// stripe-mock answers its fixture's status; what matters is that the
	// row holds Stripe's answer, once.
	var intent *string
	_ = s.packs.DB.Get(&intent, `SELECT stripe_payment_intent_id FROM payments WHERE kind = 'fee' AND booking_id = $1`, booking)
	if status, rows := fee(); status == "charging" || rows != 1 || intent == nil {
		t.Fatalf("fee %q in %d rows (intent %v), want Stripe's answer in one", status, rows, intent)
	}
	sameKey(t, p.Keys("POST", "/v1/payment_intents"), 4, "-booking-"+itoa(booking)+"-fee")
}

// The job that binds a plan's subscription to its number of debits: a
// failed create or a failed update leaves no schedule recorded, and the
// job run again asks for the same schedule with the same keys.
func TestScheduleJobWhenStripeFails(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	ctx := context.Background()
	co, _ := s.checkout(billing.PlanInstallments)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", "sub_sched", 15000)))
	p := s.viaProxy()
	p.Inject(stripefault.Rule{Method: "POST", Path: "/v1/subscription_schedules", On: []int{1}, Fault: stripefault.ServerError},
		stripefault.Rule{Method: "POST", Path: "/v1/subscription_schedules", On: []int{2}, Fault: stripefault.RateLimited},
		stripefault.Rule{Method: "POST", Path: "/v1/subscription_schedules/*", On: []int{1}, Fault: stripefault.ServerError},
		stripefault.Rule{Method: "POST", Path: "/v1/subscription_schedules/*", On: []int{2}, Fault: stripefault.DropBefore})
	// Run as River runs the job, again after each failure.
	work := &billing.ScheduleWorker{Billing: s.bill}
	job := &river.Job[billing.ScheduleArgs]{JobRow: &rivertype.JobRow{Kind: billing.ScheduleArgs{}.Kind()}, Args: billing.ScheduleArgs{PackID: co.PackID}}
	for try := range 3 {
		if err := work.Work(ctx, job); err == nil {
			t.Fatalf("try %d: no error while Stripe fails", try)
		}
		if p := s.pack(co.PackID); p.Schedule != nil {
			t.Fatalf("try %d: schedule %s recorded before it was bound", try, *p.Schedule)
		}
	}
	if err := work.Work(ctx, job); err != nil {
		t.Fatalf("bind once Stripe answers: %v", err)
	}
	if p := s.pack(co.PackID); p.Schedule == nil {
		t.Fatal("no schedule recorded")
	}
	sameKey(t, p.Keys("POST", "/v1/subscription_schedules"), 4, "-pack-"+itoa(co.PackID)+"-schedule")
	// The update: a 500 on try 3, a drop then the answer on try 4.
	sameKey(t, p.Keys("POST", "/v1/subscription_schedules/*"), 3, "-pack-"+itoa(co.PackID)+"-schedule-bind")
	if err := work.Work(ctx, job); err != nil {
		t.Fatal(err)
	}
	if n := len(p.Seen("POST", "/v1/subscription_schedules*")); n != 7 {
		t.Fatalf("%d schedule requests after the plan was bound, want the 7 before", n)
	}
}

// The sweep pages through Stripe's lists and, when rate limited, pauses
// (doubling) and resumes; after five 429s it gives up without moving its
// cursor, and the next sweep starts from the same place.
func TestSweepBacksOffOnRateLimit(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	ctx := context.Background()
	p := s.viaProxy()
	var logs bytes.Buffer
	s.in.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	s.in.RateLimitPause = time.Millisecond

	p.Inject(stripefault.Rule{Method: "GET", Path: "/v1/events", On: []int{1, 2, 3}, Fault: stripefault.RateLimited},
		stripefault.Rule{Method: "GET", Path: "/v1/invoices", On: []int{1}, Fault: stripefault.ServerError})
	if err := s.in.Sweep(ctx); err != nil {
		t.Fatalf("sweep through three 429s and a 500: %v", err)
	}
	events := p.Seen("GET", "/v1/events")
	if len(events) != 4 {
		t.Fatalf("%d event list requests, want 4 (three 429s, then the list)", len(events))
	}
	for _, e := range events[1:] {
		if e.Query != events[0].Query {
			t.Fatalf("a retry asked for %q, the first for %q", e.Query, events[0].Query)
		}
	}
	for _, want := range []string{`"pause":1000000,"try":1`, `"pause":2000000,"try":2`, `"pause":4000000,"try":3`} {
		if !strings.Contains(logs.String(), want) {
			t.Fatalf("no pause %s in the logs:\n%s", want, logs.String())
		}
	}
	if n := len(p.Seen("GET", "/v1/invoices")); n != 2 { // stripe-go retries a GET's 500
		t.Fatalf("%d invoice list requests, want 2", n)
	}
	cursor := func(name string) (v string) {
		_ = s.packs.DB.Get(&v, `SELECT value FROM sweep_cursors WHERE name = $1`, name)
		return
	}
	charges := cursor("charges")
	if cursor("events") == "" || charges == "" {
		t.Fatal("a finished sweep left no cursor")
	}
	p.Clear()

	// Rate limited five times in a row on the charges: the sweep stops with
	// Stripe's error, keeps the cursors it finished and not the charges'.
	s.setNow(s.now.Add(24 * time.Hour))
	p.Inject(stripefault.Rule{Method: "GET", Path: "/v1/charges", Fault: stripefault.RateLimited})
	before := len(p.Seen("GET", "/v1/charges"))
	if err := s.in.Sweep(ctx); err == nil || !strings.Contains(err.Error(), "sweep charges") {
		t.Fatalf("sweep after five 429s: %v", err)
	}
	if n := len(p.Seen("GET", "/v1/charges")) - before; n != 5 {
		t.Fatalf("%d charge list requests, want 5", n)
	}
	if got := cursor("charges"); got != charges {
		t.Fatalf("charges cursor moved from %s to %s after a failed sweep", charges, got)
	}
	p.Clear()
	if err := s.in.Sweep(ctx); err != nil {
		t.Fatalf("the next sweep: %v", err)
	}
}
