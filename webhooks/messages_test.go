package webhooks

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"carnet/billing"
	"carnet/internal/i18n"
	"carnet/internal/mailtest"
	"carnet/notify"
	"carnet/packs"
	"carnet/reconcile"
)

func (s *shop) setCoachLocale(locale string) {
	s.t.Helper()
	if _, err := s.packs.DB.Exec(`INSERT INTO coach_preferences (coach_id, locale) VALUES ($1, $2) ON CONFLICT (coach_id) DO UPDATE SET locale = excluded.locale`, s.coach.ID, locale); err != nil {
		s.t.Fatal(err)
	}
}

func (s *shop) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

// early is what the database holds of the installments collected ahead of
// their date: each one's Stripe invoice, amount and due date.
type early struct {
	Invoice string    `db:"stripe_object_id"`
	Amount  int64     `db:"amount"`
	Seq     int       `db:"seq"`
	DueAt   time.Time `db:"due_at"`
	At      time.Time `db:"occurred_at"`
}

func (s *shop) earlyPayments(packID int64) []early {
	s.t.Helper()
	var rows []early
	if err := s.packs.DB.Select(&rows, `SELECT p.stripe_object_id, p.amount, i.seq, i.due_at, p.occurred_at
		FROM payments p JOIN installments i ON i.id = p.installment_id
		WHERE p.pack_id = $1 AND p.kind = 'charge' AND p.status = 'succeeded' AND i.seq > 1 ORDER BY i.seq`, packID); err != nil {
		s.t.Fatal(err)
	}
	return rows
}

// checkAtOnce checks the coach's and the client's message against the
// anomaly's row: its excess in each reader's money, each installment
// collected early with its amount, dates and invoice, the link to it.
func (s *shop) checkAtOnce(coach, client mailtest.Received, packID int64, coachLocale, clientLocale string) {
	s.t.Helper()
	var a struct {
		ID       int64  `db:"id"`
		Excess   int64  `db:"excess_amount"`
		Currency string `db:"currency"`
	}
	if err := s.packs.DB.Get(&a, `SELECT id, excess_amount, currency FROM anomalies WHERE kind = $1`, reconcile.KindAtOnce); err != nil {
		s.t.Fatal(err)
	}
	paid := s.earlyPayments(packID)
	var sum int64
	for _, p := range paid {
		sum += p.Amount
	}
	if sum != a.Excess || len(paid) != 2 {
		s.t.Fatalf("the test's own premise: %d early payments making %d, excess %d", len(paid), sum, a.Excess)
	}
	if want := i18n.Money(a.Excess, a.Currency, clientLocale); !strings.Contains(client.Body, want) {
		s.t.Errorf("client (%s) is not told the excess %s:\n%s", clientLocale, want, client.Body)
	}
	if one := i18n.Money(paid[0].Amount, a.Currency, clientLocale); strings.Contains(client.Body, one) {
		s.t.Errorf("client (%s) is told one installment's %s, not the whole excess:\n%s", clientLocale, one, client.Body)
	}
	loc, _ := time.LoadLocation(s.coach.Timezone)
	for _, p := range paid {
		label := notify.Words.T(coachLocale, "fact.installment", "Seq", p.Seq, "Due", i18n.Date(p.DueAt.In(loc), coachLocale))
		value := notify.Words.T(coachLocale, "value.on", "Amount", i18n.Money(p.Amount, a.Currency, coachLocale),
			"Date", i18n.Date(p.At.In(loc), coachLocale))
		if !strings.Contains(coach.Body, label) || !strings.Contains(coach.Body, value+" ("+p.Invoice+")") {
			s.t.Errorf("coach (%s) lacks installment %d (%q, %q, %s):\n%s", coachLocale, p.Seq, label, value, p.Invoice, coach.Body)
		}
	}
	for _, want := range []string{notify.Words.T(coachLocale, "kind."+reconcile.KindAtOnce), i18n.Money(a.Excess, a.Currency, coachLocale),
		fmt.Sprintf("http://carnet.test/app/anomalies/%d", a.ID)} {
		if !strings.Contains(coach.Subject+coach.Body, want) {
			s.t.Errorf("coach (%s) lacks %q:\n%s\n%s", coachLocale, want, coach.Subject, coach.Body)
		}
	}
	if strings.ContainsAny(coach.Body, "{}") || strings.Contains(coach.Body, reconcile.KindAtOnce) || !strings.Contains(coach.HTML, "<table") {
		s.t.Errorf("coach (%s) message is not written for a person:\n%s\n%s", coachLocale, coach.Body, coach.HTML)
	}
}

