package packs

import (
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
