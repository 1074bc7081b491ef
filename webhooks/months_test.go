package webhooks

import (
	"context"
	"strings"
	"testing"
	"time"

	"carnet/billing"
	"carnet/migrations"
	"carnet/notify"
	"carnet/packs"
)

func (s *shop) setNow(t time.Time) {
	s.mu.Lock()
	s.now = t
	s.mu.Unlock()
}

func (s *shop) dueDates(packID int64) []string {
	s.t.Helper()
	var due []time.Time
	if err := s.packs.DB.Select(&due, `SELECT due_at FROM installments WHERE pack_id = $1 ORDER BY seq`, packID); err != nil {
		s.t.Fatal(err)
	}
	out := make([]string, len(due))
	for i, d := range due {
		out[i] = d.UTC().Format(time.RFC3339)
	}
	return out
}

// A plan bought on 31 January: Stripe debits it on 28 February and 31
// March. The client is reminded three days before the debit Stripe makes,
// and the February debit is not taken for one collected ahead of the plan.
func TestPlanBoughtOn31January(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	ctx := context.Background()
	s.setNow(time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC))
	co, _ := s.checkout(billing.PlanInstallments)
	want := []string{"2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z"}
	if got := s.dueDates(co.PackID); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("due dates %v, want %v", got, want)
	}
	s.deliver(newEvent("checkout.session.completed", s.now, checkoutSession(co, "subscription", "paid", "", "sub_jan31", 15000)))
	s.deliver(newEvent("invoice.paid", s.now, invoice("in_jan31_1", "sub_jan31", co.PackID, 15000, "paid")))

	// Three days before 28 February the client hears of the debit.
	if err := packs.Remind(ctx, s.packs.DB, time.Date(2027, 2, 25, 11, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var reminded []time.Time
	if err := s.packs.DB.Select(&reminded, `SELECT (n.data->>'DueAt')::timestamptz FROM notifications n
		WHERE n.template = $1`, notify.InstallmentDue); err != nil {
		t.Fatal(err)
	}
	if len(reminded) != 1 || !reminded[0].Equal(time.Date(2027, 2, 28, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("reminders on 25 February for %v, want one for 28 February", reminded)
	}
	// Stripe debits on the 28th, then on 31 March: all on time.
	for i, at := range []time.Time{time.Date(2027, 2, 28, 10, 0, 5, 0, time.UTC), time.Date(2027, 3, 31, 10, 0, 5, 0, time.UTC)} {
		s.setNow(at)
		s.deliver(newEvent("invoice.paid", at, invoice("in_jan31_"+itoa(int64(i+2)), "sub_jan31", co.PackID, 15000, "paid")))
	}
	if got := s.state(co.PackID); !strings.HasPrefix(got, "active 10 | 1:paid,2:paid,3:paid") {
		t.Fatalf("state %q", got)
	}
	if a := s.anomalies(); len(a) != 0 {
		t.Fatalf("debits on Stripe's dates raised %v", a)
	}
}

// The client subscribes two days after the checkout was opened: Stripe's
// billing-cycle anchor is then, and the plan's dates follow it.
func TestPlanDatedFromTheSubscriptionsAnchor(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.setNow(time.Date(2027, 1, 29, 10, 0, 0, 0, time.UTC))
	co, _ := s.checkout(billing.PlanInstallments)
	anchor := time.Date(2027, 1, 31, 18, 30, 0, 0, time.UTC)
	s.deliver(newEvent("customer.subscription.updated", anchor, map[string]any{"id": "sub_anchor", "object": "subscription",
		"status": "active", "billing_cycle_anchor": anchor.Unix(), "metadata": map[string]any{"carnet_pack_id": itoa(co.PackID)}}))
	want := []string{"2027-01-31T18:30:00Z", "2027-02-28T18:30:00Z", "2027-03-31T18:30:00Z"}
	if got := s.dueDates(co.PackID); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("due dates %v, want Stripe's %v", got, want)
	}
}

// Plans dated by the previous release (AddDate: 31 January + 1 month = 3
// March) are dated again by migration 00031 as Stripe bills them.
func TestMigrationRedatesPlans(t *testing.T) {
	t.Parallel()
	s := newShop(t)
	s.setNow(time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC))
	co, _ := s.checkout(billing.PlanInstallments)
	old := []string{"2027-01-31T10:00:00Z", "2027-03-03T10:00:00Z", "2027-03-31T10:00:00Z"}
	for i, d := range old {
		if _, err := s.packs.DB.Exec(`UPDATE installments SET due_at = $3 WHERE pack_id = $1 AND seq = $2`, co.PackID, i+1, d); err != nil {
			t.Fatal(err)
		}
	}
	sql, err := migrations.FS.ReadFile("00031_installment_months.sql")
	if err != nil {
		t.Fatal(err)
	}
	up, _, _ := strings.Cut(string(sql), "-- +goose Down")
	if _, err := s.packs.DB.Exec(up); err != nil {
		t.Fatal(err)
	}
	want := []string{"2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z"}
	if got := s.dueDates(co.PackID); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("due dates after the migration %v, want %v", got, want)
	}
}