// Point 1 of issue 11: the night's second early debit arrives after the
// anomaly opened on the first. The messages wait for the burst to settle
// and then state the whole excess, as the refund does.
func TestAnomalyMessagesWaitForTheBurst(t *testing.T) {
	t.Parallel()
	for _, l := range [][2]string{{"fr", "es"}, {"es", "en"}, {"en", "fr"}} {
		t.Run(l[0]+"-"+l[1], func(t *testing.T) {
			t.Parallel()
			s := newShop(t)
			s.charter(true)
			s.setCoachLocale(l[0])
			s.setLocale(l[1])
			box := s.mailbox()
			co, _ := s.checkout(billing.PlanInstallments)
			night := nightOfThree(s, co, "sub_burst")
			for _, e := range night[:3] { // the checkout, the first debit, one early debit
				s.deliver(e)
			}
			if got := to(box.flush(), s.coach.Email); len(got) != 0 {
				t.Fatalf("the coach was told before the burst settled: %s", got[0].Body)
			}
			s.advance(5 * time.Minute)
			s.deliver(night[3]) // the last installment, minutes later
			s.advance(reconcile.RefundSettle)
			msgs := box.flush()
			coach, client := to(msgs, s.coach.Email), to(msgs, s.client.Email)
			if len(coach) != 1 || len(client) != 1 {
				t.Fatalf("%d coach and %d client emails, want 1 and 1", len(coach), len(client))
			}
			s.checkAtOnce(coach[0], client[0], co.PackID, l[0], l[1])
		})
	}
}

// When the facts change after the message went (no automatic refund, so
// nothing froze them), an update follows with the facts as they stand.
func TestAnomalyUpdateAfterTheMessageWent(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.charter(false)
	s.setCoachLocale("en")
	s.setLocale("es")
	box := s.mailbox()
	co, _ := s.checkout(billing.PlanInstallments)
	night := nightOfThree(s, co, "sub_late")
	for _, e := range night[:3] {
		s.deliver(e)
	}
	s.advance(reconcile.RefundSettle)
	if msgs := box.flush(); len(to(msgs, s.coach.Email)) != 1 || len(to(msgs, s.client.Email)) != 1 {
		t.Fatalf("%d messages once the first burst settled", len(msgs))
	}
	s.advance(time.Hour)
	s.deliver(night[3])
	for _, e := range night { // redelivered: nothing more to say
		s.deliver(e)
	}
	msgs := box.flush()
	coach, client := to(msgs, s.coach.Email), to(msgs, s.client.Email)
	if len(coach) != 2 || len(client) != 2 {
		t.Fatalf("%d coach and %d client emails, want an update to each", len(coach), len(client))
	}
	if !strings.HasPrefix(coach[1].Subject, "Update: ") || !strings.Contains(client[1].Body, "sustituye") {
		t.Errorf("the update does not say it is one:\n%s\n%s", coach[1].Subject, client[1].Body)
	}
	s.checkAtOnce(coach[1], client[1], co.PackID, "en", "es")
}

// told is how each locale says the client was written to, and what the
// client reads when a returned first debit ended the plan.
var told = map[string][2]string{
	"en": {"The client was sent a message", "nothing more will be taken"},
	"fr": {"Le client a reçu un message", "plus rien ne sera prélevé"},
	"es": {"El cliente recibió un mensaje", "no se cobrará nada más"},
}

