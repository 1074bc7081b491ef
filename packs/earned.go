package packs

import "time"

// What a pack has earned: the coach's revenue recognised as the service is
// given. Reports add these up; ending a relationship refunds the rest.

// EarnedSessions is what a sessions pack has earned once remaining of the
// credited sessions are left: the price share of the sessions used, never
// more than the price. The schema's report_earned computes the same on
// every ledger entry; SessionsOwed is the rest.
func EarnedSessions(price int64, credited, remaining int) int64 {
	if credited <= 0 {
		return 0
	}
	used := min(max(credited-remaining, 0), credited)
	return price * int64(used) / int64(credited)
}

// SessionsOwed is the value of a sessions pack's unused sessions at the
// price the client paid.
func SessionsOwed(price int64, credited, remaining int) int64 {
	return price - EarnedSessions(price, credited, remaining)
}

// Days counts calendar days from a's date to b's date in loc.
func Days(a, b time.Time, loc *time.Location) int {
	a, b = a.In(loc), b.In(loc)
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// PeriodEarnedBy is what a period pack active from start to end (exclusive)
// has earned by the instant t: its price spread evenly over its days, a day
// earned once it is over. A pack that ended early (refunded) stops earning
// at stop. By end the whole price is earned, so months add up to the price.
func PeriodEarnedBy(price int64, start, end, stop, t time.Time, loc *time.Location) int64 {
	total := Days(start, end, loc)
	if total <= 0 {
		return 0
	}
	if !stop.IsZero() && stop.Before(t) {
		t = stop
	}
	done := min(max(Days(start, t, loc), 0), total)
	return price * int64(done) / int64(total)
}
