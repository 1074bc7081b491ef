package packs

import (
	"testing"
	"time"
)

var paris, _ = time.LoadLocation("Europe/Paris")

func TestEarnedSessionsAddsUpToThePrice(t *testing.T) {
	for _, tc := range []struct {
		price             int64
		credited, left    int
		earned, owedStill int64
	}{
		{45000, 10, 10, 0, 45000},
		{45000, 10, 7, 13500, 31500},
		{10000, 3, 2, 3333, 6667}, // rounding: the rest is owed
		{10000, 3, 0, 10000, 0},
		{10000, 3, 5, 0, 10000},  // goodwill above the credit owes the price, not more
		{10000, 0, 0, 0, 10000},  // no credit: nothing earned
		{10000, 3, -1, 10000, 0}, // never more than the price
	} {
		e, o := EarnedSessions(tc.price, tc.credited, tc.left), SessionsOwed(tc.price, tc.credited, tc.left)
		if e != tc.earned || o != tc.owedStill {
			t.Errorf("%+v: earned %d owed %d", tc, e, o)
		}
	}
	// Session by session, the increments add up to the price exactly.
	var sum int64
	for left := 7; left > 0; left-- {
		sum += EarnedSessions(10001, 7, left-1) - EarnedSessions(10001, 7, left)
	}
	if sum != 10001 {
		t.Fatalf("increments add up to %d", sum)
	}
}

func TestPeriodEarnedDayByDay(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, paris)
	end := time.Date(2026, 4, 1, 10, 0, 0, 0, paris) // 31 days, across the change to summer time
	for _, tc := range []struct {
		name string
		at   time.Time
		stop time.Time
		want int64
	}{
		{"before", time.Date(2026, 2, 1, 0, 0, 0, 0, paris), time.Time{}, 0},
		{"same day", time.Date(2026, 3, 1, 23, 0, 0, 0, paris), time.Time{}, 0},
		{"one day over", time.Date(2026, 3, 2, 0, 0, 0, 0, paris), time.Time{}, 1000},
		{"after the clocks change", time.Date(2026, 4, 1, 0, 0, 0, 0, paris), time.Time{}, 31000},
		{"long after", time.Date(2027, 1, 1, 0, 0, 0, 0, paris), time.Time{}, 31000},
		{"refunded on the 11th", time.Date(2026, 4, 1, 0, 0, 0, 0, paris), time.Date(2026, 3, 11, 9, 0, 0, 0, paris), 10000},
	} {
		if got := PeriodEarnedBy(31000, start, end, tc.stop, tc.at, paris); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// Months add up to the price.
	var sum int64
	for _, m := range []time.Time{time.Date(2026, 2, 1, 0, 0, 0, 0, paris), time.Date(2026, 3, 1, 0, 0, 0, 0, paris), time.Date(2026, 4, 1, 0, 0, 0, 0, paris), time.Date(2026, 5, 1, 0, 0, 0, 0, paris)} {
		sum += PeriodEarnedBy(31000, start, end, time.Time{}, m.AddDate(0, 1, 0), paris) -
			PeriodEarnedBy(31000, start, end, time.Time{}, m, paris)
	}
	if sum != 31000 {
		t.Fatalf("months add up to %d", sum)
	}
}
