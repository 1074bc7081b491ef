package reconcile

import (
	"fmt"
	"testing"
	"time"
)

func TestDetect(t *testing.T) {
	start := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	plan := func() []Expected {
		return []Expected{
			{ID: 1, Seq: 1, DueAt: start, Amount: 15000, Currency: "EUR", Status: "due"},
			{ID: 2, Seq: 2, DueAt: start.AddDate(0, 1, 0), Amount: 15000, Currency: "EUR", Status: "due"},
			{ID: 3, Seq: 3, DueAt: start.AddDate(0, 2, 0), Amount: 15000, Currency: "EUR", Status: "due"},
		}
	}
	paid := func(exp []Expected, seq int) []Expected { exp[seq-1].Status = "paid"; return exp }
	inst := func(id int64) *int64 { return &id }
	charge := func(id int64, on int64, amount int64, at time.Time) Observed {
		o := Observed{ID: id, Kind: "charge", Status: "succeeded", Amount: amount, Currency: "EUR", At: at}
		if on != 0 {
			o.InstallmentID = inst(on)
		}
		return o
	}
	night := start.Add(14 * time.Hour)
	cases := []struct {
		name     string
		p        Plan
		now      time.Time
		want     map[string]int64 // kind -> excess
		wantNone bool
	}{
		{name: "on plan", p: Plan{Plan: "installments", Status: "active", Installments: paid(paid(plan(), 1), 2),
			Payments: []Observed{charge(1, 1, 15000, start), charge(2, 2, 15000, start.AddDate(0, 1, 1))}},
			now: start.AddDate(0, 1, 2), wantNone: true},
		{name: "three in one night", p: Plan{PackID: 9, Plan: "installments", Status: "active", Installments: paid(paid(paid(plan(), 1), 2), 3),
			Payments: []Observed{charge(1, 1, 15000, night), charge(2, 2, 15000, night.Add(time.Minute)), charge(3, 3, 15000, night.Add(2*time.Minute))}},
			now: night.Add(time.Hour), want: map[string]int64{KindAtOnce: 30000}},
		{name: "one charge for the full amount", p: Plan{PackID: 9, Plan: "installments", Status: "active", Installments: paid(plan(), 1),
			Payments: []Observed{charge(1, 1, 45000, start)}}, now: start, want: map[string]int64{KindAtOnce: 30000}},
		{name: "a day early is fine", p: Plan{Plan: "installments", Status: "active", Installments: paid(paid(plan(), 1), 2),
			Payments: []Observed{charge(1, 1, 15000, start), charge(2, 2, 15000, start.AddDate(0, 1, -1))}},
			now: start.AddDate(0, 1, 0), wantNone: true},
		{name: "duplicate", p: Plan{Plan: "upfront", Status: "active", Installments: []Expected{{ID: 1, Seq: 1, DueAt: start, Amount: 45000, Currency: "EUR", Status: "paid"}},
			Payments: []Observed{charge(1, 1, 45000, start), charge(2, 1, 45000, start.Add(time.Minute))}},
			now: start, want: map[string]int64{KindDuplicate: 45000}},
		{name: "too much", p: Plan{Plan: "upfront", Status: "active", Installments: []Expected{{ID: 1, Seq: 1, DueAt: start, Amount: 15000, Currency: "EUR", Status: "paid"}},
			Payments: []Observed{charge(1, 1, 25000, start)}}, now: start, want: map[string]int64{KindAmount: 10000}},
		{name: "other currency", p: Plan{Plan: "upfront", Status: "active", Installments: []Expected{{ID: 1, Seq: 1, DueAt: start, Amount: 15000, Currency: "EUR", Status: "paid"}},
			Payments: []Observed{{ID: 1, Kind: "charge", Status: "succeeded", Amount: 15000, Currency: "USD", InstallmentID: inst(1), At: start}}},
			now: start, want: map[string]int64{KindAmount: 0}},
		{name: "after the end", p: Plan{Plan: "installments", Status: "active", Installments: paid(paid(paid(plan(), 1), 2), 3),
			Payments: []Observed{charge(1, 1, 15000, start), charge(2, 2, 15000, start.AddDate(0, 1, 0)), charge(3, 3, 15000, start.AddDate(0, 2, 0)), charge(4, 0, 15000, start.AddDate(0, 3, 0))}},
			now: start.AddDate(0, 3, 0), want: map[string]int64{KindChargeAfterEnd: 15000}},
		{name: "failed", p: Plan{Plan: "installments", Status: "overdue", Installments: func() []Expected { e := paid(plan(), 1); e[1].Status = "failed"; return e }(),
			Payments: []Observed{charge(1, 1, 15000, start)}}, now: start.AddDate(0, 1, 1), want: map[string]int64{KindFailed: 0}},
		{name: "missed after grace", p: Plan{Plan: "installments", Status: "active", GraceDays: 3, Installments: paid(plan(), 1),
			Payments: []Observed{charge(1, 1, 15000, start)}}, now: start.AddDate(0, 1, 3), want: map[string]int64{KindMissed: 0}},
		{name: "not missed within grace", p: Plan{Plan: "installments", Status: "active", GraceDays: 3, Installments: paid(plan(), 1),
			Payments: []Observed{charge(1, 1, 15000, start)}}, now: start.AddDate(0, 1, 3).Add(-time.Second), wantNone: true},
		{name: "partial refund with sessions left", p: Plan{Plan: "upfront", Status: "active", Remaining: 4,
			Installments: []Expected{{ID: 1, Seq: 1, DueAt: start, Amount: 45000, Currency: "EUR", Status: "paid"}},
			Payments:     []Observed{charge(1, 1, 45000, start), {ID: 2, Kind: "refund", Status: "refunded", Amount: 5000, Currency: "EUR", At: start}}},
			now: start, want: map[string]int64{KindRefundDispute: 0}},
		{name: "our own remedy is no anomaly", p: Plan{Plan: "upfront", Status: "active", Remaining: 4,
			Installments: []Expected{{ID: 1, Seq: 1, DueAt: start, Amount: 45000, Currency: "EUR", Status: "paid"}},
			Payments:     []Observed{charge(1, 1, 45000, start), {ID: 2, Kind: "refund", Status: "remedy", Amount: 5000, Currency: "EUR", At: start}}},
			now: start, wantNone: true},
	}
	for _, tc := range cases {
		got := Detect(tc.p, tc.now)
		if tc.wantNone {
			if len(got) != 0 {
				t.Errorf("%s: found %+v", tc.name, got)
			}
			continue
		}
		kinds := map[string]int64{}
		for _, f := range got {
			kinds[f.Kind] = f.Excess
		}
		if len(kinds) != len(tc.want) {
			t.Errorf("%s: found %v, want %v", tc.name, kinds, tc.want)
			continue
		}
		for k, excess := range tc.want {
			if e, ok := kinds[k]; !ok || e != excess {
				t.Errorf("%s: %s excess %v (found %v), want %d", tc.name, k, e, ok, excess)
			}
		}
	}
}

