package packs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/internal/testdb"
)

// world is one coach's database with a movable clock.
type world struct {
	t     testing.TB
	s     *Service
	coach auth.Coach
	mu    sync.Mutex
	now   time.Time
}

func newWorld(t testing.TB) *world {
	t.Helper()
	d := testdb.New(t)
	w := &world{t: t, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	w.s = &Service{DB: d, Now: w.clock}
	var err error
	w.coach, _, err = auth.CreateCoach(context.Background(), d, auth.NewCoach{
		Name: "Coach", Email: fmt.Sprintf("coach%d@example.com", time.Now().UnixNano()), Currency: "EUR", Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *world) setNow(t time.Time) {
	w.mu.Lock()
	w.now = t
	w.mu.Unlock()
}

func (w *world) client(name string) Client {
	w.t.Helper()
	email := name + "@example.com"
	c, err := w.s.CreateClient(context.Background(), w.coach.ID, ClientInput{Name: &name, Email: &email})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// pack sells the client a sessions pack of n sessions, paid by hand now.
func (w *world) pack(clientID int64, n int) Pack {
	w.t.Helper()
	price := int64(1000 * n)
	return w.sell(clientID, OfferInput{Name: "pack", Kind: KindSessions, Sessions: &n, PriceAmount: &price})
}

// periodPack sells the client a month capped at weekCap sessions a week,
// paid by hand now.
func (w *world) periodPack(clientID int64, weekCap int) Pack {
	w.t.Helper()
	months, price := 1, int64(9000)
	return w.sell(clientID, OfferInput{Name: "month", Kind: KindPeriod, Months: &months, WeeklyCap: &weekCap, PriceAmount: &price})
}

// sell creates the offer and records its pack for the client, paid in cash.
func (w *world) sell(clientID int64, in OfferInput) Pack {
	w.t.Helper()
	o, err := w.s.CreateOffer(context.Background(), w.coach, in)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := w.s.RecordManualPack(context.Background(), w.coach, clientID, ManualPackInput{OfferID: o.ID, Method: "cash"})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// session schedules a session starting at start for the clients.
func (w *world) session(start time.Time, clients ...int64) Session {
	w.t.Helper()
	s, err := w.s.Schedule(context.Background(), w.coach.ID, SessionInput{StartsAt: &start, ClientIDs: clients})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) remaining(packID int64) int {
	w.t.Helper()
	var n int
	if err := w.s.DB.Get(&n, `SELECT sessions_remaining FROM packs WHERE id = $1`, packID); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) verify() {
	w.t.Helper()
	problems, err := Verify(context.Background(), w.s.DB)
	if err != nil || len(problems) > 0 {
		w.t.Fatalf("verify: %v %v", err, problems)
	}
}

func (w *world) outcome(bookingID int64, outcome string) (Booking, error) {
	return w.s.RecordOutcome(context.Background(), w.coach.ID, bookingID, OutcomeInput{Outcome: outcome})
}

func TestFiftyParallelAttendancesOnFiveSessions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("lea")
	p := w.pack(c.ID, 5)
	start := w.now.Add(-48 * time.Hour)
	var bookings []int64
	for i := range 50 {
		bookings = append(bookings, w.session(start.Add(time.Duration(i)*time.Minute), c.ID).Bookings[0].ID)
	}
	var wg sync.WaitGroup
	codes := make([]string, 50)
	for i, b := range bookings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.outcome(b, Attended)
			codes[i] = "ok"
			if err != nil {
				codes[i] = errs.CodeOf(err)
			}
		}()
	}
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	if count["ok"] != 5 || count[errs.InsufficientBalance] != 45 {
		t.Fatalf("outcomes %v, want 5 ok and 45 insufficient_balance", count)
	}
	if r := w.remaining(p.ID); r != 0 {
		t.Fatalf("remaining %d", r)
	}
	var status string
	_ = w.s.DB.Get(&status, `SELECT status FROM packs WHERE id = $1`, p.ID)
	if status != "exhausted" {
		t.Fatalf("pack status %s, want exhausted", status)
	}
	w.verify()
}

func TestSameOutcomeFiftyTimesChargesOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("mateo")
	p := w.pack(c.ID, 10)
	b := w.session(w.now.Add(-time.Hour), c.ID).Bookings[0]
	var wg sync.WaitGroup
	errsSeen := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errsSeen[i] = w.outcome(b.ID, NoShow)
		}()
	}
	wg.Wait()
	for _, err := range errsSeen {
		if err != nil {
			t.Fatalf("a retry failed: %v", err)
		}
	}
	if r := w.remaining(p.ID); r != 9 {
		t.Fatalf("remaining %d, want 9", r)
	}
	// Another outcome on a settled booking is a conflict and changes nothing.
	if _, err := w.outcome(b.ID, Attended); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("changing a settled outcome: %v", err)
	}
	if r := w.remaining(p.ID); r != 9 {
		t.Fatalf("remaining %d after conflict", r)
	}
	w.verify()
}

