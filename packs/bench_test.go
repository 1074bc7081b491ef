package packs

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// go test -run '^$' -bench . ./packs prints what the rules and the hot
// statements cost; figures, never assertions (docs/BENCHMARKS.md).

func benchFacts() OutcomeFacts {
	start := time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)
	act, until, later := start.AddDate(0, 0, -20), start.AddDate(0, 0, 20), start.AddDate(0, 0, 40)
	v := int64(3)
	ch := Charter{ID: 3, Version: 1, NoticeHours: 24, LateCancelAction: ActionFee, LateCancelFee: 1500,
		NoShowAction: ActionDeduct, Currency: "EUR"}
	return OutcomeFacts{Asked: Attended, Now: start.Add(time.Hour), Announced: start.Add(time.Hour), StartsAt: start,
		BookedAt: act, Bought: true, NewestCharter: &v, Currency: "EUR", Charters: map[int64]Charter{3: ch},
		Packs: []PackState{
			{ID: 1, Kind: KindSessions, Status: StatusActive, Remaining: 4, ActivatedAt: &act, ValidUntil: &later, CharterID: &v},
			{ID: 2, Kind: KindSessions, Status: StatusActive, Remaining: 1, ActivatedAt: &act, ValidUntil: &until, CharterID: &v},
		}}
}

func BenchmarkDecide(b *testing.B) {
	f := benchFacts()
	for b.Loop() {
		if d := Decide(f); d.Entry == nil {
			b.Fatal("no entry")
		}
	}
}

func BenchmarkPickPack(b *testing.B) {
	f := benchFacts()
	for b.Loop() {
		if _, ok := PickPack(f.Packs, f.StartsAt); !ok {
			b.Fatal("no pack")
		}
	}
}

func BenchmarkCanMove(b *testing.B) {
	for b.Loop() {
		_ = MovableTo(StatusRefunded)
	}
}

// BenchmarkRecordOutcome is the hot path: one attendance, its statements
// and its transaction on the real database, one booking after another.
func BenchmarkRecordOutcome(b *testing.B) {
	w := newWorld(b)
	c := w.client("bench")
	w.pack(c.ID, 20)
	if _, err := w.s.DB.Exec(`UPDATE packs SET sessions_credited = 1000000, sessions_remaining = 1000000
		WHERE client_id = $1`, c.ID); err != nil {
		b.Fatal(err)
	}
	var bookings []int64
	for range b.N {
		s := w.session(w.clock().Add(-time.Hour), c.ID)
		bookings = append(bookings, s.Bookings[0].ID)
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := w.outcome(bookings[i], Attended); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeductionOnALongLedger is one deduction (an adjustment: the pack's
// update, its entry, the reports' trigger) on a pack whose ledger already
// holds n entries, with the trigger of 00046 (a running sum) and the one
// before it (summing the pack's ledger on every entry).
func BenchmarkDeductionOnALongLedger(b *testing.B) {
	for _, before := range []bool{false, true} {
		for _, n := range []int{20, 20000} {
			name := fmt.Sprintf("running-sum/ledger-%d", n)
			if before {
				name = fmt.Sprintf("summing-the-ledger/ledger-%d", n)
			}
			b.Run(name, func(b *testing.B) {
				w := newWorld(b)
				c := w.client("bench")
				p := w.pack(c.ID, 20)
				// n entries (of 1,000 sessions each, so no deduction is refused),
				// each seen by the trigger as it is written.
				if _, err := w.s.DB.Exec(`INSERT INTO ledger_entries (coach_id, client_id, pack_id, kind, delta, reason)
					SELECT $1, $2, $3, 'adjustment', 1000, 'seed' FROM generate_series(1, $4)`, w.coach.ID, c.ID, p.ID, n); err != nil {
					b.Fatal(err)
				}
				if _, err := w.s.DB.Exec(`UPDATE packs SET sessions_remaining = sessions_remaining + 1000 * $2 WHERE id = $1`, p.ID, n); err != nil {
					b.Fatal(err)
				}
				if before {
					migrationHalf(b, w, "00046_ledger_running_sums.sql", false)
				}
				ctx := context.Background()
				in := AdjustmentInput{PackID: p.ID, Delta: -1, Reason: "bench"}
				for b.Loop() {
					if _, err := w.s.Adjust(ctx, w.coach.ID, c.ID, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkFirstOutcomeAfterALongHistory is a booking's first outcome as
// the reports' trigger sees it (the outcome set, then taken back so the next
// one is a first outcome again) for a client with n bookings already, with
// the look-up of 00047 (one step back along an index) and the one before it
// (every booking of the client sorted by its session's start).
func BenchmarkFirstOutcomeAfterALongHistory(b *testing.B) {
	for _, before := range []bool{false, true} {
		for _, n := range []int{20, 5000} {
			name := fmt.Sprintf("index/bookings-%d", n)
			if before {
				name = fmt.Sprintf("sort/bookings-%d", n)
			}
			b.Run(name, func(b *testing.B) {
				w := newWorld(b)
				c := w.client("bench")
				if _, err := w.s.DB.Exec(`WITH s AS (INSERT INTO sessions (coach_id, starts_at, duration_minutes, kind)
					SELECT $1, $3::timestamptz - interval '1 hour' * g, 60, 'group' FROM generate_series(1, $4) g RETURNING id)
					INSERT INTO bookings (coach_id, session_id, client_id) SELECT $1, id, $2 FROM s`,
					w.coach.ID, c.ID, w.now, n); err != nil {
					b.Fatal(err)
				}
				last := w.session(w.now, c.ID).Bookings[0].ID
				if before {
					migrationHalf(b, w, "00047_booking_session_start.sql", false)
				}
				if _, err := w.s.DB.Exec(`ANALYZE bookings`); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					for _, o := range []any{Attended, nil} {
						if _, err := w.s.DB.Exec(`UPDATE bookings SET outcome = $2 WHERE id = $1`, last, o); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// BenchmarkClientBalance reads one client's balance: two statements
// whatever the number of packs.
func BenchmarkClientBalance(b *testing.B) {
	w := newWorld(b)
	c := w.client("bench")
	for range 5 {
		w.pack(c.ID, 10)
	}
	ctx := context.Background()
	for b.Loop() {
		if bal, err := w.s.ClientBalance(ctx, w.coach.ID, c.ID); err != nil || len(bal.Packs) != 5 {
			b.Fatal(bal, err)
		}
	}
}

// BenchmarkRosterPage reads a page of the balances overview by its cursor.
func BenchmarkRosterPage(b *testing.B) {
	w := newWorld(b)
	for i := range 300 {
		c := w.client(fmt.Sprintf("client-%03d", i))
		if i%3 == 0 {
			w.pack(c.ID, 5)
		}
	}
	ctx := context.Background()
	first, err := w.s.Roster(ctx, w.coach.ID, "name", "", 250)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if page, err := w.s.Roster(ctx, w.coach.ID, "name", first.NextCursor, 50); err != nil || len(page.Data) != 50 {
			b.Fatal(len(page.Data), err)
		}
	}
}