// Points 3 and 4 of issue 11: a returned first SEPA debit ends an
// installment plan, and both sides are told so (no "Stripe retries"); a
// declined monthly debit was told to the client by installment_failed, and
// the coach's message says so.
func TestFailedDebitMessages(t *testing.T) {
	t.Parallel()
	for _, l := range i18n.Locales {
		t.Run("returned first debit "+l, func(t *testing.T) {
			t.Parallel()
			s := newShop(t)
			s.setCoachLocale(l)
			s.setLocale(l)
			box := s.mailbox()
			co, _ := s.checkout(billing.PlanInstallments)
			s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "unpaid", "", "sub_sepa", 15000)))
			s.deliver(newEvent("checkout.session.async_payment_failed", s.now.AddDate(0, 0, 4),
				checkoutSession(co, "subscription", "unpaid", "", "sub_sepa", 15000)))
			if p := s.pack(co.PackID); p.Status != "cancelled" {
				t.Fatalf("pack %s after a returned first debit", p.Status)
			}
			msgs := box.flush()
			coach, client := to(msgs, s.coach.Email), to(msgs, s.client.Email)
			if len(coach) != 1 || len(client) != 1 {
				t.Fatalf("%d coach and %d client emails, want 1 and 1", len(coach), len(client))
			}
			if !strings.Contains(client[0].Body, told[l][1]) {
				t.Errorf("the client (%s) is not told the plan ended:\n%s", l, client[0].Body)
			}
			var amount int64
			_ = s.packs.DB.Get(&amount, `SELECT amount FROM installments WHERE pack_id = $1 AND seq = 1`, co.PackID)
			for _, want := range []string{notify.Words.T(l, "next.ended"), told[l][0], i18n.Money(amount, "EUR", l)} {
				if !strings.Contains(coach[0].Body, want) {
					t.Errorf("the coach (%s) message lacks %q:\n%s", l, want, coach[0].Body)
				}
			}
			if strings.Contains(coach[0].Body, notify.Words.T(l, "next.retry")) {
				t.Errorf("the coach (%s) is told Stripe retries:\n%s", l, coach[0].Body)
			}
		})
		t.Run("declined monthly debit "+l, func(t *testing.T) {
			t.Parallel()
			s := newShop(t)
			s.setCoachLocale(l)
			s.setLocale(l)
			box := s.mailbox()
			co := s.buyInstallments("d")
			s.deliver(newEvent("invoice.payment_failed", s.now.AddDate(0, 1, 0), invoice("in_d2", "sub_d", co.PackID, 15000, "open")))
			msgs := box.flush()
			coach, client := to(msgs, s.coach.Email), to(msgs, s.client.Email)
			if len(coach) != 1 || len(client) != 1 {
				t.Fatalf("%d coach and %d client emails, want 1 and 1", len(coach), len(client))
			}
			var i struct {
				Amount int64     `db:"amount"`
				DueAt  time.Time `db:"due_at"`
			}
			_ = s.packs.DB.Get(&i, `SELECT amount, due_at FROM installments WHERE pack_id = $1 AND status = 'failed'`, co.PackID)
			loc, _ := time.LoadLocation(s.coach.Timezone)
			money, due := i18n.Money(i.Amount, "EUR", l), i18n.Date(i.DueAt.In(loc), l)
			for _, want := range []string{money, due} {
				if !strings.Contains(client[0].Body, want) || !strings.Contains(coach[0].Body, want) {
					t.Errorf("(%s) %q missing from the client's or the coach's message:\n%s\n%s", l, want, client[0].Body, coach[0].Body)
				}
			}
			if !strings.Contains(coach[0].Body, told[l][0]) {
				t.Errorf("the coach (%s) is told the client was not written to:\n%s", l, coach[0].Body)
			}
		})
	}
}

