package packs

import (
	"carnet/internal/errs"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	start := time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)
	feeCharter := Charter{NoticeHours: 24, LateCancelAction: ActionFee, LateCancelFee: 1500, NoShowAction: ActionNone}
	cases := []struct {
		name      string
		ch        Charter
		outcome   string
		announced time.Time
		want      string
		charge    Charge
	}{
		{"attended", DefaultCharter, Attended, start, Attended, Charge{Kind: "attended", Session: true}},
		{"no-show deducts", DefaultCharter, NoShow, start, NoShow, Charge{Kind: "no_show", Session: true}},
		{"no-show free", feeCharter, NoShow, start, NoShow, Charge{}},
		{"24h 0min is in time", DefaultCharter, Cancelled, start.Add(-24 * time.Hour), Cancelled, Charge{}},
		{"23h59 is late", DefaultCharter, Cancelled, start.Add(-24*time.Hour + time.Minute), LateCancelled, Charge{Kind: "late_cancel", Session: true}},
		{"one second late", DefaultCharter, Cancelled, start.Add(-24*time.Hour + time.Second), LateCancelled, Charge{Kind: "late_cancel", Session: true}},
		{"a week before", DefaultCharter, Cancelled, start.AddDate(0, 0, -7), Cancelled, Charge{}},
		{"after the start", DefaultCharter, Cancelled, start.Add(time.Hour), LateCancelled, Charge{Kind: "late_cancel", Session: true}},
		{"late with fee", feeCharter, Cancelled, start.Add(-time.Hour), LateCancelled, Charge{Kind: "late_cancel", Fee: 1500}},
		{"late, forgiven by charter", Charter{NoticeHours: 48, LateCancelAction: ActionNone}, Cancelled, start.Add(-47 * time.Hour), LateCancelled, Charge{}},
		{"0h notice charter", Charter{NoticeHours: 0, LateCancelAction: ActionDeduct}, Cancelled, start, Cancelled, Charge{}},
		{"coach cancels", DefaultCharter, CoachCancelled, start, CoachCancelled, Charge{}},
	}
	for _, tc := range cases {
		got, charge := Judge(tc.ch, tc.outcome, start, tc.announced)
		if got != tc.want || charge != tc.charge {
			t.Errorf("%s: got %s %+v, want %s %+v", tc.name, got, charge, tc.want, tc.charge)
		}
	}
}

func TestPickPack(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	day := func(d int) *time.Time { x := at.AddDate(0, 0, d); return &x }
	cap2 := 2
	sessions := func(id int64, remaining int, until *time.Time) PackState {
		return PackState{ID: id, Kind: KindSessions, Status: "active", Remaining: remaining, ActivatedAt: day(-30), ValidUntil: until}
	}
	cases := []struct {
		name  string
		packs []PackState
		want  int64 // 0: none usable
	}{
		{"none", nil, 0},
		{"one", []PackState{sessions(1, 3, day(10))}, 1},
		{"expires first wins", []PackState{sessions(1, 3, day(30)), sessions(2, 1, day(5))}, 2},
		{"same expiry: oldest", []PackState{sessions(3, 1, day(5)), sessions(2, 1, day(5))}, 2},
		{"empty skipped", []PackState{sessions(1, 0, day(5)), sessions(2, 4, day(50))}, 2},
		{"expired skipped", []PackState{sessions(1, 3, day(0)), sessions(2, 4, day(50))}, 2},
		{"pending skipped", []PackState{{ID: 1, Kind: KindSessions, Status: "pending", Remaining: 5}}, 0},
		{"cancelled skipped", []PackState{{ID: 1, Kind: KindSessions, Status: "cancelled", Remaining: 5, ActivatedAt: day(-1), ValidUntil: day(9)}}, 0},
		{"overdue within grace", []PackState{{ID: 1, Kind: KindSessions, Status: "overdue", Remaining: 5, ActivatedAt: day(-9), ValidUntil: day(9), OverdueSince: day(-2), GraceDays: 3}}, 1},
		{"overdue past grace", []PackState{{ID: 1, Kind: KindSessions, Status: "overdue", Remaining: 5, ActivatedAt: day(-9), ValidUntil: day(9), OverdueSince: day(-3), GraceDays: 3}}, 0},
		{"period under cap", []PackState{{ID: 4, Kind: KindPeriod, Status: "active", ActivatedAt: day(-3), ValidUntil: day(20), WeeklyCap: &cap2, WeekCount: 1}}, 4},
		{"period at cap", []PackState{{ID: 4, Kind: KindPeriod, Status: "active", ActivatedAt: day(-3), ValidUntil: day(20), WeeklyCap: &cap2, WeekCount: 2}}, 0},
		{"period not started", []PackState{{ID: 4, Kind: KindPeriod, Status: "active", ActivatedAt: day(1), ValidUntil: day(20)}}, 0},
		{"period uncapped", []PackState{{ID: 4, Kind: KindPeriod, Status: "active", ActivatedAt: day(-3), ValidUntil: day(20), WeekCount: 9}}, 4},
	}
	for _, tc := range cases {
		got, ok := PickPack(tc.packs, at)
		if (tc.want == 0) == ok || (ok && got.ID != tc.want) {
			t.Errorf("%s: got %d (%v), want %d", tc.name, got.ID, ok, tc.want)
		}
	}
}

