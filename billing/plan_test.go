package billing

import (
	"testing"
	"time"
)

func TestSplitInstallments(t *testing.T) {
	first := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		total int64
		n     int
		want  []int64
	}{
		{45000, 3, []int64{15000, 15000, 15000}},
		{10000, 3, []int64{3334, 3333, 3333}},
		{10001, 4, []int64{2501, 2500, 2500, 2500}},
		{5, 2, []int64{3, 2}},
		{9999, 1, []int64{9999}},
	}
	for _, tc := range cases {
		got := SplitInstallments(tc.total, tc.n, first)
		var sum int64
		for i, d := range got {
			sum += d.Amount
			if d.Amount != tc.want[i] || d.Seq != i+1 {
				t.Errorf("%d in %d: payment %d = %d, want %d", tc.total, tc.n, i+1, d.Amount, tc.want[i])
			}
			if !d.DueAt.Equal(InstallmentDue(first, i+1)) {
				t.Errorf("%d in %d: payment %d due %v", tc.total, tc.n, i+1, d.DueAt)
			}
		}
		if sum != tc.total {
			t.Errorf("%d in %d: payments add up to %d", tc.total, tc.n, sum)
		}
	}
}

// The dates Stripe debits a monthly subscription on, from its billing-cycle
// anchor (its documented example: anchored on 31 January, it bills on 28 or
// 29 February, 31 March, 30 April), and what the coach in Paris sees.
func TestInstallmentDue(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		anchor string
		want   []string // UTC, installment 1 onwards
		paris  []string // the day the Paris coach sees, when it says more
	}{
		{"31 January, common year", "2026-01-31T10:00:00Z",
			[]string{"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z"}, nil},
		{"31 January, leap year", "2028-01-31T10:00:00Z",
			[]string{"2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z", "2028-03-31T10:00:00Z"}, nil},
		{"29 February, then months with it and without", "2028-02-29T08:15:00Z",
			[]string{"2028-02-29T08:15:00Z", "2028-03-29T08:15:00Z", "2028-04-29T08:15:00Z"}, nil},
		{"30 January: February clamps, March does not", "2026-01-30T12:00:00Z",
			[]string{"2026-01-30T12:00:00Z", "2026-02-28T12:00:00Z", "2026-03-30T12:00:00Z"}, nil},
		{"31 March: 30-day April, 31-day May", "2026-03-31T09:00:00Z",
			[]string{"2026-03-31T09:00:00Z", "2026-04-30T09:00:00Z", "2026-05-31T09:00:00Z", "2026-06-30T09:00:00Z"}, nil},
		{"31 December across the year", "2026-12-31T23:00:00Z",
			[]string{"2026-12-31T23:00:00Z", "2027-01-31T23:00:00Z", "2027-02-28T23:00:00Z"}, nil},
		// Stripe keeps the anchor's UTC time across DST: the Paris coach
		// sees the debit an hour later in summer.
		{"across the spring DST change", "2026-03-15T09:00:00Z",
			[]string{"2026-03-15T09:00:00Z", "2026-04-15T09:00:00Z"},
			[]string{"2026-03-15 10:00", "2026-04-15 11:00"}},
		{"across the autumn DST change", "2026-10-20T09:00:00Z",
			[]string{"2026-10-20T09:00:00Z", "2026-11-20T09:00:00Z"},
			[]string{"2026-10-20 11:00", "2026-11-20 10:00"}},
		// Bought at 00:30 on 31 January in Paris: Stripe's anchor day is
		// 30 January (UTC), so it debits on 28 February at 23:30 UTC, which
		// Paris sees as 1 March, then on 31 March.
		{"just after midnight in Paris", "2026-01-30T23:30:00Z",
			[]string{"2026-01-30T23:30:00Z", "2026-02-28T23:30:00Z", "2026-03-30T23:30:00Z"},
			[]string{"2026-01-31 00:30", "2026-03-01 00:30", "2026-03-31 01:30"}},
	}
	for _, tc := range cases {
		anchor, err := time.Parse(time.RFC3339, tc.anchor)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range tc.want {
			got := InstallmentDue(anchor, i+1)
			if got.Format(time.RFC3339) != want {
				t.Errorf("%s: installment %d due %s, want %s", tc.name, i+1, got.Format(time.RFC3339), want)
			}
			if tc.paris != nil && got.In(paris).Format("2006-01-02 15:04") != tc.paris[i] {
				t.Errorf("%s: installment %d shown in Paris as %s, want %s", tc.name, i+1, got.In(paris).Format("2006-01-02 15:04"), tc.paris[i])
			}
		}
	}
}