// Point 2 of issue 11: the purchase message of an installment plan says
// what was received (the first debit), the plan, and the next debit.
func TestPurchaseMessageSaysWhatWasReceived(t *testing.T) {
	t.Parallel()
	inEachLocale(t, "", func(t *testing.T, l string) {
		s := newShop(t)
		s.setLocale(l)
		box := s.mailbox()
		co := s.buyInstallments("p")
		var got []mailtest.Received
		for _, m := range box.flush() {
			if m.To[0] == s.client.Email {
				got = append(got, m)
			}
		}
		if len(got) != 1 {
			t.Fatalf("%d messages to the client, want the purchase's", len(got))
		}
		var plan []struct {
			Amount int64     `db:"amount"`
			DueAt  time.Time `db:"due_at"`
		}
		_ = s.packs.DB.Select(&plan, `SELECT amount, due_at FROM installments WHERE pack_id = $1 ORDER BY seq`, co.PackID)
		p := s.pack(co.PackID)
		loc, _ := time.LoadLocation(s.coach.Timezone)
		body := got[0].Body
		for _, want := range []string{i18n.Money(plan[0].Amount, "EUR", l) + " (", fmt.Sprintf(" 1 %s %d)", map[string]string{"fr": "sur", "es": "de", "en": "of"}[l], len(plan)),
			i18n.Money(plan[1].Amount, "EUR", l), i18n.Date(plan[1].DueAt.In(loc), l), i18n.Date(p.ValidUntil.In(loc), l)} {
			if !strings.Contains(body, want) {
				t.Errorf("(%s) the purchase message lacks %q:\n%s", l, want, body)
			}
		}
		if price := i18n.Money(p.PriceAmount, "EUR", l); strings.Contains(body, price) {
			t.Errorf("(%s) the purchase message says the whole price %s was received:\n%s", l, price, body)
		}
		if !strings.Contains(got[0].Header.Get("From"), s.coach.Name) || !strings.Contains(got[0].Header.Get("Reply-To"), s.coach.Email) {
			t.Errorf("From %q, Reply-To %q", got[0].Header.Get("From"), got[0].Header.Get("Reply-To"))
		}
	})
}

// buyUpfront sells the 10-session offer paid by card through intent.
func (s *shop) buyUpfront(intent string) billing.Checkout {
	s.t.Helper()
	co, _ := s.checkout(billing.PlanUpfront)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", intent, "", 45000)))
	s.deliver(newEvent("payment_intent.succeeded", s.now, paymentIntent(intent, co.PackID, 45000, "succeeded")))
	return co
}

// buyInstallments buys a pack in 3 installments (subscription sub_NAME) and
// delivers what Stripe sends for the first one (invoice in_NAME1).
func (s *shop) buyInstallments(name string) billing.Checkout {
	s.t.Helper()
	co, _ := s.checkout(billing.PlanInstallments)
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", "sub_"+name, 15000)))
	s.deliver(newEvent("invoice.paid", s.now, invoice("in_"+name+"1", "sub_"+name, co.PackID, 15000, "paid")))
	return co
}

// refundAnomaly is what the database holds of the pack's refund_or_dispute.
type refundAnomaly struct {
	ID         int64  `db:"id"`
	State      string `db:"state"`
	Resolution string `db:"resolution"`
	Status     string `db:"status"`
	Left       int    `db:"left"`
	WrittenOff int    `db:"written_off"`
	Amount     int64  `db:"amount"`
}

func (s *shop) refundAnomaly() refundAnomaly {
	s.t.Helper()
	var a refundAnomaly
	if err := s.packs.DB.Get(&a, `SELECT id, state, resolution, evidence->>'status' AS status,
		(evidence->>'sessions_left')::int AS left, coalesce((evidence->>'written_off')::int, 0) AS written_off,
		(evidence->'payment'->>'amount')::bigint AS amount FROM anomalies WHERE kind = $1`, reconcile.KindRefundDispute); err != nil {
		s.t.Fatal(err)
	}
	return a
}

