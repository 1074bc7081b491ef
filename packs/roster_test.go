package packs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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

// Every order, read page by page, is the whole list sorted by that order's
// value then by name: ties, clients without the value and installments
// included (the page is chosen apart from its lines, so they must agree).
func TestClientListOrdersPageByPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	for i, n := range []int{5, 10, 5, 0, 7, 0, 12} {
		c := w.client(fmt.Sprintf("c%02d", 10-i)) // names sort against creation
		if n == 0 {
			continue
		}
		p := w.pack(c.ID, n)
		// Packs end on different days, two on the same; some have an installment due.
		if _, err := w.s.DB.Exec(`UPDATE packs SET valid_until = $2 WHERE id = $1`, p.ID,
			w.now.AddDate(0, 0, 10+i%3)); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := w.s.DB.Exec(`INSERT INTO installments (coach_id, pack_id, seq, due_at, amount, currency, status)
				VALUES ($1, $2, 2, $3, 1000, 'EUR', 'due')`, w.coach.ID, p.ID, w.now.AddDate(0, 0, 20-i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := w.s.ClientList(ctx, w.coach.ID, ClientQuery{PerPage: 200})
	if err != nil || len(all.Lines) != 7 {
		t.Fatalf("%v %d", err, len(all.Lines))
	}
	value := map[string]func(l ClientLine) (int64, bool){
		"balance": func(l ClientLine) (int64, bool) {
			if l.SessionsLeft == nil {
				return 0, false
			}
			return int64(*l.SessionsLeft), true
		},
		"valid_until": func(l ClientLine) (int64, bool) {
			if l.ValidUntil == nil {
				return 0, false
			}
			return l.ValidUntil.Unix(), true
		},
		"next_due": func(l ClientLine) (int64, bool) {
			if l.NextDue == nil {
				return 0, false
			}
			return l.NextDue.Unix(), true
		},
	}
	for sort, val := range value {
		want := slices.Clone(all.Lines) // already by name
		nullsFirst := sort == "balance"
		slices.SortStableFunc(want, func(a, b ClientLine) int {
			va, oka := val(a)
			vb, okb := val(b)
			switch {
			case oka != okb:
				if oka == nullsFirst {
					return 1
				}
				return -1
			case !oka:
				return 0
			}
			return cmp.Compare(va, vb)
		})
		var got []ClientLine
		for page := 1; page <= 3; page++ {
			p, err := w.s.ClientList(ctx, w.coach.ID, ClientQuery{Sort: sort, PerPage: 3, Page: page})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Lines...)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d lines over the pages, want %d", sort, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Name != want[i].Name {
				t.Errorf("%s: line %d is %s, want %s", sort, i, got[i].Name, want[i].Name)
			}
		}
	}
}