func TestNoticeBoundaryIsExact(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("emma")
	p := w.pack(c.ID, 10)
	start := w.now.Add(72 * time.Hour)
	inTime := w.session(start, c.ID).Bookings[0]
	late := w.session(start.Add(time.Hour), c.ID).Bookings[0]

	w.setNow(start.Add(-24 * time.Hour)) // exactly 24 h 0 min before
	b, err := w.outcome(inTime.ID, Cancelled)
	if err != nil || *b.Outcome != Cancelled || w.remaining(p.ID) != 10 {
		t.Fatalf("24h00 before: %v %v, remaining %d", err, b.Outcome, w.remaining(p.ID))
	}
	w.setNow(start.Add(time.Hour - 24*time.Hour + time.Minute)) // 23 h 59 min before the second
	b, err = w.outcome(late.ID, Cancelled)
	if err != nil || *b.Outcome != LateCancelled || w.remaining(p.ID) != 9 {
		t.Fatalf("23h59 before: %v %v, remaining %d", err, b.Outcome, w.remaining(p.ID))
	}
	w.verify()
}

func TestClientIsJudgedByTheCharterTheyAccepted(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	h48, h24 := 48, 24
	if _, err := w.s.PublishCharter(ctx, w.coach, CharterInput{NoticeHours: &h48, LateCancelAction: ActionDeduct}); err != nil {
		t.Fatal(err)
	}
	old := w.client("old")
	oldPack := w.pack(old.ID, 10) // accepts version 1
	v2, err := w.s.PublishCharter(ctx, w.coach, CharterInput{NoticeHours: &h24, LateCancelAction: ActionDeduct})
	if err != nil || v2.Version != 2 {
		t.Fatalf("v2: %v %+v", err, v2)
	}
	newer := w.client("new")
	newPack := w.pack(newer.ID, 10) // accepts version 2

	start := w.now.Add(30 * time.Hour) // 30 h notice: late under v1, in time under v2
	s := w.session(start, old.ID, newer.ID)
	for _, b := range s.Bookings {
		if _, err := w.outcome(b.ID, Cancelled); err != nil {
			t.Fatal(err)
		}
	}
	if w.remaining(oldPack.ID) != 9 || w.remaining(newPack.ID) != 10 {
		t.Fatalf("old client %d left (want 9), new client %d (want 10)", w.remaining(oldPack.ID), w.remaining(newPack.ID))
	}
	w.verify()
}

func TestPackThatExpiresFirstPays(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("two")
	long := w.pack(c.ID, 10)
	// A shorter pack bought later still pays first: it expires first.
	n, days, price := 5, 30, int64(100)
	o, _ := w.s.CreateOffer(context.Background(), w.coach, OfferInput{Name: "short", Kind: KindSessions, Sessions: &n, ValidityDays: &days, PriceAmount: &price})
	short, err := w.s.RecordManualPack(context.Background(), w.coach, c.ID, ManualPackInput{OfferID: o.ID, Method: "bank_transfer"})
	if err != nil {
		t.Fatal(err)
	}
	b := w.session(w.now.Add(-time.Hour), c.ID).Bookings[0]
	got, err := w.outcome(b.ID, Attended)
	if err != nil || *got.PackID != short.ID || w.remaining(short.ID) != 4 || w.remaining(long.ID) != 10 {
		t.Fatalf("paid by %v (%v); short %d long %d", got.PackID, err, w.remaining(short.ID), w.remaining(long.ID))
	}
}