// Money Carnet already gave back no longer counts, and a new extra charge
// after a settled anomaly is a cause of its own, never folded into the old.
func TestDetectAfterARemedy(t *testing.T) {
	start := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	one := int64(1)
	upfront := []Expected{{ID: 1, Seq: 1, DueAt: start, Amount: 45000, Currency: "EUR", Status: "paid"}}
	charge := func(id, amount int64) Observed {
		ch := fmt.Sprintf("ch_%d", id)
		return Observed{ID: id, Kind: "charge", Status: "succeeded", Amount: amount, Currency: "EUR", InstallmentID: &one,
			Charge: &ch, At: start.Add(time.Duration(id) * time.Minute)}
	}
	// Carnet's refund of part of payment id, and Stripe's report of the
	// charge's refunds.
	remedy := func(id, amount int64) Observed {
		ch := fmt.Sprintf("ch_%d", id)
		return Observed{ID: 100 + id, Kind: "refund", Status: "remedy", Amount: amount, Currency: "EUR", Charge: &ch, At: start}
	}
	reported := func(id, amount int64) Observed {
		o := remedy(id, amount)
		o.ID, o.Status = 200+id, "refunded"
		return o
	}
	causes := func(payments ...Observed) []string {
		var out []string
		p := Plan{Plan: "upfront", Status: "active", Remaining: 10, Installments: upfront, Payments: payments}
		for _, f := range Detect(p, start.Add(time.Hour)) {
			out = append(out, f.Cause)
		}
		return out
	}
	if got := causes(charge(1, 45000), charge(2, 45000)); len(got) != 1 || got[0] != "duplicate:payment:2" {
		t.Fatalf("a duplicate: %v", got)
	}
	if got := causes(charge(1, 45000), charge(2, 45000), remedy(2, 45000), reported(2, 45000)); len(got) != 0 {
		t.Fatalf("a duplicate Carnet refunded in full, reported by Stripe: %v", got)
	}
	if got := causes(charge(1, 45000), charge(2, 45000), remedy(2, 45000), charge(3, 45000)); len(got) != 1 || got[0] != "duplicate:payment:3" {
		t.Fatalf("a third charge after the second was refunded: %v", got)
	}
	// Part of a payment given back: what is left is what the plan expected.
	if got := causes(charge(1, 50000), remedy(1, 5000)); len(got) != 0 {
		t.Fatalf("an excess refunded: %v", got)
	}
	// Someone else refunded more of the charge than Carnet did.
	if got := causes(charge(1, 50000), remedy(1, 5000), reported(1, 15000)); len(got) != 1 || got[0] != "refund:payment:201" {
		t.Fatalf("a refund beyond Carnet's: %v", got)
	}
}