func TestCappedPack(t *testing.T) {
	start := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	act, until, one := start.AddDate(0, 0, -3), start.AddDate(0, 1, 0), 1
	period := PackState{ID: 1, Kind: KindPeriod, Status: "active", ActivatedAt: &act, ValidUntil: &until, WeeklyCap: &one}
	full := period
	full.WeekCount = 1
	expired := full
	expired.ValidUntil = &act
	cases := []struct {
		name  string
		packs []PackState
		want  bool
	}{
		{"room left in the week", []PackState{period}, false},
		{"cap reached", []PackState{full}, true},
		{"cap reached but expired anyway", []PackState{expired}, false},
		{"no pack", nil, false},
	}
	for _, c := range cases {
		if _, got := CappedPack(c.packs, start); got != c.want {
			t.Errorf("%s: capped %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCanMove(t *testing.T) {
	cases := []struct {
		from, to Status
		want     bool
	}{
		{StatusPending, StatusActive, true},
		{StatusPending, StatusCancelled, true},
		{StatusPending, StatusExhausted, false},
		{StatusCancelled, StatusPending, true},
		{StatusCancelled, StatusActive, false},
		{StatusActive, StatusExhausted, true},
		{StatusExhausted, StatusActive, true},
		{StatusActive, StatusOverdue, true},
		{StatusOverdue, StatusOverdue, true},
		{StatusOverdue, StatusExhausted, true},
		{StatusActive, StatusPending, false},
		{StatusExpired, StatusActive, false},
		{StatusExpired, StatusRefunded, true},
		{StatusRefunded, StatusActive, false},
		{StatusRefunded, StatusRefunded, false},
		{StatusCancelled, StatusRefunded, false},
	}
	for _, c := range cases {
		if got := CanMove(c.from, c.to); got != c.want {
			t.Errorf("CanMove(%s, %s) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
	guards := []struct {
		to   []Status
		want []string
	}{
		{[]Status{StatusExpired}, []string{"active", "exhausted", "overdue"}},
		{[]Status{StatusCancelled}, []string{"pending"}},
		{[]Status{StatusPending}, []string{"cancelled"}},
		{[]Status{StatusActive, StatusExhausted}, []string{"overdue"}},
		{[]Status{StatusRefunded}, []string{"pending", "active", "exhausted", "overdue", "expired"}},
	}
	for _, g := range guards {
		if got := MovableTo(g.to...); !slices.Equal(got, g.want) {
			t.Errorf("MovableTo(%v) = %v, want %v", g.to, got, g.want)
		}
	}
}

func TestGoodwillPack(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	day := func(d int) *time.Time { x := now.AddDate(0, 0, d); return &x }
	pack := func(id int64, kind string, st Status, remaining int, until *time.Time) PackState {
		return PackState{ID: id, Kind: kind, Status: st, Remaining: remaining, ActivatedAt: day(-30), ValidUntil: until, GraceDays: 3}
	}
	overdue := pack(5, KindSessions, StatusOverdue, 2, day(5))
	overdue.OverdueSince = day(-4)
	cases := []struct {
		name  string
		packs []PackState
		want  int64
	}{
		{"none", nil, 0},
		{"exhausted but valid takes the gift", []PackState{pack(1, KindSessions, StatusExhausted, 0, day(10))}, 1},
		{"expires first", []PackState{pack(1, KindSessions, StatusActive, 3, day(30)), pack(2, KindSessions, StatusExhausted, 0, day(5))}, 2},
		{"a sessions pack before a period pack", []PackState{pack(3, KindPeriod, StatusActive, 0, day(30)), pack(4, KindSessions, StatusExhausted, 0, day(9))}, 4},
		{"past validity", []PackState{pack(4, KindSessions, StatusActive, 3, day(0))}, 0},
		{"overdue past grace", []PackState{overdue}, 0},
	}
	for _, c := range cases {
		got, period, ok := GoodwillPack(c.packs, now)
		if (c.want == 0) == ok || (ok && got.ID != c.want) || period != nil {
			t.Errorf("%s: got %d (%v, beside %v), want %d", c.name, got.ID, ok, period, c.want)
		}
	}
	// Only a period pack: a credit of its own beside the newest one running.
	ended := pack(8, KindPeriod, StatusActive, 0, day(0))
	for _, c := range []struct {
		name  string
		packs []PackState
		want  int64
	}{
		{"beside the running period pack", []PackState{pack(6, KindPeriod, StatusOverdue, 0, day(30))}, 6},
		{"the newest of two", []PackState{pack(6, KindPeriod, StatusActive, 0, day(30)), pack(7, KindPeriod, StatusActive, 0, day(60))}, 7},
		{"not beside an ended one", []PackState{ended}, 0},
		{"not beside an exhausted one", []PackState{pack(9, KindPeriod, StatusExhausted, 0, day(30))}, 0},
	} {
		_, period, ok := GoodwillPack(c.packs, now)
		if got := int64(0); ok != (c.want != 0) || (period != nil && period.ID != c.want) || (ok && period == nil) {
			if period != nil {
				got = period.ID
			}
			t.Errorf("%s: beside %d (%v), want %d", c.name, got, ok, c.want)
		}
	}
}

func TestDecide(t *testing.T) {
	start := time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)
	after, booked := start.Add(time.Hour), start.AddDate(0, 0, -10)
	act, until := start.AddDate(0, 0, -20), start.AddDate(0, 0, 20)
	cap1 := 1
	v1 := int64(11)
	feeCharter := Charter{ID: 11, Version: 1, NoticeHours: 24, LateCancelAction: ActionFee, LateCancelFee: 1500,
		NoShowAction: ActionDeduct, Currency: "EUR"}
	current := Charter{ID: 12, Version: 2, NoticeHours: 48, LateCancelAction: ActionDeduct, NoShowAction: ActionNone, Currency: "EUR"}
	sessions := PackState{ID: 1, Kind: KindSessions, Status: StatusActive, Remaining: 3, ActivatedAt: &act, ValidUntil: &until}
	withFee := sessions
	withFee.CharterID = &v1
	period := PackState{ID: 2, Kind: KindPeriod, Status: StatusActive, ActivatedAt: &act, ValidUntil: &until}
	capped := period
	capped.WeeklyCap, capped.WeekCount = &cap1, 1
	recorded := Attended
	base := func(asked string, packs ...PackState) OutcomeFacts {
		return OutcomeFacts{BookingID: 9, SessionID: 8, ClientID: 7, Asked: asked, Now: after, Announced: after,
			StartsAt: start, BookedAt: booked, Packs: packs, Bought: len(packs) > 0, Currency: "EUR",
			Charters: map[int64]Charter{11: feeCharter, 12: current}}
	}
	type want struct {
		outcome string
		entry   *Entry
		pack    int64
		charter int64
		code    string
	}
	cases := []struct {
		name string
		f    OutcomeFacts
		want want
	}{
		{"attended deducts from a sessions pack", base(Attended, sessions),
			want{Attended, &Entry{Kind: "attended", PackID: 1, Delta: -1}, 1, 0, ""}},
		{"a period pack counts, not deducts", base(Attended, period),
			want{Attended, &Entry{Kind: "attended", PackID: 2}, 2, 0, ""}},
		{"weekly cap reached: refused", base(Attended, capped), want{Attended, nil, 0, 0, errs.InsufficientBalance}},
		{"no pack: refused", base(Attended), want{Attended, nil, 0, 12, errs.InsufficientBalance}},
		{"no-show free under the current charter", base(NoShow), want{NoShow, nil, 0, 12, ""}},
		{"late cancellation without a pack stands", func() OutcomeFacts {
			f := base(Cancelled)
			f.Announced = start.Add(-time.Hour)
			return f
		}(), want{LateCancelled, nil, 0, 12, ""}},
		{"a fee is owed by the pack's charter", func() OutcomeFacts {
			f := base(Cancelled, withFee)
			f.Announced = start.Add(-time.Hour)
			return f
		}(), want{LateCancelled, &Entry{Kind: "late_cancel", PackID: 1, Fee: 1500, Currency: "EUR"}, 1, 11, ""}},
		{"a fee without a pack, by the newest pack's charter", func() OutcomeFacts {
			f := base(Cancelled)
			f.Announced, f.Bought, f.NewestCharter = start.Add(-time.Hour), true, &v1
			return f
		}(), want{LateCancelled, &Entry{Kind: "late_cancel", Fee: 1500, Currency: "EUR"}, 0, 11, ""}},
		{"cancelled in time costs nothing", func() OutcomeFacts {
			f := base(Cancelled, sessions)
			f.Announced = start.AddDate(0, 0, -2)
			return f
		}(), want{Cancelled, nil, 1, 0, ""}},
		{"a pack bought before any charter is judged by the defaults", func() OutcomeFacts {
			f := base(NoShow)
			f.Bought = true
			return f
		}(), want{NoShow, nil, 0, 0, errs.InsufficientBalance}},
		{"attendance before the start", func() OutcomeFacts {
			f := base(Attended, sessions)
			f.Now = start.Add(-time.Minute)
			return f
		}(), want{"", nil, 0, 0, errs.Invalid}},
		{"cancelled after the start", base(Cancelled, sessions), want{"", nil, 0, 0, errs.Conflict}},
		{"cancelled before the booking", func() OutcomeFacts {
			f := base(Cancelled, sessions)
			f.Announced = booked.Add(-time.Hour)
			return f
		}(), want{"", nil, 0, 0, errs.Invalid}},
		{"session cancelled by the coach", func() OutcomeFacts {
			f := base(Attended, sessions)
			f.SessionCancelled = true
			return f
		}(), want{"", nil, 0, 0, errs.Conflict}},
		{"coach cancels a cancelled session", func() OutcomeFacts {
			f := base(CoachCancelled, sessions)
			f.SessionCancelled = true
			return f
		}(), want{CoachCancelled, nil, 1, 0, ""}},
		{"the same outcome again is a replay", func() OutcomeFacts {
			f := base(Attended)
			f.Recorded = &recorded
			return f
		}(), want{Attended, nil, 0, 0, ""}},
		{"another outcome once recorded", func() OutcomeFacts {
			f := base(NoShow)
			f.Recorded = &recorded
			return f
		}(), want{"", nil, 0, 0, errs.Conflict}},
	}
	for _, c := range cases {
		d := Decide(c.f)
		var code string
		var e *errs.Error
		if errors.As(d.Refusal, &e) {
			code = e.Code
		}
		var pack int64
		if d.Pack != nil {
			pack = d.Pack.ID
		}
		switch {
		case code != c.want.code:
			t.Errorf("%s: refusal %v, want code %q", c.name, d.Refusal, c.want.code)
		case code != "":
		case d.Outcome != c.want.outcome || pack != c.want.pack || (!d.Replay && d.Charter.ID != c.want.charter):
			t.Errorf("%s: got %s pack %d charter %d, want %+v", c.name, d.Outcome, pack, d.Charter.ID, c.want)
		case (d.Entry == nil) != (c.want.entry == nil) || (d.Entry != nil && *d.Entry != *c.want.entry):
			t.Errorf("%s: entry %+v, want %+v", c.name, d.Entry, c.want.entry)
		}
	}
}

// A read-only query's list of statuses is written from the constants, as
// PostgreSQL reads a literal list.
func TestStatusSQL(t *testing.T) {
	cases := []struct {
		in   []Status
		want string
	}{
		{[]Status{StatusExhausted}, "('exhausted')"},
		{[]Status{StatusActive, StatusOverdue}, "('active', 'overdue')"},
		{liveStatuses, "('active', 'overdue', 'exhausted')"},
		{[]Status{StatusPending, StatusCancelled, StatusRefunded}, "('pending', 'cancelled', 'refunded')"},
	}
	for _, c := range cases {
		if got := StatusSQL(c.in...); got != c.want {
			t.Errorf("StatusSQL(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestActivationTerms(t *testing.T) {
	at := time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC)
	ten, ninety, two, paris := 10, 90, 2, "Europe/Paris"
	cases := []struct {
		name   string
		a      Activation
		until  string
		credit int
	}{
		{"sessions, the offer's validity", Activation{Kind: KindSessions, ValidityDays: &ninety, OfferSessions: &ten},
			"2026-05-01T23:30:00Z", 10},
		{"sessions, the default validity", Activation{Kind: KindSessions, OfferSessions: &ten}, "2026-07-30T23:30:00Z", 10},
		// 00:30 on 1 February in Paris: two months later is 1 April there.
		{"period, months in the coach's zone", Activation{Kind: KindPeriod, Months: &two, Timezone: &paris},
			"2026-03-31T22:30:00Z", 0},
		{"period, no zone read: UTC", Activation{Kind: KindPeriod, Months: &two}, "2026-03-31T23:30:00Z", 0},
	}
	for _, tc := range cases {
		until, credit := tc.a.Terms(at)
		if got := until.Format(time.RFC3339); got != tc.until || credit != tc.credit {
			t.Errorf("%s: until %s, %d sessions; want %s, %d", tc.name, got, credit, tc.until, tc.credit)
		}
	}
}
