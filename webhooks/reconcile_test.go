package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/billing"
	"carnet/internal/db"
	"carnet/internal/mailtest"
	"carnet/internal/stripefault"
	"carnet/notify"
	"carnet/notify/notifytest"
	"carnet/packs"
	"carnet/reconcile"
)

// mailbox sends the outbox through a real SMTP server and returns what it got.
type mailbox struct {
	t      testing.TB
	server *mailtest.Server
	d      *notify.Dispatcher
}

func (s *shop) mailbox() *mailbox {
	srv, _ := mailtest.Start(s.t.(*testing.T), mailtest.PlainSMTP)
	d := &notify.Dispatcher{DB: s.packs.DB, SMTPURL: srv.URL("smtp"), From: "carnet@localhost", Now: s.clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &mailbox{t: s.t, server: srv, d: d}
}

// flush sends everything due and returns every message received so far.
func (m *mailbox) flush() []mailtest.Received {
	m.t.Helper()
	notifytest.Work(m.t, m.d.DB, m.d)
	return m.server.Messages()
}

func (s *shop) charter(autoRefund bool) {
	s.t.Helper()
	if _, err := s.packs.PublishCharter(context.Background(), s.coach, packs.CharterInput{AutoRefundExcess: autoRefund}); err != nil {
		s.t.Fatal(err)
	}
}

func (s *shop) setLocale(locale string) {
	s.t.Helper()
	if _, err := s.packs.UpdateClient(context.Background(), s.coach.ID, s.client.ID, packs.ClientInput{Locale: &locale}); err != nil {
		s.t.Fatal(err)
	}
}

// runRefundJobs does what the reconcile.RefundWorker does for each queued refund job.
func (s *shop) runRefundJobs() int {
	s.t.Helper()
	var ids []int64
	if err := s.packs.DB.Select(&ids, `SELECT (args->>'anomaly_id')::bigint FROM river_job WHERE kind = 'webhooks.refund_excess' ORDER BY id`); err != nil {
		s.t.Fatal(err)
	}
	w := &reconcile.RefundWorker{Reconciler: s.rec}
	for _, id := range ids {
		if err := w.Work(context.Background(), &river.Job[reconcile.RefundArgs]{Args: reconcile.RefundArgs{AnomalyID: id}}); err != nil {
			s.t.Fatal(err)
		}
	}
	return len(ids)
}

// to keeps the messages to addr, but the "your pack is active" welcome
// every purchase sends.
func to(msgs []mailtest.Received, addr string) []mailtest.Received {
	var out []mailtest.Received
	for _, m := range msgs {
		if len(m.To) == 1 && m.To[0] == addr && !strings.HasSuffix(m.Subject, "ya está activo") &&
			!strings.HasSuffix(m.Subject, "est active") && !strings.HasSuffix(m.Subject, "is active") {
			out = append(out, m)
		}
	}
	return out
}

// nightOfThree is a 3-installment plan whose three debits all land within
// minutes of each other.
func nightOfThree(s *shop, co billing.Checkout, sub string) []event {
	evs := []event{newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", sub, 15000))}
	for i := range 3 {
		evs = append(evs, newEvent("invoice.paid", s.now.Add(time.Duration(i)*time.Minute),
			invoice("in_"+randomID(), sub, co.PackID, 15000, "paid")))
	}
	return evs
}

// The night a platform collected every installment at once: exactly one
// anomaly, one email to the coach, one to the client in their language, the
// excess refunded once (the charter allows it), then one "back to normal".
func TestInstallmentsCollectedInOneNight(t *testing.T) {
	t.Parallel()
	for _, twice := range []bool{false, true} {
		s := newShop(t)
		s.charter(true)
		s.setLocale("es")
		box := s.mailbox()
		co, _ := s.checkout(billing.PlanInstallments)
		stream := nightOfThree(s, co, "sub_night")
		if twice { // every event twice, in any order
			stream = append(stream, stream...)
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
		}
		for _, e := range stream {
			s.deliver(e)
		}
		if a := s.anomalies(); len(a) != 1 || a[reconcile.KindAtOnce] != "open " {
			t.Fatalf("anomalies %v, want one open installments_at_once", a)
		}
		var excess int64
		_ = s.packs.DB.Get(&excess, `SELECT excess_amount FROM anomalies`)
		if excess != 30000 {
			t.Fatalf("excess %d, want the two installments collected early (30000)", excess)
		}
		s.mu.Lock()
		s.now = s.now.Add(reconcile.RefundSettle) // the messages wait for the burst to settle
		s.mu.Unlock()
		msgs := box.flush()
		coach, client := to(msgs, s.coach.Email), to(msgs, s.client.Email)
		if len(coach) != 1 || len(client) != 1 {
			t.Fatalf("%d coach and %d client emails, want 1 and 1", len(coach), len(client))
		}
		if !strings.Contains(client[0].Body, "Hola") || strings.Contains(strings.ToLower(client[0].Body), "stripe") {
			t.Fatalf("client email is not plain Spanish:\n%s", client[0].Body)
		}
		if !strings.Contains(coach[0].Body, "in_") {
			t.Fatalf("coach email lacks the evidence:\n%s", coach[0].Body)
		}
		// The refund job runs (twice, as a retried job would): one refund.
		for range 2 {
			if n := s.runRefundJobs(); n != 1 {
				t.Fatalf("%d refund jobs, want 1", n)
			}
		}
		// One refund for each installment collected early, 300.00 in all.
		var remedies struct {
			N   int   `db:"n"`
			Sum int64 `db:"total"`
		}
		_ = s.packs.DB.Get(&remedies, `SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM payments WHERE kind = 'refund' AND status = 'remedy'`)
		if remedies.N != 2 || remedies.Sum != 30000 {
			t.Fatalf("refunds %+v, want two making 30000", remedies)
		}
		if a := s.anomalies(); a[reconcile.KindAtOnce] != "resolved " {
			t.Fatalf("after the refund: %v", a)
		}
		// Stripe then reports the refund: recognised as ours, the pack goes on.
		var charges []string
		_ = s.packs.DB.Select(&charges, `SELECT stripe_charge_id FROM payments WHERE status = 'remedy'`)
		for _, ch := range charges {
			s.deliver(newEvent("charge.refunded", s.now.Add(time.Hour), map[string]any{"id": ch, "object": "charge",
				"amount": 15000, "amount_refunded": 15000, "refunded": true, "currency": "eur", "payment_intent": nil,
				"invoice": "in_" + ch[3:]}))
		}
		// And the night's events arrive once more: nothing new.
		for _, e := range stream {
			s.deliver(e)
		}
		msgs = box.flush()
		client = to(msgs, s.client.Email)
		if len(to(msgs, s.coach.Email)) != 1 || len(client) != 2 || !strings.Contains(client[1].Body, "Hola") {
			t.Fatalf("after resolution: %d coach, %d client emails", len(to(msgs, s.coach.Email)), len(client))
		}
		if a := s.anomalies(); len(a) != 1 {
			t.Fatalf("anomalies after redelivery %v", a)
		}
		if p := s.pack(co.PackID); p.Status != "active" || p.SessionsRemaining != 10 {
			t.Fatalf("pack after all that: %s %d", p.Status, p.SessionsRemaining)
		}
		// The two installments given back are due again on their dates:
		// the debit on the second one's date pays it, with no anomaly.
		if got := s.state(co.PackID); !strings.HasPrefix(got, "active 10 | 1:paid,2:due,3:due |") {
			t.Fatalf("installments after the refund: %q", got)
		}
		var due2 time.Time
		_ = s.packs.DB.Get(&due2, `SELECT due_at FROM installments WHERE pack_id = $1 AND seq = 2`, co.PackID)
		s.deliver(newEvent("invoice.paid", due2, invoice("in_"+randomID(), "sub_night", co.PackID, 15000, "paid")))
		if got := s.state(co.PackID); !strings.HasPrefix(got, "active 10 | 1:paid,2:paid,3:due |") {
			t.Fatalf("installments after the second month's debit: %q", got)
		}
		if a := s.anomalies(); len(a) != 1 {
			t.Fatalf("anomalies after the second month's debit %v", a)
		}
		s.verify()
	}
}

func TestOtherDisagreements(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	ctx := context.Background()

	// One charge for the full amount on an installment plan.
	full, _ := s.checkout(billing.PlanInstallments)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(full, "subscription", "paid", "", "sub_full", 45000)))
	s.deliver(newEvent("invoice.paid", s.now, invoice("in_full", "sub_full", full.PackID, 45000, "paid")))

	// Two successful charges for one upfront checkout.
	dup, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(dup, "payment", "paid", "pi_dup1", "", 45000)))
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_dup1", dup.PackID, 45000, "succeeded")))
	s.deliver(newEvent("payment_intent.succeeded", s.now.Add(time.Minute), paymentIntent("pi_dup2", dup.PackID, 45000, "succeeded")))

	// Paid 500.00 where 450.00 was due.
	more, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_more", more.PackID, 50000, "succeeded")))

	// A payment by this client that belongs to no pack.
	stranger := paymentIntent("pi_stranger", 0, 7000, "succeeded")
	stranger["customer"] = *s.pack(dup.PackID).Customer
	s.deliver(newEvent("payment_intent.succeeded", s.now, stranger))

	got := s.anomalies()
	want := map[string]string{reconcile.KindAtOnce: "open ", reconcile.KindDuplicate: "open ", reconcile.KindAmount: "open ", reconcile.KindUnmatched: "open "}
	if len(got) != len(want) {
		t.Fatalf("anomalies %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("anomalies %v, want %v", got, want)
		}
	}
	var rows []struct {
		Kind   string `db:"kind"`
		Excess int64  `db:"excess_amount"`
		Coach  *int64 `db:"coach_id"`
	}
	_ = s.packs.DB.Select(&rows, `SELECT kind, excess_amount, coach_id FROM anomalies ORDER BY kind`)
	excess := map[string]int64{}
	for _, r := range rows {
		excess[r.Kind] = r.Excess
		if r.Coach == nil || *r.Coach != s.coach.ID {
			t.Fatalf("%s is not shown to the coach", r.Kind)
		}
	}
	if excess[reconcile.KindAtOnce] != 30000 || excess[reconcile.KindDuplicate] != 45000 || excess[reconcile.KindAmount] != 5000 || excess[reconcile.KindUnmatched] != 7000 {
		t.Fatalf("excesses %v", excess)
	}
	// The coach hears of the stranger's payment; the client is not written to.
	var told []string
	_ = s.packs.DB.Select(&told, `SELECT n.recipient FROM notifications n JOIN anomalies a
		ON n.cause_key LIKE 'anomaly:' || a.id || ':opened:%' WHERE a.kind = $1`, reconcile.KindUnmatched)
	if len(told) != 1 || told[0] != s.coach.Email {
		t.Fatalf("the unmatched payment was told to %v, want the coach only", told)
	}
	// Without auto-refund nothing was refunded; the coach refunds the duplicate with one call, once.
	if n := s.runRefundJobs(); n != 0 {
		t.Fatalf("%d refunds queued without the charter's consent", n)
	}
	var dupID int64
	_ = s.packs.DB.Get(&dupID, `SELECT id FROM anomalies WHERE kind = $1`, reconcile.KindDuplicate)
	for range 2 {
		a, err := s.rec.RefundExcess(ctx, s.coach.ID, dupID, "coach")
		if err != nil || a.State != "resolved" || a.RefundID == nil {
			t.Fatalf("refund by the coach: %+v %v", a, err)
		}
	}
	if _, err := s.rec.RefundExcess(ctx, s.coach.ID+1, dupID, "coach"); err == nil {
		t.Fatal("another coach refunded this anomaly")
	}
	if p := s.pack(dup.PackID); p.Status != "active" {
		t.Fatalf("the refund of a duplicate ended the pack: %s", p.Status)
	}
}

