package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestKeyEntries(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	coach := Coach{ID: 7, Timezone: "Europe/Paris"}
	cases := []struct {
		name  string
		steps func(e *keyEntries) bool // stores what the case needs; false if a put was refused
		at    time.Duration
		hit   bool
	}{
		{"just stored", func(e *keyEntries) bool { return e.put("k", coach, e.gen, t0) }, 0, true},
		{"a moment before the TTL ends", func(e *keyEntries) bool { return e.put("k", coach, e.gen, t0) }, KeyCacheTTL - time.Nanosecond, true},
		{"at the TTL's end", func(e *keyEntries) bool { return e.put("k", coach, e.gen, t0) }, KeyCacheTTL, false},
		{"long after", func(e *keyEntries) bool { return e.put("k", coach, e.gen, t0) }, time.Hour, false},
		{"another key", func(e *keyEntries) bool { return e.put("other", coach, e.gen, t0) }, 0, false},
		{"flushed", func(e *keyEntries) bool { ok := e.put("k", coach, e.gen, t0); e.flush(); return ok }, 0, false},
		{"read before a flush, stored after", func(e *keyEntries) bool {
			gen := e.gen
			e.flush()
			return !e.put("k", coach, gen, t0)
		}, 0, false},
		{"stored again after expiring", func(e *keyEntries) bool {
			return e.put("k", coach, e.gen, t0.Add(-KeyCacheTTL)) && e.put("k", coach, e.gen, t0)
		}, KeyCacheTTL / 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e keyEntries
			if !c.steps(&e) {
				t.Fatal("a put did not do what the case expects")
			}
			got, hit := e.get("k", t0.Add(c.at))
			if hit != c.hit || (hit && got != coach) {
				t.Fatalf("get at +%v: %+v %v, want hit %v", c.at, got, hit, c.hit)
			}
		})
	}
}

// The cache never holds more than keyCacheMax entries: past it, it starts
// again with the newest.
func TestKeyEntriesBound(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var e keyEntries
	for i := range keyCacheMax {
		e.put(fmt.Sprint(i), Coach{ID: int64(i)}, e.gen, t0)
	}
	if len(e.m) != keyCacheMax {
		t.Fatalf("%d entries, want %d", len(e.m), keyCacheMax)
	}
	e.put("newest", Coach{ID: -1}, e.gen, t0)
	if len(e.m) != 1 {
		t.Fatalf("%d entries past the bound, want 1", len(e.m))
	}
	if _, hit := e.get("newest", t0); !hit {
		t.Fatal("the newest entry is lost")
	}
	if _, hit := e.get("0", t0); hit {
		t.Fatal("an entry survived the bound")
	}
}

func TestProven(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		provenAt time.Time
		now      time.Time
		want     bool
	}{
		{"no heartbeat back yet", time.Time{}, t0, false},
		{"just back", t0, t0, true},
		{"a moment before it is too old", t0, t0.Add(proofMaxAge - time.Nanosecond), true},
		{"too old", t0, t0.Add(proofMaxAge), false},
		{"the clock went backwards", t0, t0.Add(-time.Second), false},
	}
	for _, c := range cases {
		if got := proven(c.provenAt, c.now); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
