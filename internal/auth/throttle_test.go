package auth

import (
	"testing"
	"time"
)

func TestThrottleRule(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	run := func(times ...time.Duration) FailureState {
		var s FailureState
		for _, d := range times {
			s = AfterFailure(s, at(d))
		}
		return s
	}
	many := func(n int, step time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i) * step
		}
		return out
	}
	cases := []struct {
		name  string
		fails []time.Duration
		check time.Duration
		wait  time.Duration
	}{
		{"no failure", nil, 0, 0},
		{"exactly the allowance", many(MaxFailures, time.Second), 10 * time.Second, 0},
		{"one over, blocked for the penalty", many(MaxFailures+1, time.Second), 10 * time.Second, Penalty},
		{"block is over after the penalty", many(MaxFailures+1, time.Second), 10*time.Second + Penalty, 0},
		{"half-way through the block", many(MaxFailures+1, time.Second), 40 * time.Second, Penalty - 30*time.Second},
		{"spread over windows: never blocked", many(3*MaxFailures, 7*time.Second), 3 * MaxFailures * 7 * time.Second, 0},
		{"attempts while blocked do not extend it", append(many(MaxFailures+1, time.Second), 30*time.Second, 50*time.Second), 50 * time.Second, Penalty - 40*time.Second},
	}
	for _, tc := range cases {
		s := run(tc.fails...)
		if got := Blocked(s, at(tc.check)); got != tc.wait {
			t.Errorf("%s: blocked %v, want %v (%+v)", tc.name, got, tc.wait, s)
		}
	}
	if RetryAfter(1500*time.Millisecond) != 2 || RetryAfter(time.Minute) != 60 || RetryAfter(0) != 0 {
		t.Error("RetryAfter must round up to whole seconds")
	}
}