func TestExpiryWaiverGoodwillAdjustmentKeepTheLedgerTrue(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	a, b := w.client("a"), w.client("b")
	pa, pb := w.pack(a.ID, 5), w.pack(b.ID, 5)

	booking := w.session(w.now.Add(-time.Hour), a.ID).Bookings[0]
	if _, err := w.outcome(booking.ID, NoShow); err != nil {
		t.Fatal(err)
	}
	// Waive: the session comes back, once, and the charge stays in the ledger.
	for range 2 {
		got, err := w.s.Waive(ctx, w.coach.ID, booking.ID, "flat tyre, first time")
		if err != nil || !got.Waived {
			t.Fatalf("waive: %v %+v", err, got)
		}
	}
	if w.remaining(pa.ID) != 5 {
		t.Fatalf("after waiver %d", w.remaining(pa.ID))
	}
	if _, err := w.s.Waive(ctx, w.coach.ID, booking.ID, ""); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("waiver without reason: %v", err)
	}

	// Goodwill to both, all or nothing.
	grants, err := w.s.GrantGoodwill(ctx, w.coach, GoodwillInput{ClientIDs: []int64{a.ID, b.ID}, Sessions: 2, Incident: "hall closed",
		Note: "hall closed on Monday", ValueAmount: 2000})
	if err != nil || len(grants) != 2 || w.remaining(pa.ID) != 7 || w.remaining(pb.ID) != 7 {
		t.Fatalf("goodwill: %v %v", err, grants)
	}
	nobody := w.client("nopack")
	if _, err := w.s.GrantGoodwill(ctx, w.coach, GoodwillInput{ClientIDs: []int64{a.ID, nobody.ID}, Sessions: 1, Incident: "x", Note: "x"}); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("goodwill to a client without pack: %v", err)
	}
	if w.remaining(pa.ID) != 7 {
		t.Fatal("a refused goodwill still credited someone")
	}

	// Adjustment: needs a reason, never below zero.
	if _, err := w.s.Adjust(ctx, w.coach.ID, b.ID, AdjustmentInput{PackID: pb.ID, Delta: -1}); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("adjustment without reason: %v", err)
	}
	if _, err := w.s.Adjust(ctx, w.coach.ID, b.ID, AdjustmentInput{PackID: pb.ID, Delta: -8, Reason: "typo"}); errs.CodeOf(err) != errs.InsufficientBalance {
		t.Fatalf("adjustment below zero: %v", err)
	}
	if _, err := w.s.Adjust(ctx, w.coach.ID, b.ID, AdjustmentInput{PackID: pb.ID, Delta: -2, Reason: "counted twice by hand"}); err != nil {
		t.Fatal(err)
	}
	if w.remaining(pb.ID) != 5 {
		t.Fatalf("after adjustment %d", w.remaining(pb.ID))
	}

	// Expiry on time: the remaining sessions are written off, once.
	w.setNow(pa.ValidUntil.Add(ExpiryGrace - time.Second))
	if n, _ := (&ExpiryWorker{DB: w.s.DB, Now: w.clock}).runOnce(ctx); n != 0 {
		t.Fatalf("%d packs expired before the grace ended", n)
	}
	w.setNow(pa.ValidUntil.Add(ExpiryGrace))
	for range 2 {
		if _, err := (&ExpiryWorker{DB: w.s.DB, Now: w.clock}).runOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var kinds []string
	_ = w.s.DB.Select(&kinds, `SELECT kind FROM ledger_entries WHERE pack_id = $1 ORDER BY id`, pa.ID)
	want := "[purchase no_show waiver goodwill expiry]"
	if fmt.Sprint(kinds) != want {
		t.Fatalf("ledger of pack a: %v, want %s", kinds, want)
	}
	var status string
	_ = w.s.DB.Get(&status, `SELECT status FROM packs WHERE id = $1`, pa.ID)
	if status != "expired" || w.remaining(pa.ID) != 0 {
		t.Fatalf("after expiry: %s, %d left", status, w.remaining(pa.ID))
	}
	w.verify()
}