// A missed installment is found by the sweep, with no webhook at all, and
// closes by itself when the money comes.
func TestSweepFindsMissedInstallment(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	box := s.mailbox()
	co := s.buyInstallments("miss")
	var due2 time.Time
	_ = s.packs.DB.Get(&due2, `SELECT due_at FROM installments WHERE pack_id = $1 AND seq = 2`, co.PackID)

	s.mu.Lock()
	s.now = due2.AddDate(0, 0, 7).Add(-time.Minute) // grace (7 days by default) not over
	s.mu.Unlock()
	if err := s.in.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := s.anomalies(); a[reconcile.KindMissed] != "" {
		t.Fatalf("missed before the grace ended: %v", a)
	}
	s.mu.Lock()
	s.now = due2.AddDate(0, 0, 7)
	s.mu.Unlock()
	for range 2 {
		if err := s.in.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if a := s.anomalies(); a[reconcile.KindMissed] != "open " {
		t.Fatalf("after the sweep: %v", a)
	}
	if msgs := box.flush(); len(to(msgs, s.coach.Email)) != 1 || len(to(msgs, s.client.Email)) != 1 {
		t.Fatalf("%d messages after the sweep", len(msgs))
	}
	s.deliver(newEvent("invoice.paid", s.now, invoice("in_miss2", "sub_miss", co.PackID, 15000, "paid")))
	if a := s.anomalies(); a[reconcile.KindMissed] != "resolved " {
		t.Fatalf("after the payment: %v", a)
	}
	if msgs := box.flush(); len(to(msgs, s.client.Email)) != 2 {
		t.Fatalf("no back-to-normal email: %d", len(to(msgs, s.client.Email)))
	}
}

// Stripe may report Carnet's own refund of a duplicate before Carnet has
// heard back from the refund call: the report is recognised as the remedy
// (claimed before the call) and the pack goes on.
func TestOwnRefundReportedBeforeTheCallReturns(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	ctx := context.Background()
	dup, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(dup, "payment", "paid", "pi_own1", "", 45000)))
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_own1", dup.PackID, 45000, "succeeded")))
	s.deliver(newEvent("payment_intent.succeeded", s.now.Add(time.Minute), paymentIntent("pi_own2", dup.PackID, 45000, "succeeded")))
	var dupID int64
	if err := s.packs.DB.Get(&dupID, `SELECT id FROM anomalies WHERE kind = $1`, reconcile.KindDuplicate); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, s.packs.DB, func(tx *sqlx.Tx) error { return s.rec.ClaimRefunds(ctx, tx, dupID) }); err != nil {
		t.Fatal(err)
	}
	s.deliver(newEvent("charge.refunded", s.now.Add(2*time.Minute), map[string]any{"id": "ch_own2", "object": "charge",
		"amount": 45000, "amount_refunded": 45000, "refunded": true, "currency": "eur", "payment_intent": "pi_own2",
		"metadata": map[string]any{"carnet_pack_id": itoa(dup.PackID)}}))
	if p := s.pack(dup.PackID); p.Status != "active" || p.SessionsRemaining != 10 {
		t.Fatalf("Carnet's own refund ended the pack: %s %d", p.Status, p.SessionsRemaining)
	}
	a, err := s.rec.RefundExcess(ctx, s.coach.ID, dupID, "coach")
	if err != nil || a.State != "resolved" || a.RefundID == nil {
		t.Fatalf("refund: %+v %v", a, err)
	}
	if got, want := s.state(dup.PackID), "active 10 | 1:paid | purchase10 | charge:succeeded:45000,charge:succeeded:45000,refund:refunded:45000,refund:remedy:45000"; got != want {
		t.Fatalf("state %q, want %q", got, want)
	}
	if got := s.anomalies(); got[reconcile.KindRefundDispute] != "" {
		t.Fatalf("Carnet's own refund raised %v", got)
	}
	// Once refunding has started, the anomaly's plan is frozen: a retry
	// finds nothing new to claim, and no payment is claimed twice.
	var claims int
	_ = s.packs.DB.Get(&claims, `SELECT count(*) FROM anomaly_refunds WHERE done_at IS NOT NULL`)
	if claims != 1 {
		t.Fatalf("%d refunds claimed, want 1", claims)
	}
}