// Point 5 of issue 11: a lost dispute closes its anomaly, whose facts say
// the dispute was lost, no session is left and how many were written off;
// the coach's update says the same.
func TestLostDisputeClosesItsAnomaly(t *testing.T) {
	t.Parallel()
	inEachLocale(t, "", func(t *testing.T, l string) {
		s := newShop(t)
		s.setCoachLocale(l)
		box := s.mailbox()
		co := s.buyUpfront("pi_lost")
		dispute := map[string]any{"id": "dp_lost", "object": "dispute", "amount": 45000, "currency": "eur",
			"charge": "ch_lost", "payment_intent": "pi_lost", "status": "needs_response", "reason": "fraudulent", "metadata": map[string]any{}}
		s.deliver(newEvent("charge.dispute.created", s.now.Add(time.Hour), dispute))
		if a := s.refundAnomaly(); a.State != "open" || a.Left != 10 {
			t.Fatalf("open dispute: %+v", a)
		}
		box.flush()
		dispute["status"] = "lost"
		s.deliver(newEvent("charge.dispute.closed", s.now.Add(48*time.Hour), dispute))
		a := s.refundAnomaly()
		var written int
		_ = s.packs.DB.Get(&written, `SELECT -sum(delta) FROM ledger_entries WHERE pack_id = $1 AND kind = 'refund_reversal'`, co.PackID)
		p := s.pack(co.PackID)
		if a.State != "resolved" || a.Status != "lost" || a.Left != p.SessionsRemaining || a.WrittenOff != written || written != 10 {
			t.Fatalf("after the lost dispute: %+v (pack %s %d, written off %d)", a, p.Status, p.SessionsRemaining, written)
		}
		coach := to(box.flush(), s.coach.Email)
		if len(coach) != 2 {
			t.Fatalf("%d coach emails, want the opening and its update", len(coach))
		}
		for _, row := range [][2]string{{notify.Words.T(l, "fact.dispute_status"), notify.Words.T(l, "dispute.lost")},
			{notify.Words.T(l, "fact.sessions_left"), fmt.Sprint(p.SessionsRemaining)},
			{notify.Words.T(l, "fact.written_off"), fmt.Sprint(written)}} {
			sep := ": "
			if l == "fr" {
				sep = " : "
			}
			if !strings.Contains(coach[1].Body, row[0]+sep+row[1]+"\n") {
				t.Errorf("(%s) the update lacks %q:\n%s", l, row, coach[1].Body)
			}
		}
	})
}

// Point 6: a full refund made outside Carnet on a pack that still had
// sessions ends the pack and opens refund_or_dispute; both sides are told,
// with the amount and the sessions written off as the database holds them.
func TestOutsideRefundOfAPackWithSessions(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.setCoachLocale("en")
	box := s.mailbox()
	co := s.buyUpfront("pi_out")
	if _, err := s.packs.Adjust(context.Background(), s.coach.ID, s.client.ID, packs.AdjustmentInput{PackID: co.PackID,
		Delta: -8, Reason: "eight sessions before Carnet"}); err != nil {
		t.Fatal(err)
	}
	s.deliver(newEvent("charge.refunded", s.now.Add(time.Hour), map[string]any{"id": "ch_out", "object": "charge",
		"amount": 45000, "amount_refunded": 45000, "refunded": true, "currency": "eur", "payment_intent": "pi_out"}))
	p := s.pack(co.PackID)
	a := s.refundAnomaly()
	if p.Status != "refunded" || a.State != "open" || a.WrittenOff != 2 || a.Amount != 45000 {
		t.Fatalf("pack %s, anomaly %+v", p.Status, a)
	}
	msgs := box.flush()
	coach, client := to(msgs, s.coach.Email), to(msgs, s.client.Email)
	if len(coach) != 1 || len(client) != 1 {
		t.Fatalf("%d coach and %d client emails, want 1 and 1", len(coach), len(client))
	}
	for _, want := range []string{"Refunded: " + i18n.Money(a.Amount, "EUR", "en"), "Sessions written off when the pack ended: 2\n",
		"Sessions left on the pack: 0\n"} {
		if !strings.Contains(coach[0].Body, want) {
			t.Errorf("the coach's message lacks %q:\n%s", want, coach[0].Body)
		}
	}
}