// verify names each broken row by its rule: a balance off its ledger, a
// running sum off its ledger (00046), a booking's copy of its session's
// start gone stale (00047).
func TestVerifyNamesTheBrokenRows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule, breakSQL string
		ofBooking      bool   // breakSQL's $1 is the booking, else the pack
		row            string // the row named (%[1]d: the pack), when checked
	}{
		{"pack balance differs from its ledger", `UPDATE packs SET sessions_remaining = 4 WHERE id = $1`, false, ""},
		{"pack's running sum differs from its ledger", `UPDATE pack_ledger_sums SET delta_sum = delta_sum - 1
			WHERE pack_id = $1`, false, "pack %[1]d: running sum 4, ledger says 5"},
		{"booking's session start differs from its session's", `UPDATE bookings
			SET session_starts_at = session_starts_at - interval '1 day' WHERE id = $1`, true, ""},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			c := w.client("x")
			p := w.pack(c.ID, 5)
			b := w.session(w.now.Add(time.Hour), c.ID).Bookings[0]
			w.verify()
			id := p.ID
			if tc.ofBooking {
				id = b.ID
			}
			if _, err := w.s.DB.Exec(tc.breakSQL, id); err != nil {
				t.Fatal(err)
			}
			problems, err := Verify(context.Background(), w.s.DB)
			if err != nil || len(problems) != 1 || problems[0].Rule != tc.rule ||
				(tc.row != "" && problems[0].Row != fmt.Sprintf(tc.row, p.ID)) {
				t.Fatalf("verify found %v, %v", problems, err)
			}
		})
	}
}

func TestWeeklyCapOnPeriodPack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("p")
	w.periodPack(c.ID, 2)
	// Monday 2026-11-09, three sessions that week: the third is over the cap.
	w.setNow(time.Date(2026, 11, 14, 12, 0, 0, 0, time.UTC))
	monday := time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC)
	var results []string
	for i := range 3 {
		b := w.session(monday.AddDate(0, 0, i), c.ID).Bookings[0]
		_, err := w.outcome(b.ID, Attended)
		results = append(results, errs.CodeOf(err))
		if err == nil {
			results[i] = "ok"
		}
	}
	if fmt.Sprint(results) != "[ok ok insufficient_balance]" {
		t.Fatalf("week results %v", results)
	}
	// Next week starts afresh.
	b := w.session(monday.AddDate(0, 0, 7), c.ID).Bookings[0]
	w.setNow(monday.AddDate(0, 0, 8))
	if _, err := w.outcome(b.ID, Attended); err != nil {
		t.Fatalf("next week: %v", err)
	}
	w.verify()
}

func TestAddMonths(t *testing.T) {
	cases := []struct {
		from string
		n    int
		tz   string
		want string
	}{
		{"2026-01-31T10:00:00Z", 1, "UTC", "2026-02-28T10:00:00Z"},
		{"2028-01-31T10:00:00Z", 1, "UTC", "2028-02-29T10:00:00Z"},
		{"2026-03-31T10:00:00Z", 3, "UTC", "2026-06-30T10:00:00Z"},
		{"2026-05-15T08:00:00Z", 2, "UTC", "2026-07-15T08:00:00Z"},
		// 00:30 on 1 March in Paris is still 28 February in UTC: the month is Paris's.
		{"2026-02-28T23:30:00Z", 1, "Europe/Paris", "2026-03-31T22:30:00Z"},
		// Counted from the start, never from the month before: 31 January
		// + 2 months is 31 March, not 28 March.
		{"2026-01-31T10:00:00Z", 2, "UTC", "2026-03-31T10:00:00Z"},
		{"2028-02-29T10:00:00Z", 12, "UTC", "2029-02-28T10:00:00Z"},
		{"2028-02-29T10:00:00Z", 48, "UTC", "2032-02-29T10:00:00Z"},
		// In the coach's zone the wall-clock time stays across DST.
		{"2026-03-15T09:00:00Z", 1, "Europe/Paris", "2026-04-15T08:00:00Z"},
		{"2026-10-20T09:00:00Z", 1, "Europe/Paris", "2026-11-20T10:00:00Z"},
		{"2026-01-31T09:00:00Z", 1, "America/New_York", "2026-02-28T09:00:00Z"},
	}
	for _, tc := range cases {
		from, _ := time.Parse(time.RFC3339, tc.from)
		if got := AddMonths(from, tc.n, tc.tz).Format(time.RFC3339); got != tc.want {
			t.Errorf("%s + %d months in %s = %s, want %s", tc.from, tc.n, tc.tz, got, tc.want)
		}
	}
}