// The coach dismissed an anomaly while its automatic refund waited: the job
// stops instead of failing until River gives up.
func TestRefundJobOfDismissedAnomalyStops(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(true)
	ctx := context.Background()
	more, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_more", more.PackID, 50000, "succeeded")))
	var id int64
	if err := s.packs.DB.Get(&id, `SELECT id FROM anomalies WHERE kind = $1`, reconcile.KindAmount); err != nil {
		t.Fatal(err)
	}
	if _, err := s.packs.DB.Exec(`UPDATE anomalies SET state = 'dismissed', resolved_by = 'coach' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	err := (&reconcile.RefundWorker{Reconciler: s.rec}).Work(ctx, &river.Job[reconcile.RefundArgs]{Args: reconcile.RefundArgs{AnomalyID: id}})
	var cancel *river.JobCancelError
	if !errors.As(err, &cancel) {
		t.Fatalf("refund job of a dismissed anomaly: %v, want it cancelled", err)
	}
	var refunds int
	_ = s.packs.DB.Get(&refunds, `SELECT count(*) FROM payments WHERE kind = 'refund'`)
	if refunds != 0 {
		t.Fatalf("%d refunds recorded for a dismissed anomaly", refunds)
	}
}

// A lost dispute ends an installment plan: Stripe is told to stop debiting,
// the installments left are no longer expected (never "missed"), and a debit
// Stripe still makes is a charge after the end, refundable.
func TestEndedPlanStopsAndFlagsLateDebits(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	ctx := context.Background()
	co := s.buyInstallments("end")
	s.deliver(newEvent("charge.dispute.closed", s.now.Add(time.Hour), map[string]any{"id": "dp_end", "object": "dispute",
		"amount": 15000, "currency": "eur", "charge": "ch_end1", "payment_intent": "pi_end1", "status": "lost"}))
	if got, want := s.state(co.PackID), "refunded 0 | 1:paid,2:cancelled,3:cancelled | purchase10,refund_reversal-10 | charge:succeeded:15000,dispute:lost:15000"; got != want {
		t.Fatalf("state %q, want %q", got, want)
	}
	var stops int
	_ = s.packs.DB.Get(&stops, `SELECT count(*) FROM river_job WHERE kind = 'billing.stop_plan' AND (args->>'pack_id')::bigint = $1`, co.PackID)
	if stops != 1 {
		t.Fatalf("%d stop-plan jobs queued, want 1", stops)
	}
	for range 2 { // at stripe-mock; a retried job repeats it harmlessly
		if err := s.bill.StopPlan(ctx, co.PackID); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	s.now = s.now.AddDate(0, 2, 0)
	s.mu.Unlock()
	s.deliver(newEvent("invoice.paid", s.now, invoice("in_end2", "sub_end", co.PackID, 15000, "paid")))
	if err := s.in.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	a := s.anomalies()
	if a[reconcile.KindChargeAfterEnd] != "open " || a[reconcile.KindMissed] != "" {
		t.Fatalf("anomalies %v, want one charge after the end and nothing missed", a)
	}
	var excess int64
	_ = s.packs.DB.Get(&excess, `SELECT excess_amount FROM anomalies WHERE kind = $1`, reconcile.KindChargeAfterEnd)
	if excess != 15000 {
		t.Fatalf("excess %d, want 15000", excess)
	}
	s.verify()
}

// Anomalies settled by a release that keyed causes per installment and
// recorded no refund claims are renamed and given their claims by the
// migration, so the same disagreement is not opened and refunded again.
func TestMigrationCarriesOldAnomaliesOver(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	ctx := context.Background()
	more, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent("pi_old", more.PackID, 50000, "succeeded")))
	var a reconcile.Anomaly
	if err := s.packs.DB.Get(&a, `SELECT * FROM anomalies WHERE kind = $1`, reconcile.KindAmount); err != nil {
		t.Fatal(err)
	}
	if _, err := s.rec.RefundExcess(ctx, s.coach.ID, a.ID, "coach"); err != nil {
		t.Fatal(err)
	}
	// What the previous release left: an installment-keyed cause, no claims.
	if _, err := s.packs.DB.Exec(`DELETE FROM anomaly_refunds`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.packs.DB.Exec(`UPDATE payments SET stripe_object_id = 'refund:ch_old' WHERE status = 'remedy'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.packs.DB.Exec(`UPDATE anomalies SET cause_key = 'amount:installment:1', refunding_at = NULL WHERE id = $1`, a.ID); err != nil {
		t.Fatal(err)
	}
	goose, err := db.Migrator(s.packs.DB.DB)
	if err != nil {
		t.Fatal(err)
	}
	// Back to before 00011 (later migrations came since), then up again.
	if _, err := goose.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := goose.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, s.packs.DB, func(tx *sqlx.Tx) error { return s.rec.CheckPack(ctx, tx, more.PackID) }); err != nil {
		t.Fatal(err)
	}
	var causes []string
	_ = s.packs.DB.Select(&causes, `SELECT cause_key || ' ' || state FROM anomalies ORDER BY id`)
	if len(causes) != 1 || !strings.HasPrefix(causes[0], "amount:payment:") || !strings.HasSuffix(causes[0], " resolved") {
		t.Fatalf("anomalies after the migration %v, want the one, renamed, still resolved", causes)
	}
	var claimed int64
	_ = s.packs.DB.Get(&claimed, `SELECT coalesce(sum(amount), 0) FROM anomaly_refunds WHERE anomaly_id = $1`, a.ID)
	if claimed != 5000 {
		t.Fatalf("claimed %d after the migration, want the 5000 refunded", claimed)
	}
	// The coach then refunds the rest by hand: the client has everything back.
	s.deliver(newEvent("charge.refunded", s.now.Add(time.Hour), map[string]any{"id": "ch_old", "object": "charge", "amount": 50000,
		"amount_refunded": 50000, "refunded": true, "currency": "eur", "payment_intent": "pi_old"}))
	if got, want := s.state(more.PackID), "refunded 0 | 1:paid | purchase10,refund_reversal-10 | charge:succeeded:50000,refund:refunded:50000,refund:remedy:5000"; got != want {
		t.Fatalf("state %q, want %q", got, want)
	}
}

