package packs

import (
	"context"
	"testing"
	"time"
)

// A booking right after one the coach cancelled is found by the sessions'
// order as it is now: a session moved before the cancelled one no longer
// comes after it (the bookings' copy of their session's start follows a
// reschedule, 00047).
func TestAfterACoachCancellationFollowsAReschedule(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.client("a")
	w.pack(c.ID, 5)
	s1 := w.session(w.now.Add(48*time.Hour), c.ID)
	s2 := w.session(w.now.Add(72*time.Hour), c.ID)
	s3 := w.session(w.now.Add(96*time.Hour), c.ID)
	moved := w.now.Add(30 * time.Hour)
	if _, err := w.s.Reschedule(ctx, w.coach.ID, s2.ID, SessionInput{StartsAt: &moved}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.CancelSession(ctx, w.coach.ID, s1.ID); err != nil {
		t.Fatal(err)
	}
	// The client cancels both, with notice: s2 now comes before s1, s3 after it.
	for _, s := range []Session{s2, s3} {
		if b, err := w.outcome(s.Bookings[0].ID, Cancelled); err != nil || *b.Outcome != Cancelled {
			t.Fatalf("cancel %d: %v %+v", s.ID, err, b)
		}
	}
	var got struct {
		After     int `db:"after"`
		Cancelled int `db:"cancelled"`
	}
	if err := w.s.DB.Get(&got, `SELECT sum(after_coach_cancel) AS after, sum(cancelled_after_coach) AS cancelled
		FROM report_client_months WHERE client_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if got.After != 1 || got.Cancelled != 1 {
		t.Fatalf("bookings right after a coach's cancellation %d, cancelled %d; want 1 and 1 (s3 only)", got.After, got.Cancelled)
	}
	w.verify()
}

// Bookings written before 00047 (by the previous release's schema) get
// their session's start from the migration.
func TestSessionStartsFromBookingsWrittenBefore00047(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("a")
	w.session(w.now.Add(-time.Hour), c.ID)
	migrationHalf(t, w, "00047_booking_session_start.sql", false)
	w.session(w.now.Add(2*time.Hour), c.ID)
	migrationHalf(t, w, "00047_booking_session_start.sql", true)
	var n int
	if err := w.s.DB.Get(&n, `SELECT count(*) FROM bookings WHERE client_id = $1 AND session_starts_at IS NOT NULL`, c.ID); err != nil || n != 2 {
		t.Fatalf("bookings with their session's start: %d, %v; want 2", n, err)
	}
	w.verify()
}

// The outcome trigger (00054) counts a booking in its session's month, read
// from the booking's copy of the start, and takes an outcome out again when
// it changes or is taken back (an operator's correction in SQL): the month's
// counts always equal the bookings'.
func TestOutcomeCountsFollowCorrections(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("a")
	w.pack(c.ID, 5)
	s := w.session(w.now.Add(-2*time.Hour), c.ID)
	b := s.Bookings[0].ID
	if _, err := w.outcome(b, Attended); err != nil {
		t.Fatal(err)
	}
	counts := func() (got, want [2]int) {
		t.Helper()
		if err := w.s.DB.QueryRow(`SELECT coalesce(sum(r.attended), 0), coalesce(sum(r.no_shows), 0) FROM report_client_months r
			JOIN sessions s ON s.id = $2 WHERE r.client_id = $1 AND r.month = report_month(s.coach_id, s.starts_at)`,
			c.ID, s.ID).Scan(&got[0], &got[1]); err != nil {
			t.Fatal(err)
		}
		if err := w.s.DB.QueryRow(`SELECT count(*) FILTER (WHERE outcome = 'attended'), count(*) FILTER (WHERE outcome = 'no_show')
			FROM bookings WHERE client_id = $1`, c.ID).Scan(&want[0], &want[1]); err != nil {
			t.Fatal(err)
		}
		return got, want
	}
	for _, set := range []string{"", "'no_show'", "NULL", "'attended'"} {
		if set != "" {
			if _, err := w.s.DB.Exec(`UPDATE bookings SET outcome = `+set+` WHERE id = $1`, b); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := counts(); got != want {
			t.Fatalf("outcome set to %q: the month counts attended/no-shows %v, the bookings %v", set, got, want)
		}
	}
}