// Two grants naming the same clients in opposite orders must not deadlock.
func TestGoodwillInAnyOrderNeverDeadlocks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var ids []int64
	for i := range 12 {
		c := w.client(fmt.Sprint("g", i))
		w.pack(c.ID, 5)
		ids = append(ids, c.ID)
	}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)
	var wg sync.WaitGroup
	failures := make([]error, 16)
	for i := range failures {
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := ids
			if i%2 == 1 {
				order = reversed
			}
			_, failures[i] = w.s.GrantGoodwill(context.Background(), w.coach, GoodwillInput{ClientIDs: order, Sessions: 1, Incident: "storm", Note: "storm"})
		}()
	}
	wg.Wait()
	for _, err := range failures {
		if err != nil {
			t.Fatalf("a grant failed: %v", err)
		}
	}
	var total int
	_ = w.s.DB.Get(&total, `SELECT sum(sessions_remaining) FROM packs`)
	if total != 12*(5+16) {
		t.Fatalf("total %d, want %d", total, 12*21)
	}
	w.verify()
}

// A client cannot turn a missed session into a cancellation after the start.
func TestNoCancellationAfterTheStart(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("late")
	p := w.pack(c.ID, 5)
	b := w.session(w.now.Add(-3*time.Hour), c.ID).Bookings[0]
	if _, err := w.outcome(b.ID, Cancelled); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("cancel after start: %v", err)
	}
	if _, err := w.s.PreviewCancellation(context.Background(), w.coach.ID, c.ID, b.ID); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("preview after start: %v", err)
	}
	if _, err := w.outcome(b.ID, NoShow); err != nil || w.remaining(p.ID) != 4 {
		t.Fatalf("no-show after refusal: %v, %d left", err, w.remaining(p.ID))
	}
}

// A pack bought before any charter existed is judged by the defaults, even
// after the coach publishes a stricter charter.
func TestPackBoughtUnderTheDefaults(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("early")
	p := w.pack(c.ID, 5) // no charter yet: 24 h notice
	h72 := 72
	if _, err := w.s.PublishCharter(context.Background(), w.coach, CharterInput{NoticeHours: &h72}); err != nil {
		t.Fatal(err)
	}
	b := w.session(w.now.Add(30*time.Hour), c.ID).Bookings[0]
	got, err := w.outcome(b.ID, Cancelled)
	if err != nil || *got.Outcome != Cancelled || got.CharterVersionID != nil || w.remaining(p.ID) != 5 {
		t.Fatalf("judged %v (charter %v), %d left, %v", got.Outcome, got.CharterVersionID, w.remaining(p.ID), err)
	}
}

// A fee charter owes money, not a session, and its waiver is a ledger entry too.
func TestLateCancellationFeeAndItsWaiver(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.s.PublishCharter(ctx, w.coach, CharterInput{LateCancelAction: ActionFee, LateCancelFee: 1500}); err != nil {
		t.Fatal(err)
	}
	c := w.client("fee")
	p := w.pack(c.ID, 5)
	b := w.session(w.now.Add(2*time.Hour), c.ID).Bookings[0]
	got, err := w.outcome(b.ID, Cancelled)
	if err != nil || *got.Outcome != LateCancelled || got.FeeAmount != 1500 || w.remaining(p.ID) != 5 {
		t.Fatalf("fee cancellation: %+v %v", got, err)
	}
	waived, err := w.s.Waive(ctx, w.coach.ID, b.ID, "ill child")
	if err != nil || !waived.Waived || waived.ID != b.ID {
		t.Fatalf("waive fee: %+v %v", waived, err)
	}
	var entries []string
	_ = w.s.DB.Select(&entries, `SELECT kind || ':' || delta || ':' || coalesce(value_amount, 0) FROM ledger_entries
		WHERE booking_id = $1 ORDER BY id`, b.ID)
	if fmt.Sprint(entries) != "[late_cancel:0:1500 waiver:0:1500]" {
		t.Fatalf("entries %v", entries)
	}
	if _, err := w.s.DB.Exec(`UPDATE ledger_entries SET delta = 5 WHERE booking_id = $1`, b.ID); err == nil {
		t.Fatal("a ledger entry was edited")
	}
	w.verify()
}

