package billing

import (
	"slices"
	"testing"
)

func TestRefundDueAndAllocate(t *testing.T) {
	for _, tc := range []struct {
		paid, earned, due int64
	}{
		{45000, 9000, 36000}, // upfront, 2 of 10 used
		{15000, 13500, 1500}, // first of 3 installments paid, 3 of 10 used
		{15000, 18000, 0},    // used more than paid: nothing back
		{0, 0, 0},
	} {
		if got := RefundDue(tc.paid, tc.earned); got != tc.due {
			t.Errorf("RefundDue(%d, %d) = %d, want %d", tc.paid, tc.earned, got, tc.due)
		}
	}
	for _, tc := range []struct {
		due  int64
		left []int64
		take []int64
		rest int64
	}{
		{36000, []int64{45000}, []int64{36000}, 0},
		{20000, []int64{15000, 15000}, []int64{15000, 5000}, 0},
		{20000, []int64{-100, 15000}, []int64{0, 15000}, 5000}, // a payment already given back gives nothing
		{0, []int64{100}, []int64{0}, 0},
		{500, nil, []int64{}, 500},
	} {
		take, rest := Allocate(tc.due, tc.left)
		if !slices.Equal(take, tc.take) || rest != tc.rest {
			t.Errorf("Allocate(%d, %v) = %v, %d", tc.due, tc.left, take, rest)
		}
	}
}