func TestEnds(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	id := func(s string) *string { return &s }
	pay := func(kind, status string, amount int64, charge string, at time.Duration) Observed {
		return Observed{Kind: kind, Status: status, Amount: amount, Currency: "EUR", Charge: id(charge), At: t0.Add(at)}
	}
	viaIntent := func(o Observed, pi string) Observed { o.Charge, o.Intent = nil, id(pi); return o }
	charge := func(amount int64, ch string) Observed { return pay("charge", "succeeded", amount, ch, 0) }
	cases := []struct {
		name     string
		plan     string
		payments []Observed
		reason   string // "" when the pack goes on
		at       time.Duration
	}{
		{"upfront refunded in full", "upfront",
			[]Observed{charge(30000, "ch_1"), pay("refund", "refunded", 30000, "ch_1", time.Hour)}, "payment refunded in full", time.Hour},
		{"upfront refunded in part", "upfront",
			[]Observed{charge(30000, "ch_1"), pay("refund", "partially_refunded", 10000, "ch_1", time.Hour)}, "", 0},
		{"two partial refunds that add up", "upfront",
			[]Observed{charge(30000, "ch_1"), pay("refund", "partially_refunded", 10000, "ch_1", time.Hour),
				pay("refund", "refunded", 20000, "ch_2", 2*time.Hour)}, "payment refunded in full", 2 * time.Hour},
		{"a refund before its charge is known ends nothing", "upfront",
			[]Observed{pay("refund", "refunded", 30000, "ch_1", time.Hour)}, "", 0},
		{"a duplicate given back leaves the pack paid", "upfront",
			[]Observed{charge(30000, "ch_1"), charge(30000, "ch_2"), pay("refund", "refunded", 30000, "ch_2", time.Hour)}, "", 0},
		{"Carnet's remedy of an excess is not the client's money back", "upfront",
			[]Observed{charge(45000, "ch_1"), pay("refund", "remedy", 15000, "ch_1", time.Minute),
				pay("refund", "partially_refunded", 15000, "ch_1", time.Minute)}, "", 0},
		{"beyond Carnet's remedy, the rest refunded by hand", "upfront",
			[]Observed{charge(45000, "ch_1"), pay("refund", "remedy", 15000, "ch_1", time.Minute),
				pay("refund", "refunded", 45000, "ch_1", time.Hour)}, "payment refunded in full", time.Hour},
		{"upfront dispute lost", "upfront",
			[]Observed{charge(30000, "ch_1"), pay("dispute", "lost", 30000, "ch_1", 3*time.Hour)}, "dispute lost", 3 * time.Hour},
		{"upfront dispute lost, linked by the payment intent", "upfront",
			[]Observed{viaIntent(charge(30000, ""), "pi_1"), viaIntent(pay("dispute", "lost", 30000, "", time.Hour), "pi_1")},
			"dispute lost", time.Hour},
		{"upfront dispute open or won", "upfront",
			[]Observed{charge(30000, "ch_1"), pay("dispute", "needs_response", 30000, "ch_1", time.Hour),
				pay("dispute", "won", 30000, "ch_1", 2*time.Hour)}, "", 0},
		{"a lost dispute on a charge not the pack's", "upfront",
			[]Observed{charge(30000, "ch_1"), pay("dispute", "lost", 30000, "ch_9", time.Hour)}, "", 0},
		{"part refunded, the rest disputed and lost: as of the last", "upfront",
			[]Observed{charge(30000, "ch_1"), pay("refund", "partially_refunded", 10000, "ch_1", time.Hour),
				pay("dispute", "lost", 20000, "ch_1", 5*time.Hour)}, "dispute lost", 5 * time.Hour},
		{"installments: a lost dispute ends the plan, as of the first loss", "installments",
			[]Observed{charge(15000, "ch_1"), charge(15000, "ch_2"), pay("dispute", "lost", 15000, "ch_2", 4*time.Hour),
				pay("dispute", "lost", 15000, "ch_1", 6*time.Hour)}, "dispute lost", 4 * time.Hour},
		{"installments: a refund of one debit does not end the plan", "installments",
			[]Observed{charge(15000, "ch_1"), pay("refund", "refunded", 15000, "ch_1", time.Hour)}, "", 0},
		{"installments: a lost dispute before its debit is known", "installments",
			[]Observed{pay("dispute", "lost", 15000, "ch_1", time.Hour)}, "", 0},
		{"paid by hand, nothing from Stripe", "manual", nil, "", 0},
	}
	for _, tc := range cases {
		got, ok := Ends(Plan{Plan: tc.plan, Status: "active", Payments: tc.payments})
		switch {
		case tc.reason == "" && ok:
			t.Errorf("%s: ends (%s at %v), want the pack to go on", tc.name, got.Reason, got.At)
		case tc.reason != "" && (!ok || got.Reason != tc.reason || !got.At.Equal(t0.Add(tc.at))):
			t.Errorf("%s: %+v (ends %v), want %q at %v", tc.name, got, ok, tc.reason, t0.Add(tc.at))
		}
	}
}