func (w *world) outbox() []string {
	w.t.Helper()
	var rows []string
	if err := w.s.DB.Select(&rows, `SELECT template || ':' || locale FROM notifications ORDER BY id`); err != nil {
		w.t.Fatal(err)
	}
	return rows
}

// What happens to a pack is told to its client once: purchase, low
// balance, goodwill, and the reminders, however often they run.
func TestClientMessages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.client("msg")
	es := "es"
	if _, err := w.s.UpdateClient(ctx, w.coach.ID, c.ID, ClientInput{Locale: &es}); err != nil {
		t.Fatal(err)
	}
	p := w.pack(c.ID, 5)
	for i := range 3 {
		b := w.session(w.now.Add(-time.Duration(i+1)*time.Hour), c.ID).Bookings[0]
		if _, err := w.outcome(b.ID, Attended); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.s.GrantGoodwill(ctx, w.coach, GoodwillInput{ClientIDs: []int64{c.ID}, Sessions: 1, Incident: "closed hall", Note: "closed hall"}); err != nil {
		t.Fatal(err)
	}
	want := "[pack_purchased:es low_balance:es goodwill_granted:es]"
	if got := fmt.Sprint(w.outbox()); got != want {
		t.Fatalf("outbox %s, want %s", got, want)
	}
	// Six days before the end, the expiry reminder; running it again adds nothing.
	for range 2 {
		if err := Remind(ctx, w.s.DB, p.ValidUntil.AddDate(0, 0, -6)); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.outbox(); len(got) != 4 || got[3] != "pack_expiring:es" {
		t.Fatalf("outbox after reminders %v", got)
	}
	// On the 2nd of next month (Paris time), last month's summary, once.
	y, m, _ := w.now.Date()
	second := time.Date(y, m+1, 2, 10, 0, 0, 0, time.UTC)
	for range 2 {
		if err := Remind(ctx, w.s.DB, second); err != nil {
			t.Fatal(err)
		}
	}
	var data string
	_ = w.s.DB.Get(&data, `SELECT data::text FROM notifications WHERE template = 'monthly_summary'`)
	if !strings.Contains(data, `"Attended": 3`) || !strings.Contains(data, `"Missed": 0`) {
		t.Fatalf("summary data %s", data)
	}
	if got := w.outbox(); len(got) != 5 {
		t.Fatalf("outbox %v", got)
	}
}

func TestPeriodBounds(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	day := time.Date(2026, 11, 5, 15, 0, 0, 0, paris) // a Thursday
	cases := []struct{ period, from, to string }{
		{"day", "2026-11-05", "2026-11-06"},
		{"week", "2026-11-02", "2026-11-09"},
		{"", "2026-11-02", "2026-11-09"},
		{"month", "2026-11-01", "2026-12-01"},
	}
	for _, tc := range cases {
		from, to, err := PeriodBounds(tc.period, day)
		if err != nil || from.Format("2006-01-02") != tc.from || to.Format("2006-01-02") != tc.to || from.Location() != paris {
			t.Errorf("%q: %v – %v (%v)", tc.period, from, to, err)
		}
	}
	if _, _, err := PeriodBounds("year", day); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("year: %v", err)
	}
}

