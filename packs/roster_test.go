package packs

import (
	"context"
	"testing"
	"time"
)

func TestClientLineMarkers(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	n := func(i int) *int { return &i }
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	for _, c := range []struct {
		name          string
		line          ClientLine
		low, expiring bool
		days          int
	}{
		{"no pack", ClientLine{}, false, false, 0},
		{"two left", ClientLine{SessionsLeft: n(2), ValidUntil: at(30 * 24 * time.Hour)}, true, false, 0},
		{"three left", ClientLine{SessionsLeft: n(3), ValidUntil: at(30 * 24 * time.Hour)}, false, false, 0},
		{"ends in six days", ClientLine{SessionsLeft: n(8), ValidUntil: at(6 * 24 * time.Hour)}, false, true, 0},
		{"ends in exactly seven days", ClientLine{SessionsLeft: n(8), ValidUntil: at(7 * 24 * time.Hour)}, false, false, 0},
		{"period pack, low sessions do not count", ClientLine{SessionsLeft: n(0), PeriodUntil: at(36 * time.Hour),
			ValidUntil: at(36 * time.Hour)}, false, true, 2},
	} {
		if got := c.line.Low(); got != c.low {
			t.Errorf("%s: Low = %v", c.name, got)
		}
		if got := c.line.Expiring(now); got != c.expiring {
			t.Errorf("%s: Expiring = %v", c.name, got)
		}
		if got := c.line.DaysLeft(now); got != c.days {
			t.Errorf("%s: DaysLeft = %d, want %d", c.name, got, c.days)
		}
	}
}

// The list searches, sorts and pages within the coach's own clients, and
// shows each client's balance.
func TestClientListSearchSortPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	other := newWorld(t)
	other.client("zoe")
	ana, bob, cleo := w.client("ana"), w.client("bob"), w.client("cleo")
	w.pack(ana.ID, 10)
	w.pack(bob.ID, 5)
	ctx := context.Background()
	names := func(p ClientPage) (out []string) {
		for _, l := range p.Lines {
			out = append(out, l.Name)
		}
		return out
	}
	p, err := w.s.ClientList(ctx, w.coach.ID, ClientQuery{PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(p); p.Total != 3 || p.Pages() != 2 || len(got) != 2 || got[0] != "ana" || got[1] != "bob" {
		t.Fatalf("page 1 by name: %v total %d pages %d", got, p.Total, p.Pages())
	}
	if *p.Lines[0].SessionsLeft != 10 || *p.Lines[1].SessionsLeft != 5 {
		t.Fatalf("balances %v %v", *p.Lines[0].SessionsLeft, *p.Lines[1].SessionsLeft)
	}
	if p, _ = w.s.ClientList(ctx, w.coach.ID, ClientQuery{PerPage: 2, Page: 2}); len(p.Lines) != 1 || p.Lines[0].ID != cleo.ID || p.Lines[0].SessionsLeft != nil {
		t.Fatalf("page 2: %+v", p.Lines)
	}
	if p, _ = w.s.ClientList(ctx, w.coach.ID, ClientQuery{Sort: "balance"}); names(p)[0] != "cleo" || names(p)[1] != "bob" {
		t.Fatalf("by balance: %v", names(p))
	}
	if p, _ = w.s.ClientList(ctx, w.coach.ID, ClientQuery{Search: "BO"}); p.Total != 1 || names(p)[0] != "bob" {
		t.Fatalf("search bo: %v", names(p))
	}
	if p, _ = w.s.ClientList(ctx, w.coach.ID, ClientQuery{Search: "zoe"}); p.Total != 0 {
		t.Fatalf("another coach's client was found: %v", names(p))
	}
	if _, err := w.s.ClientList(ctx, w.coach.ID, ClientQuery{Sort: "id; drop table clients"}); err == nil {
		t.Fatal("an unknown sort was accepted")
	}
}
