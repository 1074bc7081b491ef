package auth

import "time"

// The throttle of failed authentications: after MaxFailures failures from
// one address within FailureWindow, that address is refused (429) for
// Penalty, whatever key or link it sends, so that guessing stops paying.
// Valid keys from other addresses are never slowed: they are checked by the
// same single query as before, and only failures do more work.
const (
	MaxFailures   = 10
	FailureWindow = time.Minute
	Penalty       = time.Minute
)

// FailureState is one address's record of failures.
type FailureState struct {
	WindowStart  time.Time  `db:"window_start"`
	Failures     int        `db:"failures"`
	BlockedUntil *time.Time `db:"blocked_until"`
}

// AfterFailure is the state once one more failure happened at now: a new
// window when the last one is over, a block once the window holds more than
// MaxFailures. An address already blocked stays as it is (its block is not
// lengthened by the attempts it makes meanwhile).
func AfterFailure(s FailureState, now time.Time) FailureState {
	if Blocked(s, now) > 0 {
		return s
	}
	if s.WindowStart.IsZero() || !now.Before(s.WindowStart.Add(FailureWindow)) {
		s = FailureState{WindowStart: now}
	}
	s.Failures++
	if s.Failures > MaxFailures {
		until := now.Add(Penalty)
		s.BlockedUntil = &until
	}
	return s
}

// Blocked is how long the address must still wait at now (0: not blocked).
func Blocked(s FailureState, now time.Time) time.Duration {
	if s.BlockedUntil == nil || !now.Before(*s.BlockedUntil) {
		return 0
	}
	return s.BlockedUntil.Sub(now)
}

// RetryAfter rounds a wait up to whole seconds, as the header wants.
func RetryAfter(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