func TestRescheduleAndList(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	c := w.client("moving")
	w.pack(c.ID, 5)
	s := w.session(w.now.Add(48*time.Hour), c.ID)
	later := w.now.Add(30 * 24 * time.Hour)
	moved, err := w.s.Reschedule(ctx, w.coach.ID, s.ID, SessionInput{StartsAt: &later})
	if err != nil || !moved.StartsAt.Equal(later) || len(moved.Bookings) != 1 {
		t.Fatalf("reschedule: %+v %v", moved, err)
	}
	week, err := w.s.Sessions(ctx, w.coach, "week", w.now.Format("2006-01-02"))
	if err != nil || len(week) != 0 {
		t.Fatalf("this week after the move: %d %v", len(week), err)
	}
	month, err := w.s.Sessions(ctx, w.coach, "month", later.Format("2006-01-02"))
	if err != nil || len(month) != 1 {
		t.Fatalf("the month it moved to: %d %v", len(month), err)
	}
	past := w.session(w.now.Add(-time.Hour), c.ID)
	if _, err := w.outcome(past.Bookings[0].ID, Attended); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Reschedule(ctx, w.coach.ID, past.ID, SessionInput{StartsAt: &later}); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("moving a recorded session: %v", err)
	}
}

// Only a charged outcome names the pack that paid: a timely cancellation and
// a coach's cancellation leave the booking without a pack, its balance whole.
func TestUnchargedOutcomesNameNoPack(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("nopack")
	p := w.pack(c.ID, 5)
	for _, outcome := range []string{Cancelled, CoachCancelled, Attended} {
		start := w.clock().Add(72 * time.Hour)
		if outcome == Attended {
			start = w.clock().Add(-time.Hour)
		}
		s := w.session(start, c.ID)
		b, err := w.outcome(s.Bookings[0].ID, outcome)
		if err != nil {
			t.Fatal(err)
		}
		if charged := outcome == Attended; (b.PackID != nil) != charged || (charged && *b.PackID != p.ID) {
			t.Errorf("%s: booking names pack %v", outcome, b.PackID)
		}
	}
	if left := w.remaining(p.ID); left != 4 {
		t.Errorf("balance %d, want 4: only the attendance counts", left)
	}
}

// Two outcomes on one capped period pack at once: the second waits for the
// first's lock, and must then see the first's entry, or the cap is passed.
// The first is held open by hand so that the second surely waits.
func TestWeeklyCapHoldsUnderConcurrentOutcomes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("cap")
	p := w.periodPack(c.ID, 1)
	w.setNow(time.Date(2026, 11, 14, 12, 0, 0, 0, time.UTC))
	monday := time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC)
	first, second := w.session(monday, c.ID).Bookings[0], w.session(monday.AddDate(0, 0, 1), c.ID).Bookings[0]

	// The first outcome, as a concurrent request would write it, not yet
	// committed: the pack locked, its entry written.
	ctx := context.Background()
	held, err := w.s.DB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = held.Rollback() }()
	var pid int
	if err := held.Get(&pid, `SELECT pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec(`SELECT 1 FROM packs WHERE id = $1 FOR UPDATE`, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec(`INSERT INTO ledger_entries (coach_id, client_id, pack_id, booking_id, kind, delta, created_at)
		VALUES ($1, $2, $3, $4, 'attended', 0, $5)`, w.coach.ID, c.ID, p.ID, first.ID, w.clock()); err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec(`UPDATE bookings SET outcome = 'attended', outcome_at = $2, pack_id = $3 WHERE id = $1`,
		first.ID, w.clock(), p.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := w.outcome(second.ID, Attended); done <- err }()
	// Until the second waits on the first's lock (what PostgreSQL says).
	waiting := false
	for i := 0; i < 1000 && !waiting; i++ {
		time.Sleep(10 * time.Millisecond)
		if err := w.s.DB.Get(&waiting, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE $1 = ANY(pg_blocking_pids(pid)))`, pid); err != nil {
			t.Fatal(err)
		}
	}
	if !waiting {
		t.Fatal("the second outcome never waited for the first's lock")
	}
	if err := held.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; errs.CodeOf(err) != "insufficient_balance" {
		t.Fatalf("the second session of a week capped at one: %v", err)
	}
	var counted int
	if err := w.s.DB.Get(&counted, `SELECT count(*) FROM ledger_entries WHERE pack_id = $1 AND kind = 'attended'`, p.ID); err != nil || counted != 1 {
		t.Fatalf("%d sessions counted in a week capped at one (%v)", counted, err)
	}
}