// Point 8 of issue 11: one rule for overdue. An installment never debited
// makes the pack overdue as of its due date like a declined one, and the
// texts say what happened: no "Stripe retries" for a debit never attempted,
// and the day sessions pause, counted from the due date.
func TestOverdueIsOneRule(t *testing.T) {
	t.Parallel()
	noAttempt := map[string]string{"en": "No payment was attempted", "fr": "Aucun prélèvement n'a été tenté", "es": "No se ha intentado ningún cobro"}
	for _, l := range i18n.Locales {
		t.Run("missed "+l, func(t *testing.T) {
			t.Parallel()
			s := newShop(t)
			s.setCoachLocale(l)
			s.setLocale(l)
			box := s.mailbox()
			co := s.buyInstallments("m")
			var due2 time.Time
			_ = s.packs.DB.Get(&due2, `SELECT due_at FROM installments WHERE pack_id = $1 AND seq = 2`, co.PackID)
			s.advance(due2.AddDate(0, 0, 7).Sub(s.now))
			if err := s.in.Sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			p := s.pack(co.PackID)
			if p.Status != "overdue" || p.OverdueSince == nil || !p.OverdueSince.Equal(due2) {
				t.Fatalf("a missed installment past its grace leaves the pack %s since %v", p.Status, p.OverdueSince)
			}
			msgs := box.flush()
			coach, client := to(msgs, s.coach.Email), to(msgs, s.client.Email)
			if len(coach) != 1 || len(client) != 1 {
				t.Fatalf("%d coach and %d client emails", len(coach), len(client))
			}
			if !strings.Contains(coach[0].Body, notify.Words.T(l, "next.missed")) || strings.Contains(coach[0].Body, notify.Words.T(l, "next.retry")) ||
				!strings.Contains(client[0].Body, noAttempt[l]) {
				t.Errorf("(%s) the missed installment's texts:\n%s\n%s", l, coach[0].Body, client[0].Body)
			}
			// Past the grace days its sessions pause.
			start := s.now.Add(time.Hour)
			sess, err := s.packs.Schedule(context.Background(), s.coach.ID, packs.SessionInput{StartsAt: &start, ClientIDs: []int64{s.client.ID}})
			if err != nil {
				t.Fatal(err)
			}
			s.advance(2 * time.Hour)
			if _, err := s.packs.RecordOutcome(context.Background(), s.coach.ID, sess.Bookings[0].ID, packs.OutcomeInput{Outcome: packs.Attended}); err == nil {
				t.Errorf("a session was taken on a pack whose installment is %d days late", 7)
			}
		})
		t.Run("declined "+l, func(t *testing.T) {
			t.Parallel()
			s := newShop(t)
			s.setLocale(l)
			box := s.mailbox()
			co := s.buyInstallments("o")
			var due2 time.Time
			_ = s.packs.DB.Get(&due2, `SELECT due_at FROM installments WHERE pack_id = $1 AND seq = 2`, co.PackID)
			s.advance(due2.Sub(s.now) + 2*time.Hour)
			s.deliver(newEvent("invoice.payment_failed", s.now, invoice("in_o2", "sub_o", co.PackID, 15000, "open")))
			p := s.pack(co.PackID)
			var grace int
			_ = s.packs.DB.Get(&grace, `SELECT coalesce((SELECT grace_days FROM charter_versions WHERE id = $1), 7)`, p.CharterVersionID)
			if p.Status != "overdue" || p.OverdueSince == nil || !p.OverdueSince.Equal(due2) {
				t.Fatalf("a declined debit leaves the pack %s since %v", p.Status, p.OverdueSince)
			}
			loc, _ := time.LoadLocation(s.coach.Timezone)
			until := i18n.Date(p.OverdueSince.AddDate(0, 0, grace).In(loc), l)
			var client []mailtest.Received
			for _, m := range box.flush() {
				if m.To[0] == s.client.Email && strings.Contains(m.Subject, i18n.Money(15000, "EUR", l)) {
					client = append(client, m)
				}
			}
			if len(client) != 1 || !strings.Contains(client[0].Body, until) {
				t.Fatalf("(%s) the client is not told sessions are usable until %s: %v", l, until, client)
			}
		})
	}
}