// The coach clicks "refund" while the automatic job runs, several times
// over: each payment is claimed and given back once, and the client hears
// once that all is back to normal.
func TestConcurrentRefundsOfOneAnomaly(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	stripe := stripefault.New(t, os.Getenv("STRIPE_API_BASE"))
	s.bill.Stripe = billing.NewStripeVia("", stripe.URL, 0, nil)
	s.charter(false)
	ctx := context.Background()
	co, _ := s.checkout(billing.PlanInstallments)
	for _, e := range nightOfThree(s, co, "sub_race") {
		s.deliver(e)
	}
	var id int64
	if err := s.packs.DB.Get(&id, `SELECT id FROM anomalies WHERE kind = $1`, reconcile.KindAtOnce); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	refundIDs := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := s.rec.RefundExcess(ctx, s.coach.ID, id, "coach")
			if err != nil {
				errs <- err
				return
			}
			if a.RefundID == nil || a.State != "resolved" {
				errs <- fmt.Errorf("answered %+v, want the resolved anomaly with its refund", a)
				return
			}
			refundIDs <- *a.RefundID
		}()
	}
	wg.Wait()
	close(errs)
	close(refundIDs)
	for err := range errs {
		t.Errorf("concurrent refund: %v", err)
	}
	var recorded string
	if err := s.packs.DB.Get(&recorded, `SELECT stripe_refund_id FROM anomalies WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	for got := range refundIDs {
		if got != recorded {
			t.Errorf("a caller was answered refund %s; recorded: %s", got, recorded)
		}
	}
	var got struct {
		Claims   int   `db:"claims"`
		Claimed  int64 `db:"claimed"`
		Remedies int   `db:"remedies"`
		Resolved int   `db:"resolved"`
	}
	_ = s.packs.DB.Get(&got, `SELECT (SELECT count(*) FROM anomaly_refunds WHERE done_at IS NOT NULL) AS claims,
		(SELECT sum(amount) FROM anomaly_refunds) AS claimed,
		(SELECT count(*) FROM payments WHERE status = 'remedy') AS remedies,
		(SELECT count(*) FROM notifications WHERE template = 'anomaly_resolved') AS resolved`)
	if got.Claims != 2 || got.Claimed != 30000 || got.Remedies != 2 || got.Resolved != 1 {
		t.Fatalf("after 8 concurrent refunds: %+v, want 2 claims of 30000 in all, 2 remedies, 1 message", got)
	}
	// One refund per payment asked of Stripe, once each.
	keys := stripe.Keys("POST", "/v1/refunds")
	if len(keys) != 2 || len(slices.Compact(slices.Sorted(slices.Values(keys)))) != 2 {
		t.Fatalf("Stripe was asked %d refunds (%v), want 2 with 2 keys", len(keys), keys)
	}
}

// A checkout tells Carnet only the PaymentIntent; to refund an excess from
// it, Carnet asks Stripe for its charge, and records the refund against it.
func TestRefundOfAPaymentKnownByItsIntentOnly(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	ctx := context.Background()
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", "pi_only", "", 50000)))
	var id int64
	if err := s.packs.DB.Get(&id, `SELECT id FROM anomalies WHERE kind = $1`, reconcile.KindAmount); err != nil {
		t.Fatal(err)
	}
	a, err := s.rec.RefundExcess(ctx, s.coach.ID, id, "coach")
	if err != nil || a.State != "resolved" {
		t.Fatalf("refund: %+v %v", a, err)
	}
	var remedy struct {
		Amount int64   `db:"amount"`
		Charge *string `db:"stripe_charge_id"`
	}
	if err := s.packs.DB.Get(&remedy, `SELECT amount, stripe_charge_id FROM payments WHERE status = 'remedy'`); err != nil ||
		remedy.Amount != 5000 || remedy.Charge == nil {
		t.Fatalf("remedy %+v %v, want 5000 against the charge Stripe named", remedy, err)
	}
	var charge *string
	_ = s.packs.DB.Get(&charge, `SELECT stripe_charge_id FROM payments WHERE stripe_object_id = 'pi_only'`)
	if charge == nil || *charge != *remedy.Charge {
		t.Fatalf("the payment learnt charge %v, the remedy %v", charge, *remedy.Charge)
	}
}

// An installment's invoice that no event brought, found by the sweep, is
// applied as its event would have been (the installment paid, the payment
// recorded), under the id sweep_<invoice>, so a second find is a duplicate.
func TestSweepAppliesAFoundInvoiceAsItsEvent(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	co := s.buyInstallments("found")
	ctx := context.Background()
	paid := func() (installment string, payments int) {
		t.Helper()
		if err := s.packs.DB.Get(&installment, `SELECT status FROM installments WHERE pack_id = $1 AND seq = 2`, co.PackID); err != nil {
			t.Fatal(err)
		}
		if err := s.packs.DB.Get(&payments, `SELECT count(*) FROM payments WHERE stripe_invoice_id = 'in_found2'`); err != nil {
			t.Fatal(err)
		}
		return installment, payments
	}
	if status, n := paid(); status != "due" || n != 0 {
		t.Fatalf("before the sweep: installment %s, %d payments", status, n)
	}
	for range 2 {
		if err := s.in.ingestFound(ctx, "in_found2", "invoice.paid", s.now.Unix(), invoice("in_found2", "sub_found", co.PackID, 15000, "paid")); err != nil {
			t.Fatal(err)
		}
	}
	if status, n := paid(); status != "paid" || n != 1 {
		t.Fatalf("after the sweep found the invoice twice: installment %s, %d payments", status, n)
	}
	var stored struct {
		Type      string `db:"type"`
		Processed bool   `db:"processed"`
		Error     string `db:"last_error"`
	}
	if err := s.packs.DB.Get(&stored, `SELECT type, processed_at IS NOT NULL AS processed, last_error FROM webhook_events
		WHERE id = 'sweep_in_found2'`); err != nil || stored.Type != "invoice.paid" || !stored.Processed || stored.Error != "" {
		t.Fatalf("the found invoice's event: %+v, %v", stored, err)
	}
	s.verify()
}
