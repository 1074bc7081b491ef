package billing

import (
	"testing"
	"time"
)

func TestInstallmentFor(t *testing.T) {
	jan := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	month := func(n int) time.Time { return InstallmentDue(jan, n) }
	inv := func(s string) *string { return &s }
	plan := func(statuses ...string) []Installment {
		out := make([]Installment, len(statuses))
		for n, st := range statuses {
			out[n] = Installment{ID: int64(100 + n + 1), Seq: n + 1, DueAt: month(n + 1), Status: st}
		}
		return out
	}
	with := func(list []Installment, seq int, invoice string) []Installment {
		list[seq-1].Invoice = inv(invoice)
		return list
	}
	cases := []struct {
		name   string
		list   []Installment
		report InvoiceReport
		want   int // seq; 0 for none
	}{
		{"first invoice pays month 1", plan("due", "due", "due"),
			InvoiceReport{Invoice: "in_1", Created: month(1)}, 1},
		{"month 3's invoice first does not settle month 1", plan("due", "due", "due"),
			InvoiceReport{Invoice: "in_3", Created: month(3)}, 3},
		{"month 2's invoice after month 3 was paid", with(plan("due", "due", "paid"), 3, "in_3"),
			InvoiceReport{Invoice: "in_2", Created: month(2).Add(2 * time.Hour)}, 2},
		{"an invoice dated days late still pays its month", plan("paid", "due", "due"),
			InvoiceReport{Invoice: "in_2", Created: month(2).AddDate(0, 0, 9)}, 2},
		{"its month taken, the nearest open one", with(plan("paid", "paid", "due"), 2, "in_2"),
			InvoiceReport{Invoice: "in_x", Created: month(2)}, 3},
		{"equally near: the earlier installment", plan("due", "due"),
			InvoiceReport{Invoice: "in_1", Created: month(1).Add(month(2).Sub(month(1)) / 2)}, 1},
		{"a retry that succeeded settles the failed installment", with(plan("paid", "failed", "due"), 2, "in_2"),
			InvoiceReport{Invoice: "in_2", Created: month(3)}, 2},
		{"a paid invoice reported again lands on its installment", with(plan("paid", "due"), 1, "in_1"),
			InvoiceReport{Invoice: "in_1", Created: month(2)}, 1},
		{"a failed debit not yet linked is settled by a later invoice", plan("paid", "failed", "due"),
			InvoiceReport{Invoice: "in_2b", Created: month(2).AddDate(0, 0, 3)}, 2},
		{"cancelled installments are not paid after the end", plan("paid", "cancelled", "cancelled"),
			InvoiceReport{Invoice: "in_2", Created: month(2)}, 0},
		{"paid before a lost dispute ended the plan, the cancelled one counts", plan("paid", "cancelled", "cancelled"),
			InvoiceReport{Invoice: "in_2", Created: month(2), PaidBeforeEnd: true}, 2},
		{"an open installment wins over a cancelled one nearer", plan("paid", "cancelled", "due"),
			InvoiceReport{Invoice: "in_2", Created: month(2), PaidBeforeEnd: true}, 3},
		{"nothing left open: a charge after the end", plan("paid", "paid"),
			InvoiceReport{Invoice: "in_3", Created: month(3)}, 0},
		{"failed: the installment due nearest", plan("paid", "due", "due"),
			InvoiceReport{Invoice: "in_3", Created: month(3), Failed: true}, 3},
		{"failed again: the retry's own installment", with(plan("paid", "failed", "due"), 2, "in_2"),
			InvoiceReport{Invoice: "in_2", Created: month(3), Failed: true}, 2},
		{"failed never undoes a paid installment", with(plan("paid", "due"), 1, "in_1"),
			InvoiceReport{Invoice: "in_1", Created: month(1), Failed: true}, 2},
		{"failed never touches a cancelled one", plan("paid", "cancelled"),
			InvoiceReport{Invoice: "in_2", Created: month(2), Failed: true, PaidBeforeEnd: true}, 0},
		{"failed does not move another invoice's failure", with(plan("paid", "failed"), 2, "in_2"),
			InvoiceReport{Invoice: "in_9", Created: month(2), Failed: true}, 0},
	}
	for _, tc := range cases {
		got, ok := InstallmentFor(tc.list, tc.report)
		if (tc.want == 0) != !ok || (ok && got.Seq != tc.want) {
			t.Errorf("%s: got installment %d (found %v), want %d", tc.name, got.Seq, ok, tc.want)
		}
	}
}

func TestPaidBeforeEnd(t *testing.T) {
	lost := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		at     time.Time
		lostAt *time.Time
		want   bool
	}{
		{lost.Add(-time.Second), &lost, true},
		{lost, &lost, false},
		{lost.Add(time.Hour), &lost, false},
		{lost, nil, false},
	}
	for _, tc := range cases {
		if got := PaidBeforeEnd(tc.at, tc.lostAt); got != tc.want {
			t.Errorf("paid %v, lost %v: %v, want %v", tc.at, tc.lostAt, got, tc.want)
		}
	}
}
