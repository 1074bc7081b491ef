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
		}
		if sum != tc.total {
			t.Errorf("%d in %d: payments add up to %d", tc.total, tc.n, sum)
		}
		if tc.n > 1 && !got[1].DueAt.Equal(first.AddDate(0, 1, 0)) {
			t.Errorf("second due %v", got[1].DueAt)
		}
	}
}