// The reminder three days before a debit states its amount and date.
func TestInstallmentDueReminder(t *testing.T) {
	t.Parallel()
	inEachLocale(t, "", func(t *testing.T, l string) {
		s := newShop(t)
		s.setLocale(l)
		box := s.mailbox()
		co := s.buyInstallments("r")
		var next struct {
			Amount int64     `db:"amount"`
			DueAt  time.Time `db:"due_at"`
		}
		_ = s.packs.DB.Get(&next, `SELECT amount, due_at FROM installments WHERE pack_id = $1 AND seq = 2`, co.PackID)
		s.advance(next.DueAt.AddDate(0, 0, -2).Sub(s.now))
		if err := packs.Remind(context.Background(), s.packs.DB, s.now); err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(s.coach.Timezone)
		var got []mailtest.Received
		for _, m := range box.flush() {
			if strings.Contains(m.Subject, i18n.Date(next.DueAt.In(loc), l)) {
				got = append(got, m)
			}
		}
		if len(got) != 1 || !strings.Contains(got[0].Body, i18n.Money(next.Amount, "EUR", l)) {
			t.Fatalf("(%s) the reminder of %d due %v: %v", l, next.Amount, next.DueAt, got)
		}
	})
}

// A payment no pack explains is not "paid too much": the coach is told the
// amount matches no pack, and nothing else about it.
func TestUnmatchedPaymentMessageSaysWhatIsKnown(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.setCoachLocale("en")
	box := s.mailbox()
	co := s.buyUpfront("pi_known")
	cust := *s.pack(co.PackID).Customer
	s.deliver(newEvent("payment_intent.succeeded", s.now.Add(time.Hour), map[string]any{"id": "pi_stray", "object": "payment_intent",
		"amount": 7000, "amount_received": 7000, "currency": "eur", "status": "succeeded", "customer": cust,
		"latest_charge": "ch_stray", "metadata": map[string]any{}}))
	s.advance(billing.PairWindow + time.Hour)
	if err := s.in.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	var excess int64
	if err := s.packs.DB.Get(&excess, `SELECT excess_amount FROM anomalies WHERE kind = $1`, reconcile.KindUnmatched); err != nil {
		t.Fatal(err)
	}
	coach := to(box.flush(), s.coach.Email)
	if len(coach) == 0 {
		t.Fatal("the coach was not told of the unmatched payment")
	}
	body := coach[len(coach)-1].Body
	if want := "Matching no pack: " + i18n.Money(excess, "EUR", "en"); excess != 7000 || !strings.Contains(body, want) {
		t.Errorf("excess %d; the coach's message lacks %q:\n%s", excess, want, body)
	}
	if strings.Contains(body, notify.Words.T("en", "fact.excess")) {
		t.Errorf("the coach is told the client paid too much:\n%s", body)
	}
}

// inEachLocale runs one parallel subtest per locale, named prefix+locale.
func inEachLocale(t *testing.T, prefix string, run func(t *testing.T, l string)) {
	for _, l := range i18n.Locales {
		t.Run(prefix+l, func(t *testing.T) {
			t.Parallel()
			run(t, l)
		})
	}
}
