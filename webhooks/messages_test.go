package webhooks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"carnet/billing"
	"carnet/internal/i18n"
	"carnet/internal/mailtest"
	"carnet/notify"
)

func (s *shop) setCoachLocale(locale string) {
	s.t.Helper()
	if _, err := s.packs.DB.Exec(`UPDATE coaches SET locale = $2 WHERE id = $1`, s.coach.ID, locale); err != nil {
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
	if err := s.packs.DB.Get(&a, `SELECT id, excess_amount, currency FROM anomalies WHERE kind = $1`, KindAtOnce); err != nil {
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
	for _, want := range []string{notify.Words.T(coachLocale, "kind."+KindAtOnce), i18n.Money(a.Excess, a.Currency, coachLocale),
		fmt.Sprintf("http://carnet.test/app/anomalies/%d", a.ID)} {
		if !strings.Contains(coach.Subject+coach.Body, want) {
			s.t.Errorf("coach (%s) lacks %q:\n%s\n%s", coachLocale, want, coach.Subject, coach.Body)
		}
	}
	if strings.ContainsAny(coach.Body, "{}") || strings.Contains(coach.Body, KindAtOnce) || !strings.Contains(coach.HTML, "<table") {
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
			s.advance(RefundSettle)
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
	s.advance(RefundSettle)
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
